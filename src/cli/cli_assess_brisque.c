/* cli_assess_brisque.c - the BRISQUE score in `enhance assess` (see cli_assess_brisque.h). */
#include "cli/cli_assess_brisque.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_mem.h"
#include "enhance/brisque.h"
#include "enhance/check.h"

void cli_assess_brisque(VipsImage *img, const char *model_yml, const char *range_yml, cli_brisque *r)
{
    r->ran = 0;
    r->score = 0;
    r->status = ENH_OK;
    r->error[0] = '\0';
    enh_error err = {0};
    enh_brisque *b = NULL;
    enh_status st = enh_brisque_load(model_yml, range_yml, &b, &err);
    if (!st)
        st = enh_brisque_score(b, img, &r->score, &err);
    enh_brisque_free(b);
    if (st) {
        r->status = st;
        snprintf(r->error, sizeof r->error, "%s", err.msg);
        return;
    }
    r->ran = 1;
}

void cli_assess_brisque_line(const cli_brisque *r, char *buf, size_t n)
{
    if (r->ran)
        snprintf(buf, n, "brisque      %.1f (0 best .. 100 worst; OpenCV's LIVE-trained model)\n", r->score);
    else if (r->status == ENH_ENOTFOUND)
        snprintf(buf, n, "brisque      unavailable (0 best .. 100 worst; needs OpenCV's model files): %s\n", r->error);
    else
        snprintf(buf, n, "brisque      unavailable: %s\n", r->error);
}

char *cli_assess_brisque_json(const char *assess_json, const cli_brisque *r)
{
    json_error_t je;
    json_t *root = NULL;
    /* through core/json_mem: out of memory is NULL, never a document a character short */
    if (enh_json_parse(assess_json, strlen(assess_json), 0, "the assessment", &root, &je, NULL) ||
        !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    json_t *b;
    if (r->ran)
        b = json_pack("{s:b,s:f,s:s}", "available", 1, "score", r->score, "scale", ENH_CHECK_BRISQUE_SCALE);
    else if (r->status == ENH_ENOTFOUND)
        b = json_pack("{s:b,s:s,s:s}", "available", 0, "error", r->error, "install", ENH_CHECK_INSTALL_BRISQUE);
    else
        b = json_pack("{s:b,s:s}", "available", 0, "error", r->error);
    char *out = NULL;
    if (b && !json_object_set_new(root, "brisque", b))
        out = enh_json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(root);
    return out;
}
