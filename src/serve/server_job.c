/* server_job.c - a job's bookkeeping that both the scheduler (server.c) and the encode
 * stage's tile runner (server_encode.c) do: a leaf, so those two files do not depend on each
 * other. Thread-safety: takes s->mu. */
#include "serve/server_internal.h"

void serve_compute_started(enh_server *s, serve_job *j)
{
    pthread_mutex_lock(&s->mu);
    if (j->queued_counted) {
        serve_metrics_queue_add(s->metrics, j->route, -1);
        j->queued_counted = 0;
    }
    pthread_mutex_unlock(&s->mu);
}
