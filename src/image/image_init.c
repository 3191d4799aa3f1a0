/* image_init.c - libvips start-up: cache off, loaders allow-listed, warnings to our log. */
#include "image/image_init.h"

#include <pthread.h>
#include <string.h>
#include <vips/vips.h>

#include "core/log.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_failed;
static char g_init_msg[256];

/* Loader base classes we trust; blocking or unblocking a class covers its file, buffer
 * and source subclasses. */
static const char *const g_allowed_loaders[] = {
    "VipsForeignLoadJpeg", "VipsForeignLoadPng",  "VipsForeignLoadWebp",
    "VipsForeignLoadHeif", "VipsForeignLoadTiff", "VipsForeignLoadNsgif",
};

static void vips_log_handler(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user)
{
    (void)user;
    /* libvips reports its plans at info/debug ("reducev: 13 point mask", several lines per
     * resize): ours at debug only, so `info` stays one line per event that matters */
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        ENH_LOGW("%s: %s", domain ? domain : "vips", message);
    else if (level & G_LOG_LEVEL_WARNING)
        ENH_LOGI("%s: %s", domain ? domain : "vips", message);
    else
        ENH_LOGD("%s: %s", domain ? domain : "vips", message);
}

static void do_init(void)
{
    if (VIPS_INIT("enhance")) {
        g_init_failed = 1;
        char *m = vips_error_buffer_copy();
        snprintf(g_init_msg, sizeof g_init_msg, "cannot start libvips: %s", m ? m : "unknown error");
        g_free(m);
        return;
    }
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    for (size_t i = 0; i < sizeof g_allowed_loaders / sizeof g_allowed_loaders[0]; i++)
        vips_operation_block_set(g_allowed_loaders[i], FALSE);
    g_log_set_handler("VIPS", G_LOG_LEVEL_MASK, vips_log_handler, NULL);
}

enh_status enh_image_init(enh_error *err)
{
    pthread_once(&g_once, do_init);
    if (g_init_failed)
        return enh_fail(err, ENH_EINTERNAL, "%s", g_init_msg);
    return ENH_OK;
}

void enh_image_set_threads(int n)
{
    if (enh_image_init(NULL) == ENH_OK)
        vips_concurrency_set(n > 0 ? n : 0);
}

const char *enh_image_accepted_formats(void)
{
    return "JPEG, PNG, WebP, AVIF/HEIF, TIFF, GIF";
}
