/* cli_progress.c - throttled one-line progress bar with ETA. */
#include "cli/cli_progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/fsutil.h"

void cli_progress_init(cli_progress *p, int enabled)
{
    memset(p, 0, sizeof *p);
    p->enabled = enabled;
    pthread_mutex_init(&p->mu, NULL);
    p->t0 = enh_now();
}

void cli_progress_destroy(cli_progress *p)
{
    cli_progress_clear(p);
    pthread_mutex_destroy(&p->mu);
}

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

void cli_progress_draw(cli_progress *p, const char *label, double f, int force)
{
    if (!p->enabled)
        return;
    pthread_mutex_lock(&p->mu);
    double now = enh_now();
    if (!force && now - p->last_draw < 0.1) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    p->last_draw = now;
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    char eta[32] = "";
    double el = now - p->t0;
    if (f > 0.02 && f < 1 && el > 1.0) {
        int s = (int)(el * (1 - f) / f + 0.5);
        if (s >= 3600)
            snprintf(eta, sizeof eta, "  ETA %d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
        else
            snprintf(eta, sizeof eta, "  ETA %d:%02d", s / 60, s % 60);
    }
    int cols = term_width();
    char lab[256];
    snprintf(lab, sizeof lab, "%s", label ? label : "");
    int barw = cols - 2 - (int)strlen(lab) - 16 - (int)strlen(eta);
    if (barw > 40)
        barw = 40;
    if (barw < 10) {
        /* narrow terminal: shorten the label */
        int keep = cols - 16 - (int)strlen(eta) - 12;
        if (keep < 0)
            keep = 0;
        if ((int)strlen(lab) > keep)
            lab[keep] = '\0';
        barw = 10;
    }
    char bar[64];
    int fill = (int)(f * barw + 0.5);
    for (int i = 0; i < barw; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[barw] = '\0';
    fprintf(stderr, "\r\033[K%s [%s] %3d%%%s", lab, bar, (int)(f * 100 + 0.5), eta);
    fflush(stderr);
    p->drawn = 1;
    pthread_mutex_unlock(&p->mu);
}

void cli_progress_clear(cli_progress *p)
{
    if (!p->enabled)
        return;
    pthread_mutex_lock(&p->mu);
    if (p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->drawn = 0;
    }
    pthread_mutex_unlock(&p->mu);
}
