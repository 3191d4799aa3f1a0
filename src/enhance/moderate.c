/* moderate.c - placeholder until the implementation lands: every call says it is not built. */
#include "enhance/moderate.h"

static const char *const names[ENH_NSFW_NCLASSES] = {"drawing", "hentai", "neutral", "porn", "sexy"};

const char *enh_nsfw_class_name(enh_nsfw_class c)
{
    return (unsigned)c < ENH_NSFW_NCLASSES ? names[c] : "?";
}

enh_status enh_classifier_load(const char *name, const char *models_dir, const enh_nn_options *opt,
                               enh_classifier **out, enh_error *err)
{
    (void)name;
    (void)models_dir;
    (void)opt;
    *out = NULL;
    return enh_fail(err, ENH_EUNSUPPORTED, "moderation is not built into this version of enhance");
}

void enh_classifier_free(enh_classifier *c) { (void)c; }

const char *enh_classifier_name(const enh_classifier *c)
{
    (void)c;
    return "";
}

enh_status enh_classify(const enh_classifier *c, VipsImage *in, float probs[ENH_NSFW_NCLASSES], enh_error *err)
{
    (void)c;
    (void)in;
    for (int i = 0; i < ENH_NSFW_NCLASSES; i++)
        probs[i] = 0;
    return enh_fail(err, ENH_EUNSUPPORTED, "moderation is not built into this version of enhance");
}
