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

double enh_net_seconds_per_mp(const char *name, int threads)
{
    double v = ENH_NET_DEFAULT_THREAD_S_PER_MP;
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
