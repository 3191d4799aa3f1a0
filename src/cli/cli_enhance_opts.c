/* cli_enhance_opts.c - `enhance INPUT -o OUTPUT [options]`: flags -> cli_settings/enh_ops.
 * The operation flags and their help come from the operations table (enhance/ops_table.h);
 * this file adds the flags that are not operations (output, threads, folders...). */
#include "cli/cli_enhance_opts.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_args.h"
#include "core/fsutil.h"
#include "enhance/ops_table.h"
#include "image/image_probe.h"
#include "nn/precision.h"

enum {
    O_OUTPUT = 1, O_RECURSIVE, O_FORCE, O_QUIET, O_HELP, O_THREADS, O_MAX_PIXELS, O_MEMORY_LIMIT, O_EXPLAIN,
    O_OPS_JSON, O_PRECISION, O_CHECK_REPORT, O_MODERATION_POLICY,
    O_TABLE = 1000 /* + the row of the operations table */
};

static const cli_opt g_fixed[] = {
    {"output", 'o', CLI_ARG_REQUIRED, O_OUTPUT},
    {"recursive", 'r', CLI_ARG_NONE, O_RECURSIVE},
    {"force", 0, CLI_ARG_NONE, O_FORCE},
    {"quiet", 'q', CLI_ARG_NONE, O_QUIET},
    {"help", 'h', CLI_ARG_NONE, O_HELP},
    {"threads", 'j', CLI_ARG_REQUIRED, O_THREADS},
    {"max-pixels", 0, CLI_ARG_REQUIRED, O_MAX_PIXELS},
    {"memory-limit", 0, CLI_ARG_REQUIRED, O_MEMORY_LIMIT},
    {"explain", 0, CLI_ARG_NONE, O_EXPLAIN},
    {"ops-json", 0, CLI_ARG_REQUIRED, O_OPS_JSON},
    {"precision", 0, CLI_ARG_REQUIRED, O_PRECISION},
    {"check-report", 0, CLI_ARG_REQUIRED, O_CHECK_REPORT},
    {"moderation-policy", 0, CLI_ARG_REQUIRED, O_MODERATION_POLICY},
};
#define NFIXED (sizeof g_fixed / sizeof g_fixed[0])

/* The fixed flags, then every CLI name of every operation (built once; the CLI is single-threaded). */
static cli_opt g_opts[NFIXED + 4 * 64 + 1];
static char g_names[2048];

static const cli_opt *all_opts(void)
{
    if (g_opts[0].name)
        return g_opts;
    size_t n = 0, used = 0;
    memcpy(g_opts, g_fixed, sizeof g_fixed);
    n = NFIXED;
    for (size_t i = 0; i < enh_opts_count; i++) {
        const enh_opt *r = &enh_opts[i];
        int value_optional = r->type == ENH_OPT_BOOL || (r->flags & ENH_OPT_CLI_VALUE_OPTIONAL);
        for (const char *p = r->cli; *p && n + 2 < sizeof g_opts / sizeof g_opts[0];) {
            size_t l = strcspn(p, " ");
            if (used + l + 1 > sizeof g_names)
                break;
            memcpy(g_names + used, p, l);
            g_names[used + l] = 0;
            g_opts[n++] = (cli_opt){g_names + used, p == r->cli ? r->cli_short : 0,
                                    value_optional ? CLI_ARG_OPTIONAL : CLI_ARG_REQUIRED, O_TABLE + (int)i};
            used += l + 1;
            p += l;
            p += strspn(p, " ");
        }
        if (r->cli_switch && n + 2 < sizeof g_opts / sizeof g_opts[0])
            g_opts[n++] = (cli_opt){r->cli_switch, 0, CLI_ARG_NONE, O_TABLE + (int)i};
    }
    g_opts[n] = (cli_opt){NULL, 0, 0, 0};
    return g_opts;
}

/* One operation's help: "  -w, --width W          target width... (px or N%)". */
static void help_row(FILE *f, const enh_opt *r)
{
    char left[64], name[40], summary[200], text[700];
    enh_opt_first(r->cli, name, sizeof name);
    const char *arg = r->type == ENH_OPT_BOOL ? "" : r->flags & ENH_OPT_CLI_VALUE_OPTIONAL ? "[=" : " ";
    snprintf(left, sizeof left, "  %s%c%s--%s%s%s%s", r->cli_short ? "-" : " ", r->cli_short ? r->cli_short : ' ',
             r->cli_short ? ", " : "  ", name, arg, *arg ? r->metavar : "", *arg == '[' ? "]" : "");
    enh_opt_summary(r, summary, sizeof summary);
    size_t len = (size_t)snprintf(text, sizeof text, "%s", r->help);
    if (*summary && len < sizeof text)
        len += (size_t)snprintf(text + len, sizeof text - len, " [%s]", summary);
    const char *more = strchr(r->cli, ' ');
    if (more && len < sizeof text)
        len += (size_t)snprintf(text + len, sizeof text - len, " (also --%s)", more + 1);
    if (r->cli_switch && len < sizeof text)
        snprintf(text + len, sizeof text - len, " (--%s = --%s keep)", r->cli_switch, name);
    /* wrap the text at 110 columns, continuation lines under the first */
    fprintf(f, "%-25s", left);
    if (strlen(left) >= 25)
        fprintf(f, "\n%25s", "");
    int col = 25;
    for (char *w = strtok(text, " "); w; w = strtok(NULL, " ")) {
        int wl = (int)strlen(w);
        if (col > 25 && col + 1 + wl > 110) {
            fprintf(f, "\n%25s", "");
            col = 25;
        }
        fprintf(f, "%s%s", col > 25 ? " " : "", w);
        col += wl + (col > 25);
    }
    fputc('\n', f);
}

/* The operations under a JSON section ("restorations"; "" = top-level options). */
static void help_group(FILE *f, const char *group)
{
    size_t n = strlen(group);
    for (size_t i = 0; i < enh_opts_count; i++) {
        const char *p = enh_opts[i].path;
        if (n ? !strncmp(p, group, n) && p[n] == '.' : !strchr(p, '.'))
            help_row(f, &enh_opts[i]);
    }
}

void cli_enhance_help(FILE *f)
{
    fprintf(f,
"usage: enhance INPUT -o OUTPUT [options]\n"
"       enhance DIR -o OUTDIR [-r] [options]\n"
"\n"
"Enhances one photo (JPEG, PNG, WebP, AVIF/HEIF, TIFF, GIF first frame), or every image in\n"
"a folder. EXIF orientation and ICC colour profiles are applied, alpha and 16-bit depth kept.\n"
"The output is written atomically: never a half-written file. Every operation below is also\n"
"a key of the operations JSON (--ops-json, `enhance ops --schema`) and a query key of\n"
"`enhance serve` under the same name.\n"
"\n"
"Output:\n"
"  -o, --output PATH      output file, or output folder (folder mode, or an existing folder)\n");
    help_group(f, "output");
    fprintf(f, "\nAI upscaling and restoration:\n");
    help_group(f, "restorations");
    help_group(f, "");
    fprintf(f, "      --explain          print what auto mode measured and decided\n"
               "\nAdjustments:\n");
    help_group(f, "adjustments");
    fprintf(f,
"      --ops-json J       operations as JSON (a file, or the text itself if it starts with '{');\n"
"                         flags given as well override it (schema: `enhance ops --schema`)\n"
"\n"
"Resizing (applied after upscaling):\n");
    help_group(f, "resizing");
    fprintf(f,
"\n"
"Resources:\n"
"  -j, --threads N        worker threads (default: all cores, or ENHANCE_THREADS)\n"
"      --max-pixels N     refuse inputs above N pixels before decoding (default 50M; e.g. 100M,\n"
"                         12000x9000, 0 = no limit)\n"
"      --memory-limit S   working memory for the AI stages, e.g. 512M, 2G\n"
"      --precision P      fp32 (default, or ENHANCE_PRECISION) | bf16: faster AI models on CPUs with\n"
"                         AVX512_BF16 (measured >= 49 dB PSNR from the fp32 output on photos)\n"
"\n"
"Folders:\n"
"  -r, --recursive        include subfolders (relative paths are kept under OUTDIR)\n"
"      --force            redo outputs that are already complete\n"
"      --check-report F   write `enhance check`'s answer for each image processed to F, one JSON line\n"
"                         each with \"image\" and \"action\" (enhanced, blocked, failed); appended\n"
"                         whole and fsync'd, resumed with the run (a fresh run starts it empty)\n"
"      --moderation-policy P  the policy of --moderation and the report (see `enhance check\n"
"                         --help`); with --moderation block, blocked images are skipped\n"
"  Finished outputs are skipped when rerun with the same options (so an interrupted run\n"
"  resumes); changed options or a newer input redo them. Bad files are reported and skipped.\n"
"\n"
"  -q, --quiet            no progress or summary (errors only)\n"
"  -h, --help             this help\n"
"\n"
"Exit codes: 0 ok, 1 bad input or usage (or any file failed in folder mode), 2 internal\n"
"error, 4 refused by --moderation block (one file; folder mode skips it), 130 interrupted.\n"
"\n"
"Examples:\n"
"  enhance photo.jpg -o big.png --upscale 4\n"
"  enhance photo.jpg -o thumb.webp --width 400 --height 400 --fit cover --gravity smart\n"
"  enhance shots/ -o out/ -r --auto --format jpeg --quality 85\n");
}

static int apply_ops_json(const char *v, enh_ops *ops, char *msg, size_t n)
{
    char *data = NULL;
    size_t len = 0;
    enh_error err = {0};
    const char *p = v;
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (*p == '{') {
        data = strdup(v);
        len = strlen(v);
    } else if (enh_read_file(v, 1 << 20, &data, &len, &err) != ENH_OK) {
        snprintf(msg, n, "--ops-json: %s (give a JSON file or the JSON text itself)", err.msg);
        return 1;
    }
    if (!data) {
        snprintf(msg, n, "out of memory");
        return 1;
    }
    enh_status st = enh_ops_from_json(data, len, ops, &err);
    free(data);
    if (st) {
        snprintf(msg, n, "--ops-json: %s", err.msg);
        return 1;
    }
    return 0;
}

/* Applies one flag that is not an operation; returns 0 ok, 1 usage error. */
static int apply(cli_enhance_args *a, int id, const char *opt, const char *v, char *msg, size_t n)
{
    cli_settings *s = &a->s;
    long l = 0;
    switch (id) {
    case O_OUTPUT: a->output = v; return 0;
    case O_RECURSIVE: s->recursive = 1; return 0;
    case O_FORCE: s->force = 1; return 0;
    case O_QUIET: s->quiet = 1; return 0;
    case O_HELP: a->help = 1; return 0;
    case O_EXPLAIN: s->explain = 1; return 0;
    case O_CHECK_REPORT: s->check_report = v; return 0;
    case O_MODERATION_POLICY: s->moderation_policy = v; return 0;
    case O_THREADS:
        if (cli_parse_int(opt, v, 1, 1024, &l, msg, n))
            return 1;
        s->threads = (int)l;
        return 0;
    case O_MAX_PIXELS:
        return cli_parse_pixels(opt, v, &s->max_pixels, msg, n) ? 1 : 0;
    case O_PRECISION: {
        enh_precision p;
        enh_error err = {0};
        if (enh_precision_parse(v, &p) != 0 || p == ENH_PRECISION_DEFAULT) {
            snprintf(msg, n, "--precision must be fp32 or bf16, got '%s'", v);
            return 1;
        }
        if (enh_precision_resolve(p, &p, &err) != ENH_OK) {
            snprintf(msg, n, "--precision: %s", err.msg);
            return 1;
        }
        s->nn.precision = p;
        return 0;
    }
    case O_MEMORY_LIMIT:
        if (cli_parse_size(opt, v, &s->memory_limit, msg, n))
            return 1;
        if (s->memory_limit < (16u << 20)) {
            snprintf(msg, n, "--memory-limit must be at least 16M, got '%s'", v);
            return 1;
        }
        return 0;
    default:
        snprintf(msg, n, "internal: unhandled option %s", opt);
        return 1;
    }
}

static const char *opt_name(int id)
{
    for (const cli_opt *o = all_opts(); o->name; o++)
        if (o->id == id)
            return o->name;
    return "?";
}

int cli_enhance_parse(int argc, char **argv, cli_enhance_args *a, char *msg, size_t n)
{
    memset(a, 0, sizeof *a);
    enh_ops_init(&a->s.ops);
    a->s.nn = *enh_nn_options_default();
    a->s.max_pixels = ENH_IMAGE_DEFAULT_MAX_PIXELS;
    const cli_opt *opts = all_opts();

    /* pass 1: --ops-json is the base the other flags override */
    cli_parser p;
    const char *v = NULL;
    int id;
    cli_parser_init(&p, argc, argv, opts);
    while ((id = cli_next(&p, &v, msg, n)) != CLI_END) {
        if (id == CLI_ERROR)
            return 1;
        if (id == O_HELP) {
            a->help = 1;
            return 0;
        }
        if (id == O_OPS_JSON && apply_ops_json(v, &a->s.ops, msg, n))
            return 1;
    }

    /* pass 2: the flags; the operations go through the table's setter (the same one as the
     * operations JSON and the server's query keys, so the same value means the same) */
    enh_ops_state st = {0};
    cli_parser_init(&p, argc, argv, opts);
    while ((id = cli_next(&p, &v, msg, n)) != CLI_END) {
        if (id == CLI_POSITIONAL) {
            if (!a->input) {
                a->input = v;
                continue;
            }
            snprintf(msg, n, "unexpected argument '%s' (one INPUT, and the output goes after -o)", v);
            return 1;
        }
        if (id == O_OPS_JSON)
            continue;
        if (id >= O_TABLE) {
            enh_opt_value val = enh_opt_text(v);
            enh_error err = {0};
            if (enh_opt_set(&enh_opts[id - O_TABLE], &val, &a->s.ops, &st, &err)) {
                snprintf(msg, n, "%s", err.msg);
                return 1;
            }
            continue;
        }
        char optname[64];
        snprintf(optname, sizeof optname, "--%s", opt_name(id));
        if (apply(a, id, optname, v, msg, n))
            return 1;
    }
    a->format_given = (st.given >> enh_opt_index(enh_opt_by_path("output.format"))) & 1;
    if (!a->input) {
        snprintf(msg, n, "missing INPUT (usage: enhance INPUT -o OUTPUT [options]; see --help)");
        return 1;
    }
    if (!a->output) {
        snprintf(msg, n, "missing -o OUTPUT (where to write the result; see --help)");
        return 1;
    }
    enh_error err = {0};
    if (enh_ops_validate(&a->s.ops, &err) != ENH_OK) {
        snprintf(msg, n, "%s", err.msg);
        return 1;
    }
    return 0;
}
