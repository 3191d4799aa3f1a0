/* fuzz_query.c - the HTTP query keys (serve_query_apply), as the server applies them: the input
 * is a query string "k=v&k2&..." (libmicrohttpd has already split and percent-decoded it when our
 * code sees it, so the split here is plain); every key is applied in turn to one enh_ops and one
 * serve_params (the rules that span keys see each other), at most SERVE_MAX_QUERY_KEYS of them
 * (the framing check refuses more), then the result is validated and printed as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enhance/ops.h"
#include "fuzz.h"
#include "serve/http_guard.h"
#include "serve/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *q = malloc(size + 1);
    memcpy(q, data, size);
    q[size] = '\0'; /* a NUL inside ends the query, as it does in a URL */
    enh_ops o;
    enh_ops_init(&o);
    serve_params p;
    serve_params_init(&p);
    enh_error e;
    enh_error_clear(&e);
    enh_status st = ENH_OK;
    int keys = 0;
    for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv && st == ENH_OK && keys < SERVE_MAX_QUERY_KEYS;
         kv = strtok_r(NULL, "&", &save), keys++) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq = '\0';
        if (!strcmp(kv, "filename") || !strcmp(kv, "dry_run")) /* the server's own keys, not operations */
            continue;
        st = serve_query_apply(kv, eq ? eq + 1 : NULL, &o, &p, &e);
        fuzz_check_status("serve_query_apply", st, &e);
    }
    if (st == ENH_OK) {
        st = enh_ops_validate(&o, &e); /* the server answers 422 when this fails */
        fuzz_check_status("enh_ops_validate", st, &e);
    }
    if (st == ENH_OK) {
        fuzz_accepted++;
        char *s = enh_ops_to_json(&o);
        if (!s)
            fuzz_fail("enh_ops_to_json returned NULL");
        enh_ops o2;
        enh_error_clear(&e);
        if (enh_ops_from_json(s, strlen(s), &o2, &e) != ENH_OK || memcmp(&o, &o2, sizeof o) != 0)
            fuzz_fail("query -> JSON -> ops changed the operations ('%s'): %s", e.msg, s);
        free(s);
    }
    free(q);
    return 0;
}

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    static const char *const qs[] = {
        "upscale=photo&scale=2&filename=garden.jpg",
        "upscale=quality&scale=3.5&denoise=auto&deblur=30&sharpen&decompress=strong&priority=high&deadline_ms=5000",
        "width=50%&height=300&fit=cover&gravity=smart&padding=4&background=%23ff8000&kernel=cubic",
        "background=10,20,30,255&fit=pad&width=640&height=480&format=webp&quality=85&lossless&metadata=keep",
        "auto&auto_color&auto_exposure=false&hdr=40&exposure=-20&contrast=10&saturation=5&temperature=12&tint=-7",
        "denoise=ai&low_light=60&model=maxim-denoising&format=png&bit_depth=16&priority=batch",
        "upscale=resample&scale=1.5&format=jpeg&progressive=true&quality=90",
    };
    char name[32];
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        snprintf(name, sizeof name, "query-%zu.txt", i);
        emit(ctx, name, qs[i], strlen(qs[i]));
    }
}
