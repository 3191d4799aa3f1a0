/* net_speed.c - see net_speed.h. A small fixed table: there are four restoration networks. */
#include "enhance/net_speed.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SLOTS 16

static struct {
    char name[64];
    double thread_s_per_mp;
} g_slots[SLOTS];
static int g_used;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

/* thread-seconds per MP before this process has run the network (net_speed.h): the 1 MP runs of
 * 2026-12-07 00:15 UTC. Retouching was not run at 1 MP; at 256x256 it took 2.14 s against
 * enhancement's 2.06 (the same two-stage architecture), so it shares enhancement's figure. */
static double default_thread_s(const char *name)
{
    static const struct {
        const char *name;
        double thread_s;
    } measured[] = {{"maxim-denoising", 152}, {"maxim-deblurring", 160}, {"maxim-enhancement", 110},
                    {"maxim-retouching", 110}};
    for (size_t i = 0; i < sizeof measured / sizeof measured[0]; i++)
        if (!strcmp(measured[i].name, name))
            return measured[i].thread_s;
    return ENH_NET_DEFAULT_THREAD_S_PER_MP;
}

double enh_net_seconds_per_mp(const char *name, int threads)
{
    double v = default_thread_s(name);
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < g_used; i++)
        if (!strcmp(g_slots[i].name, name))
            v = g_slots[i].thread_s_per_mp;
    pthread_mutex_unlock(&g_lock);
    return v / (threads > 0 ? threads : 1);
}

void enh_net_record(const char *name, int threads, double seconds_per_mp)
{
    double v = seconds_per_mp * (threads > 0 ? threads : 1);
    if (!(v > 0))
        return;
    pthread_mutex_lock(&g_lock);
    int i = 0;
    while (i < g_used && strcmp(g_slots[i].name, name))
        i++;
    if (i == g_used && g_used < SLOTS) {
        snprintf(g_slots[i].name, sizeof g_slots[i].name, "%s", name);
        g_slots[i].thread_s_per_mp = v;
        g_used++;
    } else if (i < g_used) {
        /* the last few runs weigh most: the machine's load changes */
        g_slots[i].thread_s_per_mp = 0.5 * g_slots[i].thread_s_per_mp + 0.5 * v;
    }
    pthread_mutex_unlock(&g_lock);
}
