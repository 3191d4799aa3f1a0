/* ops.c - defaults, names and validation of enh_ops, all read from the operations table
 * (ops_table.h). JSON lives in ops_json.c. */
#include "enhance/ops.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "enhance/ops_table.h"

void enh_ops_init(enh_ops *ops)
{
    memset(ops, 0, sizeof *ops);
    enh_ops_state st = {0};
    for (size_t i = 0; i < enh_opts_count; i++) {
        if (!enh_opts[i].def)
            continue;
        enh_opt_value v = enh_opt_text(enh_opts[i].def);
        enh_opt_set(&enh_opts[i], &v, ops, &st, NULL); /* a bad default fails tests/enhance/test_ops_drift */
    }
}

const char *enh_format_name(enh_format f)
{
    for (const enh_named *e = enh_format_names; e->name; e++)
        if (e->value == (int)f)
            return e->name;
    return "unknown";
}

/* 1 when the option's field holds a value its row allows (ops_value.c reads only such values;
 * this checks an enh_ops built in code). */
static int field_ok(const enh_opt *o, const enh_ops *ops)
{
    if (enh_opt_is_unset(o, ops))
        return 1;
    char text[128];
    enh_opt_format(o, ops, text, sizeof text);
    enh_ops scratch;
    memcpy(&scratch, ops, sizeof scratch);
    enh_opt_value v = enh_opt_text(text);
    return enh_opt_set_plain(o, &v, &scratch, NULL) == ENH_OK && !memcmp(&scratch, ops, sizeof scratch);
}

enh_status enh_ops_validate(const enh_ops *o, enh_error *err)
{
    for (size_t i = 0; i < enh_opts_count; i++) {
        const enh_opt *r = &enh_opts[i];
        if (r->type == ENH_OPT_ENUM && r->hook) /* the number form writes another field */
            continue;
        if (!field_ok(r, o)) {
            char text[128];
            enh_opt_format(r, o, text, sizeof text);
            enh_opt_value v = enh_opt_text(text);
            enh_ops scratch;
            memcpy(&scratch, o, sizeof scratch);
            enh_status st = enh_opt_set_plain(r, &v, &scratch, err);
            return st ? st : enh_fail(err, ENH_EINVAL, "%s holds an invalid value (%s)", r->path, text);
        }
    }
    if (o->upscale < ENH_UPSCALE_NONE || o->upscale > ENH_UPSCALE_RESAMPLE)
        return enh_fail(err, ENH_EINVAL, "restorations.upscale holds an invalid value (%d)", (int)o->upscale);
    if ((o->fit == ENH_FIT_PAD || o->fit == ENH_FIT_FILL || o->fit == ENH_FIT_COVER) &&
        (!(o->width || o->width_pct) || !(o->height || o->height_pct)))
        return enh_fail(err, ENH_EINVAL, "resizing.fit %s needs both a width and a height (resizing.width and "
                        "resizing.height)",
                        o->fit == ENH_FIT_PAD ? "pad" : o->fit == ENH_FIT_FILL ? "fill" : "cover");
    if (o->resize_scale > 0 && (o->width || o->width_pct || o->height || o->height_pct))
        return enh_fail(err, ENH_EINVAL, "resizing.scale cannot be combined with resizing.width or resizing.height "
                        "(use one way of sizing)");
    return ENH_OK;
}
