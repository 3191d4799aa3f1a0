/* jobs.h - asynchronous jobs (POST /v1/jobs): a request admitted like POST /v1/enhance whose
 * answer is kept in a table instead of being sent on the connection, so a big image can be
 * followed (GET /v1/jobs/ID: state, tiles done/total, time left), fetched later
 * (GET /v1/jobs/ID/result) or cancelled (DELETE /v1/jobs/ID: the compute stops at the next tile,
 * through the job's cancel flag, as when a client of /v1/enhance goes away).
 *
 * Bounds: finished jobs are removed ttl_s after they finished, and the oldest finished ones
 * first while the results together exceed max_bytes; at most max_jobs entries (running ones
 * count), beyond which new jobs are refused (429).
 * Also the server's measured speed (seconds of compute per output megapixel, per route), from
 * which a job's cost is estimated before it runs and deadline errors say how long it would take.
 *
 * Ownership: the table owns every job added to it (serve_job_free when removed).
 * Thread-safety: all functions lock the table; lock order: table, then srv->mu (never the
 * reverse: the scheduler calls the completion callback without srv->mu).
 * Errors: enh_status + message (ENH_EBUSY when the table is full).
 */
#ifndef ENH_SERVE_JOBS_H
#define ENH_SERVE_JOBS_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

struct serve_job;
struct enh_server;
struct MHD_Response;
typedef struct serve_jobs serve_jobs;

serve_jobs *serve_jobs_create(double ttl_s, size_t max_bytes, int max_jobs);
/* After the scheduler stopped (every job finished): frees the table and its jobs. */
void serve_jobs_free(serve_jobs *t);

/* Adds an admitted-to-be job (before serve_admit, so its completion always finds it): sets its
 * done callback; id_out gets its id (>= 33 bytes). filename: the client's file name or NULL. */
enh_status serve_jobs_add(serve_jobs *t, struct serve_job *j, const char *filename, double est_s,
                          double out_mp, char *id_out, enh_error *err);
/* Takes back a job serve_admit refused (the caller frees it). */
void serve_jobs_forget(serve_jobs *t, const char *id);

/* The job's state as JSON (NULL: no such job): id, state (queued | running | done | failed |
 * cancelled), tiles_done, tiles_total (null until known), progress (0..1), elapsed_s, eta_s
 * (null when unknown), estimate {output_megapixels, seconds}, output {width, height, bytes,
 * mime, filename} when done, error {code, type, message} when failed; moderation (as a blocked
 * request's details.moderation) once finished when moderation=flag|block ran. */
json_t *serve_jobs_status(serve_jobs *t, struct enh_server *s, const char *id);

/* Result of a finished job: 0 and *resp, an answer holding a copy of the output with its
 * Content-Type, Content-Disposition (the download name) and, when moderation ran, X-Moderation*
 * headers (*len: the body's bytes); 1 when it is still running (*tiles_done of *tiles_total, for
 * the message); 2 when it failed (*code, *type, msg; out_of_memory when the copy could not be
 * made); -1 when there is no such job. */
int serve_jobs_result(serve_jobs *t, struct enh_server *s, const char *id, struct MHD_Response **resp, size_t *len,
                      int *code, const char **type, char *msg, size_t msg_n, int *tiles_done, int *tiles_total);

/* Cancels a running job (freed when its compute stops) or removes a finished one. 0, or -1
 * when there is no such job. *was_running tells which. */
int serve_jobs_cancel(serve_jobs *t, struct enh_server *s, const char *id, int *was_running);

/* Measured speed: a finished request's compute time for its output pixels on route. */
void serve_jobs_speed_record(serve_jobs *t, const char *route, double out_pixels, double compute_s);
/* Seconds the route needs for out_pixels at the measured speed; -1 before any measurement. */
double serve_jobs_speed_estimate(serve_jobs *t, const char *route, double out_pixels);

/* The upscale factor a job applies (0 = none), for its download name. */
double serve_job_scale(const struct serve_job *j);

#endif
