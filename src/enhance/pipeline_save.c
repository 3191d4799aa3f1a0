/* pipeline_save.c - saving a pipeline result: the encoder's options from the operations
 * (enh_save_opts_from_ops), and a save to a file with the failure of a lazy stage reported as
 * that stage's own (enh_pipeline_save_file; pipeline.h): the CLI's counterpart of the server's
 * encode_failure (src/serve/server_encode.c). */
#include "enhance/pipeline.h"
#include "image/image_encode.h"

void enh_save_opts_from_ops(enh_save_opts *o, const enh_ops *ops)
{
    o->format = ops->format;
    o->quality = ops->quality;
    o->progressive = ops->progressive;
    o->lossless = ops->lossless;
    o->keep_metadata = ops->keep_metadata;
    o->bit_depth = ops->bit_depth;
}

enh_status enh_pipeline_save_file(VipsImage *out, const char *path, const enh_save_opts *o, enh_error *err)
{
    enh_status st = enh_image_save_file(out, path, o, err);
    if (st == ENH_OK || st == ENH_ECANCELLED)
        return st;
    /* A lazy stage that failed while the saver read its pixels (a model run, the tiler's
     * buffers, a deadline) shows to the saver as a write failure only. */
    enh_error lerr;
    enh_error_clear(&lerr);
    enh_status ls = enh_pipeline_lazy_status(out, &lerr);
    if (ls == ENH_OK)
        return st;
    *err = lerr;
    err->code = ls;
    return enh_error_prefix(err, "while %s was written", path);
}
