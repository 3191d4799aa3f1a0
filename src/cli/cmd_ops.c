/* cmd_ops.c - `enhance ops`: print the operations JSON Schema, or check / normalise an
 * operations document (the same parser the HTTP API uses). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_job.h"
#include "cli/commands.h"
#include "core/fsutil.h"
#include "enhance/ops.h"

static void usage(FILE *f)
{
    fputs("usage: enhance ops --schema            print the JSON Schema of the operations document\n"
          "       enhance ops --check FILE|-      validate an operations document and print it in\n"
          "                                       canonical form (every field, defaults filled in)\n"
          "       enhance ops --defaults          print the default operations document\n"
          "       enhance ops --describe          every option: JSON path, query key, CLI flag, type, values,\n"
          "                                       default and help (the server's GET /v1/ops)\n"
          "\n"
          "The document is the one accepted by `enhance IN -o OUT --ops-json FILE` and by the\n"
          "server's POST /v1/enhance. Example:\n"
          "  {\"restorations\": {\"denoise\": \"auto\", \"decompress\": \"moderate\"},\n"
          "   \"adjustments\": {\"auto_color\": true, \"exposure\": 20},\n"
          "   \"resizing\": {\"width\": \"50%\"}, \"output\": {\"format\": \"webp\", \"quality\": 85}}\n",
          f);
}

static int read_stdin(char **data, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, stdin)) > 0) {
        n += r;
        if (n + 1 >= cap) {
            if (cap >= (1u << 21)) {
                free(buf);
                return -2;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

int cmd_ops(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    if (!strcmp(argv[1], "--schema")) {
        puts(enh_ops_schema_json());
        return 0;
    }
    if (!strcmp(argv[1], "--describe")) {
        char *s = enh_ops_describe_json();
        if (!s) {
            fputs("enhance ops: out of memory\n", stderr);
            return cli_exit_code(ENH_ENOMEM);
        }
        puts(s);
        free(s);
        return 0;
    }
    if (!strcmp(argv[1], "--defaults")) {
        enh_ops o;
        enh_ops_init(&o);
        char *s = enh_ops_to_json(&o);
        if (!s)
            return 2;
        puts(s);
        free(s);
        return 0;
    }
    if (!strcmp(argv[1], "--check")) {
        if (argc < 3) {
            fprintf(stderr, "enhance ops --check: give a file name or - for standard input\n");
            return 1;
        }
        char *data = NULL;
        size_t len = 0;
        enh_error err = {0};
        if (!strcmp(argv[2], "-")) {
            int r = read_stdin(&data, &len);
            if (r) {
                fprintf(stderr, "enhance ops: %s\n", r == -2 ? "document larger than 2 MiB" : "out of memory");
                return r == -2 ? 1 : 2;
            }
        } else if (enh_read_file(argv[2], 1u << 20, &data, &len, &err)) {
            fprintf(stderr, "enhance ops: %s\n", err.msg);
            return 1;
        }
        enh_ops o;
        enh_status st = enh_ops_from_json(data, len, &o, &err);
        free(data);
        if (st) {
            fprintf(stderr, "enhance ops: %s\n", err.msg);
            return 1;
        }
        char *s = enh_ops_to_json(&o);
        if (!s)
            return 2;
        puts(s);
        free(s);
        return 0;
    }
    fprintf(stderr, "enhance ops: unknown option '%s'\n", argv[1]);
    usage(stderr);
    return 1;
}
