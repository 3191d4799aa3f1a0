/* upscale_stream.h - the model's native-scale output as a lazy libvips image.
 *
 * upscale_stream_new returns a VipsImage whose pixels are computed on demand: when libvips
 * asks for a region (FATSTRIP demand: full-width strips, top to bottom for sequential
 * savers), the tile row(s) covering it run through the tiler's pull-driven stream
 * (tiler.h: same tiles, same blending, so the pixels are bit-identical to enh_tiler_run)
 * and the quantised rows land in a cache holding about two tile rows of output. Regions
 * asked for out of order (above the cache) restart the tiler at the nearest tile row that
 * can rebuild them: correct, only slower. The input is read from `prepared` region by
 * region (windows with the model's context), so nothing but the tiler's buffers and the
 * row cache is held: peak memory does not grow with the image height, and grows with its
 * width only as far as the memory budget lets the tile rows grow.
 * Alpha: constant alpha is filled in; any other alpha runs the model a second time on the
 * alpha band (two tiler streams stepped in lockstep, the budget split between them).
 *
 * Lifetime: the image holds references to `prepared` and the model (from the model
 * cache), and a copy of *ctx; what ctx's pointers reach (pool, cancel, progress_user,
 * tile_runner_user) must stay valid until the image is unreferenced.
 * Progress: ctx->progress gets the fraction of tile rows run (per tile row, never
 * decreasing), from whichever libvips thread computes it.
 * Thread-safety: libvips may ask for regions from several threads; one mutex per image
 * serialises the computation (the model itself runs on ctx->pool).
 * Errors: a failure while computing (cancel -> ENH_ECANCELLED, deadline -> ENH_ETIMEOUT,
 * model or memory errors) makes the region fail with a libvips error carrying the message
 * (so the saver fails and the half-written file is discarded), and every later region of
 * the image fails the same way; upscale_stream_status reports the first failure with its
 * enh_status. */
#ifndef ENH_ENHANCE_UPSCALE_STREAM_H
#define ENH_ENHANCE_UPSCALE_STREAM_H

#include <vips/vips.h>

#include "core/error.h"
#include "enhance/pipeline.h"

typedef struct upscale_stream_info {
    int tiles;       /* model tiles one full pass over the image runs (both passes counted) */
    int tile;        /* LR core side chosen by the tiler */
    int passes;      /* 1, or 2 when a varying alpha runs its own pass */
    size_t cache_bytes; /* the row cache */
} upscale_stream_info;

/* `prepared` from upscale_prepare (uchar/ushort, 1..4 bands); `model` a model-cache name.
 * ENH_ETOOBIG when the output would exceed a gigapixel; model / tiler errors as those
 * modules. On ENH_OK *out is a new reference (lazy). info may be NULL. */
enh_status upscale_stream_new(VipsImage *prepared, const char *model, const enh_pipeline_ctx *ctx, VipsImage **out,
                              upscale_stream_info *info, enh_error *err);

/* Computes every pixel now (vips_image_copy_memory) and returns the in-memory image; a
 * computing failure comes back as its own enh_status and message. `lazy` is borrowed. */
enh_status upscale_stream_materialise(VipsImage *lazy, VipsImage **out, enh_error *err);

/* ENH_OK, or the first failure of the stream behind `img` (an image from
 * upscale_stream_new) with its message copied into *err. */
enh_status upscale_stream_status(VipsImage *img, enh_error *err);

/* Model tiles run so far by the stream behind `img` (restarts included). */
int upscale_stream_tiles_run(VipsImage *img);

/* Capture, so that a caller finds the streams behind a derived image (the pipeline's final
 * image, see enh_pipeline_lazy_status): between upscale_stream_capture_begin(c) and
 * upscale_stream_capture_end(c) on the same thread (properly nested), every image that
 * upscale_stream_new returns on that thread is also recorded in *c with a reference of its
 * own (the first UPSCALE_STREAM_CAPTURE_MAX of them; c->overflow counts the rest). *c
 * belongs to the caller and must stay valid until _end; the references stay in c->img
 * (the caller unrefs them) after _end. Thread-safety: per thread (thread-local state). */
#define UPSCALE_STREAM_CAPTURE_MAX 4
typedef struct upscale_stream_capture {
    VipsImage *img[UPSCALE_STREAM_CAPTURE_MAX];
    int n, overflow;
    struct upscale_stream_capture *prev; /* the enclosing capture of this thread */
} upscale_stream_capture;

void upscale_stream_capture_begin(upscale_stream_capture *c);
void upscale_stream_capture_end(upscale_stream_capture *c);

#endif
