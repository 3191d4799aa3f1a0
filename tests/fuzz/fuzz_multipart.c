/* fuzz_multipart.c - multipart/form-data bodies (serve_multipart_parse) as the server reads
 * them: the input's first line is the Content-Type header (the boundary comes from it), the
 * rest is the body, copied to a buffer of exactly its size (a read past it is caught). Every
 * part must lie inside the body; an "operations" part goes on to the operations parser, as in
 * the server. */
#include <stdlib.h>
#include <string.h>

#include "enhance/ops.h"
#include "fuzz.h"
#include "serve/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hl = nl ? (size_t)(nl - data) : size;
    char *ctype = malloc(hl + 1);
    memcpy(ctype, data, hl);
    ctype[hl] = '\0';
    size_t blen = nl ? size - hl - 1 : 0;
    char *body = malloc(blen ? blen : 1);
    if (blen)
        memcpy(body, nl + 1, blen);
    serve_part parts[8];
    int np = -1;
    enh_error e;
    enh_error_clear(&e);
    enh_status st = serve_multipart_parse(ctype, body, blen, parts, 8, &np, &e);
    fuzz_check_status("serve_multipart_parse", st, &e);
    if (st == ENH_OK) {
        fuzz_accepted++;
        if (np < 0 || np > 8)
            fuzz_fail("%d parts", np);
        for (int i = 0; i < np; i++) {
            const serve_part *p = &parts[i];
            if (p->len && (p->data < body || p->len > blen || p->data > body + blen - p->len))
                fuzz_fail("part %d lies outside the body", i);
            if (!memchr(p->name, 0, sizeof p->name) || !memchr(p->filename, 0, sizeof p->filename) ||
                !memchr(p->content_type, 0, sizeof p->content_type))
                fuzz_fail("part %d: a header field is not terminated", i);
            if (!strcmp(p->name, "operations") && p->len) {
                enh_ops o;
                enh_error_clear(&e);
                fuzz_check_status("enh_ops_from_json", enh_ops_from_json(p->data, p->len, &o, &e), &e);
            }
        }
    }
    free(ctype);
    free(body);
    return 0;
}

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    static const char s0[] =
        "multipart/form-data; boundary=XyZ\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n"
        "\r\n\x89PNG\r\n\x1a\n....\r\n--XyZ\r\nContent-Disposition: form-data; name=\"operations\"\r\n"
        "Content-Type: application/json\r\n\r\n{\"restorations\":{\"upscale\":\"photo\",\"scale\":2}}\r\n--XyZ--\r\n";
    static const char s1[] =
        "multipart/form-data; boundary=\"----WebKitFormBoundary7MA4YWxkTrZu0gW\"; charset=utf-8\n"
        "preamble\r\n------WebKitFormBoundary7MA4YWxkTrZu0gW\r\ncontent-disposition: form-data; name=ops\r\n\r\n"
        "{\"auto\":true}\r\n------WebKitFormBoundary7MA4YWxkTrZu0gW\r\nContent-Disposition: form-data; name=\"file\"; "
        "filename=\"photo \\\"1\\\".jpg\"\r\n\r\n\xff\xd8\xff\xe0\r\n------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\nepilogue";
    static const char s2[] = "multipart/form-data; boundary=b\n--b\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n"
                             "\r\n--b--";
    emit(ctx, "two-parts.txt", s0, sizeof s0 - 1);
    emit(ctx, "quoted-boundary.txt", s1, sizeof s1 - 1);
    emit(ctx, "empty-part.txt", s2, sizeof s2 - 1);
}
