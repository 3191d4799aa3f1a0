/* cmd_enhance.c - `enhance INPUT -o OUTPUT [options]` and folder mode (cli_batch.c). */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_batch.h"
#include "cli/cli_batch_check.h"
#include "cli/cli_enhance_opts.h"
#include "cli/cli_job.h"
#include "cli/commands.h"
#include "core/fsutil.h"
#include "core/pool.h"
#include "image/image_encode.h"
#include "image/image_init.h"
#include "image/image_probe.h"

static void single_progress(void *user, const char *phase, double f)
{
    cli_progress_draw(user, phase, f, 0);
}

/* Output options that cannot work, caught before any work is done. */
static int check_output(const cli_enhance_args *a, const char *out_path, char *msg, size_t n)
{
    enh_format by_name = enh_format_from_path(out_path);
    if (a->format_given && by_name != ENH_FORMAT_SAME && by_name != a->s.ops.format) {
        snprintf(msg, n, "--format %s does not match the output name %s; change one of them",
                 enh_format_name(a->s.ops.format), out_path);
        return 1;
    }
    enh_format f = a->s.ops.format != ENH_FORMAT_SAME ? a->s.ops.format : by_name;
    if (a->s.ops.bit_depth == 16 && (f == ENH_FORMAT_JPEG || f == ENH_FORMAT_WEBP)) {
        snprintf(msg, n, "%s cannot store 16-bit samples (use --format png, tiff or avif, or --bit-depth 8)",
                 enh_format_label(f));
        return 1;
    }
    return 0;
}

/* Output path inside an existing folder: the input's name with the output's suffix. */
static void name_in_folder(const cli_enhance_args *a, char *out, size_t n)
{
    char *copy = strdup(a->input);
    const char *base = copy ? basename(copy) : "output";
    enh_format f = a->s.ops.format;
    if (f == ENH_FORMAT_SAME && enh_format_from_path(base) != ENH_FORMAT_SAME) {
        snprintf(out, n, "%s/%s", a->output, base);
    } else {
        if (f == ENH_FORMAT_SAME) {
            enh_image_info info;
            enh_error err = {0};
            f = enh_format_for_input(enh_image_probe_file(a->input, 0, &info, &err) == ENH_OK ? info.format : NULL);
        }
        const char *dot = strrchr(base, '.');
        int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
        snprintf(out, n, "%s/%.*s.%s", a->output, stem, base, enh_format_extension(f));
    }
    free(copy);
}

static int run_single(cli_enhance_args *a)
{
    char out_buf[4096];
    const char *out_path = a->output;
    if (enh_is_dir(a->output)) {
        name_in_folder(a, out_buf, sizeof out_buf);
        out_path = out_buf;
    }
    char msg[8192];
    if (check_output(a, out_path, msg, sizeof msg)) {
        fprintf(stderr, "enhance: %s\n", msg);
        return 1;
    }
    if (a->s.ops.moderation != ENH_MODERATION_OFF) {
        /* --moderation flag|block: the classifier first, as folder mode and the server do */
        cli_batch_checker bc;
        enh_check_result cr;
        int c = cli_batch_check_open(&bc, NULL, a->s.ops.moderation, a->s.moderation_policy, 1, msg, sizeof msg);
        if (!c) {
            bc.max_pixels = a->s.max_pixels;
            c = cli_batch_check_image(&bc, a->input, a->input, &cr, msg, sizeof msg);
        }
        cli_batch_check_close(&bc);
        if (c < 0) {
            fprintf(stderr, "enhance: %s\n", msg);
            return 1;
        }
        char probs[200];
        enh_check_probs_format(cr.probs, probs, sizeof probs);
        if (c > 0) {
            fprintf(stderr, "enhance: %s is blocked by the moderation policy (%s %.4f >= %.4g); nothing was written "
                            "(%s)\n",
                    a->input, enh_nsfw_class_name(cr.reasons[0].cls), cr.reasons[0].probability,
                    cr.reasons[0].threshold, probs);
            return 4;
        }
        if (!a->s.quiet)
            printf("moderation: %s (%s)\n", enh_check_decision_name(cr.decision), probs);
    }
    cli_progress bar;
    cli_progress_init(&bar, a->s.progress);
    cli_job_result r;
    enh_error err = {0};
    enh_status st = cli_job_run(a->input, out_path, &a->s, cli_cancel_flag(), single_progress, &bar, &r, &err);
    cli_progress_destroy(&bar);
    if (st) {
        if (st == ENH_ECANCELLED)
            fprintf(stderr, "enhance: interrupted; nothing was written to %s\n", out_path);
        else
            fprintf(stderr, "enhance: %s\n", err.msg);
        return cli_exit_code(st);
    }
    if (a->s.explain && r.report.explain[0])
        printf("%s%s", r.report.explain, r.report.explain[strlen(r.report.explain) - 1] == '\n' ? "" : "\n");
    else if (a->s.explain)
        printf("explain: nothing was decided automatically (use --auto to let enhance choose)\n");
    if (!a->s.quiet) {
        char sz[32];
        int uw, uh;
        enh_image_info_upright_size(&r.in, &uw, &uh);
        printf("%s (%dx%d %s) -> %s (%dx%d %s, %s)%s%s in %.2f s\n", a->input, uw, uh, r.in.format, out_path,
               r.out_width, r.out_height, enh_format_label(r.out_format), cli_human_bytes(r.out_bytes, sz, sizeof sz),
               r.report.model[0] ? " with " : "", r.report.model, r.seconds);
    }
    return 0;
}

int cmd_enhance(int argc, char **argv)
{
    cli_enhance_args a;
    char msg[1024];
    if (cli_enhance_parse(argc, argv, &a, msg, sizeof msg)) {
        fprintf(stderr, "enhance: %s\n", msg);
        return 1;
    }
    if (a.help) {
        cli_enhance_help(stdout);
        return 0;
    }
    a.s.progress = !a.s.quiet && cli_stderr_is_tty();
    if (a.s.threads > 0) {
        if (enh_pool_default_set_threads(a.s.threads) != 0)
            fprintf(stderr, "enhance: warning: --threads came too late to size the thread pool\n");
    }
    enh_error err = {0};
    if (enh_image_init(&err) != ENH_OK) {
        fprintf(stderr, "enhance: %s\n", err.msg);
        return 2;
    }
    if (a.s.threads > 0)
        enh_image_set_threads(a.s.threads);
    cli_install_signal_handlers();
    if (enh_is_dir(a.input))
        return cli_batch_run(a.input, a.output, &a.s);
    return run_single(&a);
}
