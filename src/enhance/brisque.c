/* brisque.c - placeholder until the implementation lands: every call says it is not built. */
#include "enhance/brisque.h"

enh_status enh_brisque_load(const char *model_yml, const char *range_yml, enh_brisque **out, enh_error *err)
{
    (void)model_yml;
    (void)range_yml;
    *out = NULL;
    return enh_fail(err, ENH_EUNSUPPORTED, "BRISQUE is not built into this version of enhance");
}

void enh_brisque_free(enh_brisque *b) { (void)b; }

enh_status enh_brisque_score(const enh_brisque *b, VipsImage *in, double *score, enh_error *err)
{
    (void)b;
    (void)in;
    *score = 0;
    return enh_fail(err, ENH_EUNSUPPORTED, "BRISQUE is not built into this version of enhance");
}
