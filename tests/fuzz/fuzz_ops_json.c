/* fuzz_ops_json.c - the operations JSON (enh_ops_from_json: the HTTP body's "operations" part,
 * the CLI's --ops file): every input is parsed; a document that parses is validated, printed
 * and parsed back, and must give the same enh_ops (the writer and the parser agree). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enhance/ops.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enh_ops o;
    enh_error e;
    enh_error_clear(&e);
    enh_status st = enh_ops_from_json((const char *)data, size, &o, &e);
    fuzz_check_status("enh_ops_from_json", st, &e);
    if (st != ENH_OK)
        return 0;
    fuzz_accepted++;
    enh_error_clear(&e);
    fuzz_check_status("enh_ops_validate", enh_ops_validate(&o, &e), &e);
    char *s = enh_ops_to_json(&o);
    if (!s)
        fuzz_fail("enh_ops_to_json returned NULL");
    enh_ops o2;
    enh_error_clear(&e);
    st = enh_ops_from_json(s, strlen(s), &o2, &e);
    if (st != ENH_OK || memcmp(&o, &o2, sizeof o) != 0)
        fuzz_fail("the round trip changed the document (status %d, '%s'): %s", (int)st, e.msg, s);
    free(s);
    return 0;
}

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    static const char *const docs[] = {
        "{\"restorations\":{\"upscale\":\"photo\",\"scale\":2,\"decompress\":\"moderate\",\"denoise\":\"auto\","
        "\"deblur\":30,\"sharpen\":\"off\",\"resample_kernel\":\"cubic\"},\"adjustments\":{\"auto_color\":true,"
        "\"auto_exposure\":true,\"hdr\":40,\"exposure\":-20,\"contrast\":10,\"saturation\":5,\"sharpness\":-3,"
        "\"white_balance\":{\"temperature\":12,\"tint\":-7}},\"resizing\":{\"width\":\"50%\",\"height\":300,"
        "\"fit\":\"canvas\",\"gravity\":\"smart\",\"padding\":4,\"background\":\"#ff8000\"},\"output\":{\"format\":"
        "\"webp\",\"quality\":85,\"metadata\":\"keep\",\"bit_depth\":16,\"lossless\":true},\"auto\":true}",
        "{\"restorations\":{\"upscale\":\"quality\",\"width\":1000},\"resizing\":{\"width\":\"200%\",\"fit\":\"crop\"}}",
        "{\"restorations\":{\"denoise\":\"ai\",\"deblur_method\":\"ai\",\"low_light\":60,\"model\":\"maxim-denoising\"},"
        "\"resizing\":{\"width\":640,\"height\":480,\"fit\":\"pad\",\"background\":[10,20,30,255],\"kernel\":\"linear\"},"
        "\"output\":{\"format\":\"jpeg\",\"progressive\":true,\"quality\":90,\"metadata\":\"strip\"}}",
        "{\"restorations\":{\"upscale\":1.5},\"output\":{\"format\":\"png\",\"bit_depth\":8}}",
        "{}",
    };
    char name[32];
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        snprintf(name, sizeof name, "doc-%zu.json", i);
        emit(ctx, name, docs[i], strlen(docs[i]));
    }
    enh_ops o; /* the canonical document of the defaults, as the writer prints it */
    enh_ops_init(&o);
    char *s = enh_ops_to_json(&o);
    if (s)
        emit(ctx, "defaults.json", s, strlen(s));
    free(s);
}
