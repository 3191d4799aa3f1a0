/* net_speed.h - how long a restoration network takes per megapixel on this machine, for the
 * deadline checks and --explain: the runs of this process, else a figure measured for the docs.
 *
 * Kept as thread-seconds per MP (seconds x threads, which stays nearly constant across thread
 * counts for these compute-bound models), a moving average of the last runs of each model.
 * The default (no run yet) is MAXIM's cost measured on a quiet 2-core machine: 256x256 in ~4 s
 * at 2 threads = 61 s per MP, i.e. ~120 thread-seconds per MP (2.36 M multiply-adds per pixel).
 * Thread-safety: thread-safe (one mutex). Errors: none.
 */
#ifndef ENH_ENHANCE_NET_SPEED_H
#define ENH_ENHANCE_NET_SPEED_H

#define ENH_NET_DEFAULT_THREAD_S_PER_MP 120.0

/* Estimated seconds per MP for model `name` at `threads` threads. */
double enh_net_seconds_per_mp(const char *name, int threads);
/* Records one run: seconds per MP measured at `threads` threads. */
void enh_net_record(const char *name, int threads, double seconds_per_mp);

#endif
