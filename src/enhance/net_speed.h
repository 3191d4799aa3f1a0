/* net_speed.h - how long a restoration network takes per megapixel on this machine, for the
 * deadline checks and --explain: the runs of this process, else a figure measured for the docs.
 *
 * Kept as thread-seconds per MP (seconds x threads, which stays nearly constant across thread
 * counts for these compute-bound models), a moving average of the last runs of each model.
 * The default (no run yet) is each network's 1 MP run on a quiet 2-core machine (1280x800, whole,
 * at 2 threads, load < 2; bench/quality/README.md): denoising 76 s per MP in the network,
 * deblurring 80, enhancement 55 (so ~150/160/110 thread-seconds per MP); other names 120.
 * Thread-safety: thread-safe (one mutex). Errors: none.
 */
#ifndef ENH_ENHANCE_NET_SPEED_H
#define ENH_ENHANCE_NET_SPEED_H

#define ENH_NET_DEFAULT_THREAD_S_PER_MP 120.0 /* a network not measured */

/* Estimated seconds per MP for model `name` at `threads` threads. */
double enh_net_seconds_per_mp(const char *name, int threads);
/* Records one run: seconds per MP measured at `threads` threads. */
void enh_net_record(const char *name, int threads, double seconds_per_mp);

#endif
