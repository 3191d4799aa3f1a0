/* cli_job.c - one image through decode, the pipeline and the encoder. */
#include "cli/cli_job.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fsutil.h"
#include "image/image_decode.h"
#include "image/image_encode.h"

static atomic_int g_cancel;

atomic_int *cli_cancel_flag(void)
{
    return &g_cancel;
}

static void on_signal(int sig)
{
    atomic_store(&g_cancel, 1);
    signal(sig, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

void cli_install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_exit_code(enh_status st)
{
    switch (st) {
    case ENH_OK:
        return 0;
    case ENH_EINVAL:
    case ENH_EUNSUPPORTED:
    case ENH_ETOOBIG:
    case ENH_EIO:
    case ENH_ENOTFOUND:
    case ENH_ETIMEOUT:
        return 1;
    case ENH_ECANCELLED:
        return 130;
    default:
        return 2;
    }
}

typedef struct {
    cli_job_progress_fn fn;
    void *user;
    int pipeline_reported;
} job_progress;

static void on_pipeline_progress(void *user, double f)
{
    job_progress *jp = user;
    jp->pipeline_reported = 1;
    if (jp->fn)
        jp->fn(jp->user, "enhancing", 0.9 * f);
}

static void on_save_progress(void *user, double f)
{
    job_progress *jp = user;
    if (jp->fn) {
        double base = jp->pipeline_reported ? 0.9 : 0.0;
        jp->fn(jp->user, "writing", base + (1.0 - base) * f);
    }
}

static enh_status make_parent_dirs(const char *path, enh_error *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return ENH_OK;
    char dir[4096];
    size_t len = (size_t)(slash - path);
    if (len >= sizeof dir)
        return enh_fail(err, ENH_EINVAL, "output path too long: %s", path);
    memcpy(dir, path, len);
    dir[len] = '\0';
    if (enh_is_dir(dir))
        return ENH_OK;
    return enh_mkdirs(dir, err);
}

enh_status cli_job_run(const char *in_path, const char *out_path, const cli_settings *s, atomic_int *cancel,
                       cli_job_progress_fn progress, void *progress_user, cli_job_result *r, enh_error *err)
{
    memset(r, 0, sizeof *r);
    double t0 = enh_now();
    job_progress jp = {progress, progress_user, 0};
    if (progress)
        progress(progress_user, "reading", 0);

    VipsImage *img = NULL;
    enh_status st = enh_image_decode_file(in_path, s->max_pixels, &img, &r->in, err);
    if (st)
        return st;
    if (cancel && atomic_load(cancel)) {
        g_object_unref(img);
        return enh_fail(err, ENH_ECANCELLED, "interrupted");
    }

    enh_pipeline_ctx ctx;
    enh_pipeline_ctx_init(&ctx);
    ctx.memory_limit = s->memory_limit;
    ctx.nn = s->nn;
    ctx.cancel = cancel;
    ctx.progress = on_pipeline_progress;
    ctx.progress_user = &jp;
    VipsImage *out = NULL;
    st = enh_pipeline_run(img, &s->ops, &ctx, &out, &r->report, err);
    g_object_unref(img);
    if (st)
        return st;

    enh_save_opts so;
    enh_save_opts_init(&so);
    enh_save_opts_from_ops(&so, &s->ops);
    so.format = enh_format_resolve(s->ops.format, out_path, r->in.format);
    so.cancel = cancel;
    so.progress = on_save_progress;
    so.progress_user = &jp;
    r->out_format = so.format;
    r->out_width = vips_image_get_width(out);
    r->out_height = vips_image_get_height(out);
    st = make_parent_dirs(out_path, err);
    if (!st)
        st = enh_pipeline_save_file(out, out_path, &so, err); /* a lazy upscale fails with its own status */
    g_object_unref(out);
    if (st)
        return st;
    struct stat sb;
    r->out_bytes = stat(out_path, &sb) == 0 ? (long long)sb.st_size : -1;
    r->seconds = enh_now() - t0;
    if (progress)
        progress(progress_user, "done", 1.0);
    return ENH_OK;
}
