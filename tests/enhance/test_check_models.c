/* test_check_models.c - enh_check_run with the real models on synthetic images made here: the
 * classifier's probabilities are a distribution, a policy that fires on any probability blocks
 * deterministically, BRISQUE gives a finite score that strong noise makes worse, the parts
 * that are missing are reported (not fatal) unless required, and one checker serves several
 * threads. Exits 77 (skipped) when neither the nsfwjs classifier
 * (`enhance models fetch nsfwjs-mobilenetv2`) nor BRISQUE's files (Debian opencv-data) are
 * installed. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "../check.h"
#include "enhance/brisque.h"
#include "enhance/check.h"
#include "image/image_init.h"

/* A photo-like test card: smooth gradients, a few discs and fine texture (deterministic). */
static VipsImage *card(int w, int h)
{
    unsigned char *px = malloc((size_t)w * h * 3);
    unsigned s = 12345;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            s = s * 1103515245u + 12345u;
            int n = (int)((s >> 16) & 15) - 8;
            int r = 40 + 160 * x / w, g = 60 + 120 * y / h, b = 120;
            int dx = x - w / 3, dy = y - h / 2;
            if (dx * dx + dy * dy < (h / 5) * (h / 5))
                r = 220, g = 200, b = 60;
            if (((x / 8) + (y / 8)) % 2 && x > 2 * w / 3)
                g = 30;
            unsigned char *p = px + ((size_t)y * w + x) * 3;
            p[0] = (unsigned char)(r + n < 0 ? 0 : r + n > 255 ? 255 : r + n);
            p[1] = (unsigned char)(g + n < 0 ? 0 : g + n > 255 ? 255 : g + n);
            p[2] = (unsigned char)(b + n < 0 ? 0 : b + n > 255 ? 255 : b + n);
        }
    VipsImage *im = vips_image_new_from_memory_copy(px, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR);
    free(px);
    return im;
}

typedef struct {
    enh_checker *k;
    VipsImage *im;
    float probs[ENH_NSFW_NCLASSES];
    enh_status st;
} thread_arg;

static void *classify_thread(void *p)
{
    thread_arg *a = p;
    enh_check_result r;
    memset(&r, 0, sizeof r);
    enh_check_policy pol;
    enh_check_policy_default(&pol);
    a->st = enh_check_moderate(a->k, a->im, &pol, &r, NULL);
    memcpy(a->probs, r.probs, sizeof a->probs);
    return NULL;
}

int main(void)
{
    enh_error err = {0};
    if (enh_image_init(&err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const char *dir = getenv("ENHANCE_MODELS_DIR"); /* tests may read it; the library does not */
    enh_checker *k = enh_checker_new(NULL, dir, NULL, NULL, NULL);
    CHECK(k != NULL);
    const enh_classifier *c = NULL;
    const enh_brisque *b = NULL;
    enh_status cst = enh_checker_classifier(k, &c, &err);
    if (cst)
        printf("classifier: %s\n", err.msg);
    enh_status bst = enh_checker_brisque(k, &b, &err);
    if (bst)
        printf("brisque: %s\n", err.msg);
    if (cst && bst) {
        printf("SKIP: neither the classifier nor BRISQUE is installed (enhance models fetch nsfwjs-mobilenetv2; "
               "apt-get install opencv-data)\n");
        enh_checker_free(k);
        return 77;
    }
    VipsImage *im = card(320, 240);
    enh_check_opts o;
    enh_check_opts_init(&o);
    enh_check_result r;
    CHECK(enh_check_run(k, im, &o, &r, &err) == ENH_OK);
    CHECK(r.width == 320 && r.height == 240);
    CHECK(r.assess_ran);
    if (!cst) {
        CHECK(r.moderation_ran);
        double sum = 0;
        for (int i = 0; i < ENH_NSFW_NCLASSES; i++) {
            CHECK(r.probs[i] >= 0 && r.probs[i] <= 1);
            sum += r.probs[i];
        }
        CHECK_NEAR(sum, 1.0, 1e-3);
        /* any probability is >= 0: this policy blocks whatever the network says */
        CHECK(enh_check_policy_parse("none,neutral=0:0.0000001,drawing=0:0.0000001", &o.policy, &err) == ENH_OK);
        CHECK(enh_check_run(k, im, &o, &r, &err) == ENH_OK);
        CHECK(r.decision == ENH_CHECK_BLOCK && r.nreasons >= 1);
        /* and this one never fires */
        enh_check_policy_none(&o.policy);
        CHECK(enh_check_run(k, im, &o, &r, &err) == ENH_OK);
        CHECK(r.decision == ENH_CHECK_ALLOW && r.nreasons == 0);
        char *js = enh_check_result_to_json(&r, "card");
        CHECK(js && strstr(js, "\"available\":true"));
        free(js);
        /* the same model from several threads at once gives the same answer */
        thread_arg a[3];
        pthread_t t[3];
        for (int i = 0; i < 3; i++) {
            a[i] = (thread_arg){k, im, {0}, ENH_EINTERNAL};
            pthread_create(&t[i], NULL, classify_thread, &a[i]);
        }
        for (int i = 0; i < 3; i++) {
            pthread_join(t[i], NULL);
            CHECK(a[i].st == ENH_OK);
            for (int j = 0; j < ENH_NSFW_NCLASSES; j++)
                CHECK_NEAR(a[i].probs[j], a[0].probs[j], 1e-6);
        }
    } else {
        CHECK(!r.moderation_ran && r.moderation_status != ENH_OK && r.moderation_error[0]);
        /* required: the check fails with the part's error */
        o.moderation = ENH_CHECK_REQUIRE;
        enh_check_result rq;
        CHECK(enh_check_run(k, im, &o, &rq, &err) != ENH_OK);
        o.moderation = ENH_CHECK_TRY;
    }
    if (!bst) {
        CHECK_MSG(r.brisque_ran && isfinite(r.brisque), "%s", r.brisque_error);
        /* strong noise on a smooth copy scores worse (higher) than the smooth copy */
        VipsImage *smooth = NULL, *s8 = NULL, *noise = NULL, *noisy = NULL, *n8 = NULL;
        CHECK(vips_gaussblur(im, &smooth, 1.5, NULL) == 0);
        CHECK(vips_cast_uchar(smooth, &s8, NULL) == 0);
        CHECK(vips_gaussnoise(&noise, 320, 240, "sigma", 40.0, "mean", 0.0, NULL) == 0);
        CHECK(vips_add(s8, noise, &noisy, NULL) == 0);
        CHECK(vips_cast_uchar(noisy, &n8, NULL) == 0);
        enh_check_result rs, rn;
        o.moderation = ENH_CHECK_SKIP;
        CHECK(enh_check_run(k, s8, &o, &rs, &err) == ENH_OK);
        CHECK(enh_check_run(k, n8, &o, &rn, &err) == ENH_OK);
        CHECK(rs.brisque_ran && rn.brisque_ran);
        CHECK_MSG(rn.brisque > rs.brisque, "noisy %g vs smooth %g", rn.brisque, rs.brisque);
        CHECK(!rs.moderation_ran && rs.moderation_status == ENH_OK); /* skipped, not failed */
        g_object_unref(smooth);
        g_object_unref(s8);
        g_object_unref(noise);
        g_object_unref(noisy);
        g_object_unref(n8);
    } else {
        CHECK(!r.brisque_ran && r.brisque_error[0]);
    }
    g_object_unref(im);
    enh_checker_free(k);
    CHECK_MAIN_END();
}
