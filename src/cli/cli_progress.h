/* cli_progress.h - a one-line progress bar on stderr for long work.
 *
 * Drawn only when enabled (stderr is a TTY and not --quiet); redraws are throttled to
 * ~10 per second; the ETA comes from the time since cli_progress_init and the fraction done. Thread-safe (callbacks may come from worker threads). */
#ifndef ENH_CLI_PROGRESS_H
#define ENH_CLI_PROGRESS_H

#include <pthread.h>

typedef struct cli_progress {
    int enabled;
    int drawn;            /* a line is on screen */
    double t0, last_draw;
    pthread_mutex_t mu;
} cli_progress;

void cli_progress_init(cli_progress *p, int enabled);
void cli_progress_destroy(cli_progress *p);
/* Draws "label [#####-----]  45%  ETA 0:12" (fraction in 0..1; force = skip throttling). */
void cli_progress_draw(cli_progress *p, const char *label, double fraction, int force);
/* Erases the line (before printing something else). */
void cli_progress_clear(cli_progress *p);

#endif
