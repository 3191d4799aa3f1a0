/* server_check.h - checks and moderation in the server: POST /v1/check jobs (decode on an I/O
 * worker, the check on a pipeline worker, JSON answer), and the moderation of enhance requests
 * (moderation=flag|block, the server's --moderation floor): the classifier runs right after
 * the decode, before the job enters the pipeline queue, so a blocked image costs a decode and a
 * 224x224 classification, nothing else.
 *
 * The server's checker (the classifier and the BRISQUE model, enhance/check.h) is made on first
 * use under srv->mu and loads each model once; a model that is not installed is looked for
 * again on the next request, so `enhance models fetch` needs no restart.
 *
 * Ownership: a job's serve_check belongs to the job (freed by serve_job_free); the server's
 * serve_checks by the server (serve_checks_free at stop). Thread-safety: the hooks run on the
 * job's worker; the checker is shared (its own mutex). Errors: a blocked image is ENH_EINVAL
 * with the job's class "moderation_blocked" (HTTP 422, serve_check_error_type); a moderation
 * that was asked for and cannot run is the classifier's error (model_not_found when missing). */
#ifndef ENH_SERVE_SERVER_CHECK_H
#define ENH_SERVE_SERVER_CHECK_H

#include <jansson.h>
#include <microhttpd.h>

#include "core/error.h"
#include "enhance/check.h"
#include "enhance/ops.h"
#include "serve/serve.h"

struct serve_job;
struct enh_server;
typedef struct serve_checks serve_checks;

/* A job's check state. */
typedef struct serve_check {
    int is_check;            /* a POST /v1/check job (else: the moderation of an enhance job) */
    enh_moderation mode;     /* enhance jobs: the effective moderation */
    enh_check_opts opts;     /* check jobs: what to run, the policy */
    enh_check_result res;
    int ran;                 /* moderation ran (res holds probabilities and decision) */
    int blocked;             /* the job was refused by the policy */
    char *json;              /* check jobs: the answer */
} serve_check;

/* The server's moderation settings, checked at start: the policy parses. */
enh_status serve_checks_validate(const enh_serve_options *o, enh_error *err);
void serve_checks_free(serve_checks *c);
/* Loads the classifier now (the server starts with --moderation flag|block): a missing model
 * fails the start with the command that installs it, not every request later. */
enh_status serve_checks_preload(struct enh_server *s, enh_error *err);

/* A new check job's state with the server's policy (the request may override it after, when
 * the server allows it). NULL on out of memory. */
serve_check *serve_check_new_job(struct enh_server *s);
void serve_check_free(serve_check *c);

/* Scheduler hooks (server.c). After the decode: the moderation of an enhance job; ENH_OK when
 * the job goes on (flagged or allowed), else the failure (serve_finish with it). */
enh_status serve_check_gate(struct enh_server *s, struct serve_job *j, enh_error *err);
/* On a pipeline worker: runs a check job (j->check->is_check); the caller finishes the job with
 * the status (a leaf of server.c: this file never calls the scheduler back). */
enh_status serve_check_run_job(struct enh_server *s, struct serve_job *j, enh_error *err);
/* "moderation_blocked" for a job the policy refused, else NULL. */
const char *serve_check_error_type(const struct serve_job *j);

/* HTTP side: the X-Moderation headers of a job whose moderation ran; the details of a blocked
 * job's 422 (probabilities, the rules that fired, the policy; NULL when none or out of memory). */
void serve_check_add_headers(struct MHD_Response *resp, const struct serve_job *j);
json_t *serve_check_details(const struct serve_job *j);

#endif
