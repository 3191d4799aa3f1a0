/* cmd_serve.c - `enhance serve`: the HTTP inference server (src/serve) with signal handling:
 * SIGTERM/SIGINT drain gracefully (readyz 503, in-flight requests finish within
 * --drain-timeout, then exit 0), SIGHUP reloads the model configuration. */
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "enhance/ops_table.h"
#include "serve/serve.h"

/* The operations' query keys, from the operations table, wrapped under the endpoint's text. */
static void print_query_keys(FILE *f)
{
    char keys[1024];
    enh_ops_query_keys(keys, sizeof keys, " ");
    int col = 0; /* characters on the current line after the indent */
    for (char *w = strtok(keys, " "); w; w = strtok(NULL, " ")) {
        int l = (int)strlen(w);
        if (col && col + 1 + l > 84) {
            fputc('\n', f);
            col = 0;
        }
        fprintf(f, "%s%s", col ? " " : "                     ", w);
        col += l + (col ? 1 : 0);
    }
    fputc('\n', f);
}

/* The test hooks exist only in builds configured with ENH_TEST_HOOKS (scripts/build.sh: the
 * trees the suite runs), not in the shipped command. */
#ifdef ENH_TEST_HOOKS
#define DEBUG_DELAY_HELP "  --debug-delay-ms N       testing aid: every request computes N ms longer (cancellable)\n"
#else
#define DEBUG_DELAY_HELP ""
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: enhance serve [options]\n"
            "\n"
            "Runs the HTTP inference server (loopback by default).\n"
            "\n"
            "Endpoints:\n"
            "  POST /v1/enhance   body = image bytes (Content-Type image/*), operations as query keys, e.g.\n"
            "                     curl --data-binary @in.jpg -H 'Content-Type: image/jpeg' \\\n"
            "                       'http://127.0.0.1:8080/v1/enhance?upscale=photo&scale=2&format=webp' -o out.webp\n"
            "                     or multipart/form-data with an 'image' part and an 'operations' JSON part\n"
            "                     (schema: `enhance ops --schema`). Query keys (values as in the operations\n"
            "                     JSON; `enhance ops --describe` or GET /v1/ops gives each one's CLI flag):\n");
    print_query_keys(f);
    fprintf(f,
            "                     priority=high|normal|batch, deadline_ms=N (also headers X-Priority,\n"
            "                     X-Deadline-Ms).\n"
            "                     Answer: the image, with X-Image-Width/Height, X-Model, X-Tiles, X-Timing-*-Ms,\n"
            "                     Server-Timing, X-Request-Id. Errors: JSON {\"error\": {code, type, message, details}}\n"
            "                     400 413 415 422 429(+Retry-After) 503 504.\n"
            "                     filename=NAME (the upload's name) names the result: Content-Disposition\n"
            "                     garden_x4_photo.jpg. A deadline error says what to do instead.\n"
            "  POST /v1/jobs      the same request as an asynchronous job, for big images: 202 {id, estimate}\n"
            "                     (+ Location) at once; GET /v1/jobs/ID: state (queued|running|done|failed|\n"
            "                     cancelled), tiles_done/tiles_total, progress, eta_s, explain; GET /v1/jobs/ID/result:\n"
            "                     the image (409 while running); DELETE /v1/jobs/ID cancels (the compute stops at\n"
            "                     the next tile) or removes. No default deadline. Results are kept --job-ttl\n"
            "                     seconds and --job-max-bytes in all (the oldest go first). dry_run=true:\n"
            "                     only the cost (output MP, seconds at this server's measured speed).\n"
            "  POST /v1/check     body = image bytes: moderation (class probabilities, the policy's decision\n"
            "                     allow|review|block and the rules that fired), BRISQUE and the assessment, as\n"
            "                     JSON (`enhance check --help`). Query keys: skip=moderation|brisque|assess,\n"
            "                     require=..., policy=SPEC (with --allow-policy-override). A missing classifier\n"
            "                     or BRISQUE model is reported in the answer with how to install it.\n"
            "                     moderation=flag on the enhance endpoints adds X-Moderation (probabilities)\n"
            "                     and X-Moderation-Decision; moderation=block answers 422 moderation_blocked\n"
            "                     (details: probabilities, rules) before any other work.\n"
            "  GET /v1/ops        every operation: its query key, CLI flag, JSON path, type, values, default\n"
            "  GET /v1/models     served models (name, scale, purpose, loaded, ready, settings)\n"
            "  GET /healthz       liveness;  GET /readyz  readiness (200 once every model is loaded and warmed up,\n"
            "                     503 while loading or draining);  GET /metrics  Prometheus text;  GET /  web page\n"
            "\n"
            "Options:\n"
            "  --host ADDR              listen address (default 127.0.0.1; 0.0.0.0 for all interfaces)\n"
            "  --port N                 TCP port (default 8080; 0 = any free port, see --port-file)\n"
            "  --port-file FILE         write the bound port to FILE once listening\n"
            "  --models-config PATH     JSON model config or model-repository folder (default: every model of\n"
            "                           the manifest installed in $ENHANCE_MODELS_DIR or ~/.cache/enhance/models,\n"
            "                           as the CLI uses them; the log says which; SIGHUP picks up new ones). JSON:\n"
            "                           {\"models_dir\": DIR, \"defaults\": {...}, \"models\": [{\"name\": ..,\n"
            "                           \"instances\": 1, \"tile_size\": 0, \"max_batch\": 4,\n"
            "                           \"max_queue_delay_ms\": 2, \"max_queue\": 32, \"default_deadline_ms\": 60000,\n"
            "                           \"precision\": \"fp32\"|\"bf16\"}]}; one network in both precisions: two\n"
            "                           entries, the second with \"param\" naming the same .param\n"
            "  --api-key-file FILE      require 'Authorization: Bearer <key>' on /v1/enhance and /v1/models (key =\n"
            "                           file content)\n"
            "  --max-body SIZE          request body cap (default 50M; suffix K, M, G)\n"
            "  --max-body-memory SIZE   bytes of request bodies held in memory at once (default 2 x --max-body);\n"
            "                           a body past it is answered 503 + Retry-After as soon as its length is\n"
            "                           known (a chunked one when it passes)\n"
            "  --upload-dir DIR         bodies over --spool-threshold (default 8M) are kept in anonymous files\n"
            "                           here, not in memory (default $TMPDIR, else /tmp; put it on a disk, not a\n"
            "                           tmpfs); at most --max-upload-spool SIZE at once (default 20 x --max-body)\n"
            "  --client-body-share F    of --max-body-memory and of --max-upload-spool, what one client address\n"
            "                           may hold at once (default 0.25; 1 = no share): past it, that address's\n"
            "                           next upload is a 503 + Retry-After while other addresses still get in\n"
            "                           (its first body always may). Behind a proxy every client has the\n"
            "                           proxy's address: name it in --trusted-proxies (or use 1)\n"
            "  --trusted-proxies LIST   addresses or CIDR blocks (comma-separated, e.g. 10.0.0.0/8,::1) of the\n"
            "                           load balancers in front: for a request from one of them the client is\n"
            "                           the rightmost X-Forwarded-For address that is not a trusted proxy (for\n"
            "                           --client-body-share); from any other peer the header is ignored\n"
            "  --max-pixels N           input pixel cap (default 50000000)\n"
            "  --max-output-pixels N    output pixel cap (default 200000000)\n"
            "  --cores N                compute cores to use (default: all online); model instances x intra-op\n"
            "                           threads never exceed them\n"
            "  --io-threads N           decode/encode workers (default 2)\n"
            "  --pipeline-threads N     pipeline workers (default 2 x sum of instances x max_batch + 2)\n"
            "  --http-threads N         HTTP threads (default 2)\n"
            "  --drain-timeout S        seconds in-flight requests get to finish on SIGTERM (default 30)\n"
            "  --header-timeout S       a request's headers must arrive within S seconds, however they trickle\n"
            "                           (default 10)\n"
            "  --max-connections N      connections at once (default 512; lowered to fit the descriptor limit)\n"
            "  --max-client-connections N  connections one address may hold (default 256, half the total)\n"
            "  --idle-timeout S         a kept-alive connection waits S seconds for its next request (default\n"
            "                           75: longer than a load balancer's usual 60, so it closes first)\n"
            "  --probe-port N           also answer /healthz, /readyz and /metrics (only) on port N, outside\n"
            "                           --max-connections: probes still get in when the main port is full\n"
            "                           (16 connections there, at most 4 from one address)\n"
            "  --web-dir DIR            serve DIR/index.html at / instead of the built-in page\n"
            "  --cors-origin ORIGIN     send Access-Control-Allow-Origin: ORIGIN (e.g. https://app.example or *)\n"
            "                           and answer preflights, for pages served elsewhere (default: off)\n"
            "  --job-ttl S              asynchronous results are kept S seconds after they finish (default 600)\n"
            "  --job-max-bytes SIZE     ... and at most SIZE in all (default 512M)\n"
            "  --no-access-log          no log line per request (default: one at info; probes at debug)\n"
            "  --moderation MODE        off|flag|block: the least moderation of every enhance request (default\n"
            "                           off); a request's moderation= may ask for more, never less\n"
            "  --moderation-policy P    the policy of moderation and /v1/check (default: porn/hentai review 0.6,\n"
            "                           block 0.9; sexy review 0.8; see `enhance check --help`)\n"
            "  --allow-policy-override  POST /v1/check may send its own policy=SPEC\n"
            "  --classifier NAME        the moderation model (default nsfwjs-mobilenetv2)\n"
            "  --log-level LEVEL        error|warn|info|debug (default info)\n"
            DEBUG_DELAY_HELP
            "  -h, --help               this help\n"
            "\n"
            "Signals: SIGTERM/SIGINT drain then exit (0 when every request finished), SIGHUP reloads the\n"
            "model config without dropping requests.\n");
}

static int parse_long(const char *opt, const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "enhance serve: %s needs an integer in %lld..%lld, got '%s'\n", opt, lo, hi, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_size(const char *opt, const char *v, size_t *out)
{
    char *end;
    errno = 0;
    double x = v ? strtod(v, &end) : 0;
    if (!v || end == v || errno || x <= 0) {
        fprintf(stderr, "enhance serve: %s needs a size like 50M, got '%s'\n", opt, v ? v : "");
        return -1;
    }
    double mul = 1;
    switch (toupper((unsigned char)*end)) {
    case 0: break;
    case 'K': mul = 1024; end++; break;
    case 'M': mul = 1024 * 1024; end++; break;
    case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    default: end = NULL; break;
    }
    if (!end || (*end && strcasecmp(end, "B") && strcasecmp(end, "iB"))) {
        fprintf(stderr, "enhance serve: %s needs a size like 50M, got '%s'\n", opt, v);
        return -1;
    }
    *out = (size_t)(x * mul);
    return 0;
}

static int read_key(const char *path, char *out, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    enh_error err;
    if (enh_read_file(path, 4096, &text, &len, &err)) {
        fprintf(stderr, "enhance serve: --api-key-file: %s\n", err.msg);
        return -1;
    }
    while (len && isspace((unsigned char)text[len - 1]))
        text[--len] = 0;
    char *p = text;
    while (*p && isspace((unsigned char)*p))
        p++;
    if (!*p || strlen(p) >= n) {
        fprintf(stderr, "enhance serve: --api-key-file %s is empty or longer than %zu bytes\n", path, n - 1);
        free(text);
        return -1;
    }
    snprintf(out, n, "%s", p);
    free(text);
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    enh_serve_options o;
    enh_serve_options_init(&o);
    /* large uploads are spooled here (the library takes the folder as a value) */
    const char *tmpdir = getenv("TMPDIR");
    snprintf(o.upload_dir, sizeof o.upload_dir, "%s", tmpdir && *tmpdir ? tmpdir : "/tmp");
    const char *port_file = NULL;
    enh_log_level level = ENH_LOG_INFO;
    if (getenv("ENHANCE_LOG"))
        level = enh_log_get_level();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long x;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
#define NEED_VALUE                                                                     \
    do {                                                                               \
        if (!v) {                                                                      \
            fprintf(stderr, "enhance serve: %s needs a value (see --help)\n", a);      \
            return 1;                                                                  \
        }                                                                              \
        i++;                                                                           \
    } while (0)
        if (!strcmp(a, "--host")) {
            NEED_VALUE;
            snprintf(o.host, sizeof o.host, "%s", v);
        } else if (!strcmp(a, "--port")) {
            NEED_VALUE;
            if (parse_long(a, v, 0, 65535, &x))
                return 1;
            o.port = (int)x;
        } else if (!strcmp(a, "--port-file")) {
            NEED_VALUE;
            port_file = v;
        } else if (!strcmp(a, "--models-config") || !strcmp(a, "--model-repository")) {
            NEED_VALUE;
            snprintf(o.models_config, sizeof o.models_config, "%s", v);
        } else if (!strcmp(a, "--api-key-file")) {
            NEED_VALUE;
            if (read_key(v, o.api_key, sizeof o.api_key))
                return 1;
        } else if (!strcmp(a, "--max-body")) {
            NEED_VALUE;
            if (parse_size(a, v, &o.max_body_bytes))
                return 1;
        } else if (!strcmp(a, "--max-body-memory")) {
            NEED_VALUE;
            if (parse_size(a, v, &o.max_body_memory))
                return 1;
        } else if (!strcmp(a, "--max-upload-spool")) {
            NEED_VALUE;
            if (parse_size(a, v, &o.max_upload_spool))
                return 1;
        } else if (!strcmp(a, "--client-body-share")) {
            NEED_VALUE;
            char *end;
            errno = 0;
            double f = strtod(v, &end);
            if (end == v || *end || errno || !(f > 0 && f <= 1)) {
                fprintf(stderr, "enhance serve: --client-body-share needs a fraction in (0, 1] such as 0.25, got "
                                "'%s'\n", v);
                return 1;
            }
            o.client_body_share = f;
        } else if (!strcmp(a, "--trusted-proxies")) {
            NEED_VALUE;
            if (strlen(v) >= sizeof o.trusted_proxies) { /* the addresses themselves: enh_serve_start */
                fprintf(stderr, "enhance serve: --trusted-proxies: at most %zu characters\n",
                        sizeof o.trusted_proxies - 1);
                return 1;
            }
            snprintf(o.trusted_proxies, sizeof o.trusted_proxies, "%s", v);
        } else if (!strcmp(a, "--spool-threshold")) {
            NEED_VALUE;
            if (parse_size(a, v, &o.spool_threshold))
                return 1;
        } else if (!strcmp(a, "--upload-dir")) {
            NEED_VALUE;
            snprintf(o.upload_dir, sizeof o.upload_dir, "%s", v);
        } else if (!strcmp(a, "--max-connections")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 1000000, &x))
                return 1;
            o.max_connections = (int)x;
        } else if (!strcmp(a, "--probe-port")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 65535, &x))
                return 1;
            o.probe_port = (int)x;
        } else if (!strcmp(a, "--idle-timeout")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 3600, &x))
                return 1;
            o.idle_timeout_s = (double)x;
        } else if (!strcmp(a, "--max-pixels")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 1LL << 40, &x))
                return 1;
            o.max_pixels = x;
        } else if (!strcmp(a, "--max-output-pixels")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 1LL << 40, &x))
                return 1;
            o.max_output_pixels = x;
        } else if (!strcmp(a, "--cores")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 1024, &x))
                return 1;
            o.cores = (int)x;
        } else if (!strcmp(a, "--io-threads")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 256, &x))
                return 1;
            o.io_threads = (int)x;
        } else if (!strcmp(a, "--pipeline-threads")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 256, &x))
                return 1;
            o.pipeline_threads = (int)x;
        } else if (!strcmp(a, "--http-threads")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 64, &x))
                return 1;
            o.http_threads = (int)x;
        } else if (!strcmp(a, "--header-timeout")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 3600, &x))
                return 1;
            o.header_timeout_s = (double)x;
        } else if (!strcmp(a, "--max-client-connections")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 100000, &x))
                return 1;
            o.max_client_connections = (int)x;
        } else if (!strcmp(a, "--drain-timeout")) {
            NEED_VALUE;
            if (parse_long(a, v, 0, 3600, &x))
                return 1;
            o.drain_timeout_s = (double)x;
        } else if (!strcmp(a, "--web-dir")) {
            NEED_VALUE;
            o.web_dir = v;
        } else if (!strcmp(a, "--cors-origin")) {
            NEED_VALUE;
            if (!*v || strlen(v) >= sizeof o.cors_origin || strpbrk(v, "\r\n")) {
                fprintf(stderr, "enhance serve: --cors-origin needs an origin such as https://app.example or *\n");
                return 1;
            }
            snprintf(o.cors_origin, sizeof o.cors_origin, "%s", v);
        } else if (!strcmp(a, "--job-ttl")) {
            NEED_VALUE;
            if (parse_long(a, v, 1, 7 * 86400, &x))
                return 1;
            o.job_ttl_s = (double)x;
        } else if (!strcmp(a, "--job-max-bytes")) {
            NEED_VALUE;
            if (parse_size(a, v, &o.job_max_bytes))
                return 1;
        } else if (!strcmp(a, "--no-access-log")) {
            o.access_log = 0;
        } else if (!strcmp(a, "--moderation")) {
            NEED_VALUE;
            if (!strcmp(v, "off") || !strcmp(v, "flag") || !strcmp(v, "block")) {
                o.moderation = !strcmp(v, "off") ? 0 : !strcmp(v, "flag") ? 1 : 2;
            } else {
                fprintf(stderr, "enhance serve: --moderation must be off, flag or block, got '%s'\n", v);
                return 1;
            }
        } else if (!strcmp(a, "--moderation-policy")) {
            NEED_VALUE;
            if (strlen(v) >= sizeof o.moderation_policy) {
                fprintf(stderr, "enhance serve: --moderation-policy is too long\n");
                return 1;
            }
            snprintf(o.moderation_policy, sizeof o.moderation_policy, "%s", v);
        } else if (!strcmp(a, "--allow-policy-override")) {
            o.allow_policy_override = 1;
        } else if (!strcmp(a, "--classifier")) {
            NEED_VALUE;
            snprintf(o.classifier, sizeof o.classifier, "%.63s", v);
#ifdef ENH_TEST_HOOKS
        } else if (!strcmp(a, "--debug-delay-ms")) {
            NEED_VALUE;
            if (parse_long(a, v, 0, 600000, &x))
                return 1;
            o.debug_delay_ms = (double)x;
#endif
        } else if (!strcmp(a, "--log-level")) {
            NEED_VALUE;
            if (!strcmp(v, "error"))
                level = ENH_LOG_ERROR;
            else if (!strcmp(v, "warn"))
                level = ENH_LOG_WARN;
            else if (!strcmp(v, "info"))
                level = ENH_LOG_INFO;
            else if (!strcmp(v, "debug"))
                level = ENH_LOG_DEBUG;
            else {
                fprintf(stderr, "enhance serve: --log-level must be error, warn, info or debug\n");
                return 1;
            }
        } else {
            fprintf(stderr, "enhance serve: unknown option '%s' (see enhance serve --help)\n", a);
            return 1;
        }
#undef NEED_VALUE
    }
    enh_log_set_level(level);

    /* every thread started from here inherits the blocked set; only sigtimedwait sees them */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    enh_server *srv = NULL;
    enh_error err;
    /* Image-sized buffers straight from mmap, so freeing one returns it: glibc's adaptive
     * threshold otherwise rises to 32 MB after the first big free and later buffers come from
     * the arenas, where they stay. With the server's malloc_trim after a burst (server_monitor.c),
     * measured on 300 POSTs of a 6 MP JPEG resized to PNG, 8 at a time: RSS 68 MB idle -> 69 MB
     * after (was 77 -> 462 MB without either, 64 -> 273 MB with the trim alone), and the peak
     * during the burst 114 MB instead of 444. Process-wide, so set here by the process owner. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (enh_serve_start(&o, &srv, &err)) {
        fprintf(stderr, "enhance serve: %s\n", err.msg);
        return err.code == ENH_EINVAL || err.code == ENH_ENOTFOUND || err.code == ENH_EIO ? 1 : 2;
    }
    int port = enh_serve_port(srv);
    if (port_file) {
        char txt[32];
        int n = snprintf(txt, sizeof txt, "%d\n", port);
        if (enh_write_file_atomic(port_file, txt, (size_t)n, &err)) {
            fprintf(stderr, "enhance serve: --port-file: %s\n", err.msg);
            enh_serve_stop(srv);
            return 1;
        }
    }
    printf("enhance serve: listening on http://%s:%d\n", o.host, port);
    fflush(stdout);

    int rc = 0, was_ready = 0;
    for (;;) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (!was_ready && enh_serve_ready(srv)) {
            was_ready = 1;
            printf("enhance serve: ready\n");
            fflush(stdout);
        }
        if (enh_serve_load_failed(srv)) {
            fprintf(stderr, "enhance serve: loading the models failed (see the log above)\n");
            rc = 1;
            break;
        }
        if (sig == SIGHUP) {
            ENH_LOGI("serve: SIGHUP: reloading %s",
                     o.models_config[0] ? o.models_config : "the installed models (no --models-config)");
            if (enh_serve_reload(srv, &err))
                ENH_LOGE("serve: %s", err.msg);
        } else if (sig == SIGTERM || sig == SIGINT) {
            ENH_LOGI("serve: %s: draining (up to %.0f s)", sig == SIGTERM ? "SIGTERM" : "SIGINT", o.drain_timeout_s);
            int left = enh_serve_drain(srv, o.drain_timeout_s);
            if (left) {
                ENH_LOGW("serve: %d request(s) still running after the drain timeout; cancelling them", left);
                rc = 1;
            }
            break;
        }
    }
    enh_serve_stop(srv);
    ENH_LOGI("serve: stopped");
    return rc;
}
