/* tmp_files.c: see tmp_files.h. A slot is filled before it is marked in
 * use and unmarked before it is reused, so the handler (which takes no
 * lock) reads only whole names. */
#include "io/tmp_files.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 16

static char names[SLOTS][4096];
static volatile sig_atomic_t in_use[SLOTS];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* writers of several threads (the data loader) */

void cu_tmp_files_add(const char *path)
{
    size_t n = strlen(path);
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SLOTS && n < sizeof names[i]; i++)
        if (!in_use[i]) {
            memcpy(names[i], path, n + 1);
            in_use[i] = 1;
            break;
        }
    pthread_mutex_unlock(&lock);
}

void cu_tmp_files_drop(const char *path)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SLOTS; i++)
        if (in_use[i] && !strcmp(names[i], path)) {
            in_use[i] = 0;
            break;
        }
    pthread_mutex_unlock(&lock);
}

/* Holds off (block 1) or lets through (block 0) SIGINT and SIGTERM. */
static void hold_signals(int block, sigset_t *old)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    if (block)
        pthread_sigmask(SIG_BLOCK, &s, old);
    else
        pthread_sigmask(SIG_SETMASK, old, NULL);
}

int cu_tmp_files_open(const char *path, int flags, unsigned mode)
{
    sigset_t old;
    hold_signals(1, &old);
    int fd = open(path, flags, (mode_t)mode);
    if (fd >= 0)
        cu_tmp_files_add(path);
    hold_signals(0, &old);
    return fd;
}

void cu_tmp_files_remove_all(void)
{
    for (int i = 0; i < SLOTS; i++)
        if (in_use[i])
            unlink(names[i]);
}

static void on_signal(int sig)
{
    cu_tmp_files_remove_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

void cu_tmp_files_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
