/* dir_lock.c: see dir_lock.h. The holder removes .lock before it lets go,
 * so a process that opened the old file just before may lock a file that
 * is no longer at the path: after locking, the file must still be the one
 * at the path, else it tries again. */
#define _DEFAULT_SOURCE /* flock */
#include "io/dir_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file descriptor of path, locked (>= 0); -1 when another process holds
 * it (*holder: its pid, or 0), -2 on another error (errno). */
static int try_lock(const char *path, long *holder)
{
    for (int tries = 0; tries < 100; tries++) {
        int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (f < 0)
            return -2;
        if (flock(f, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char who[32] = "";
            ssize_t got = e == EWOULDBLOCK ? pread(f, who, sizeof who - 1, 0) : -1;
            close(f);
            errno = e;
            *holder = got > 0 ? strtol(who, NULL, 10) : 0;
            return e == EWOULDBLOCK ? -1 : -2;
        }
        struct stat a, b;
        if (fstat(f, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
            return f;
        close(f); /* locked a file its holder had just removed */
    }
    errno = EAGAIN;
    return -2;
}

enum cu_status cu_dir_lock(const char *dir, int *fd, struct cu_err *err)
{
    char path[4096];
    *fd = -1;
    int n = snprintf(path, sizeof path, "%s/.lock", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return cu_fail(err, CU_EUSAGE, "%s: path too long", dir);
    long holder = 0;
    int f = try_lock(path, &holder);
    if (f == -2)
        return cu_fail(err, CU_EIO, "%s: cannot lock: %s", path, strerror(errno));
    if (f == -1 && holder > 0)
        return cu_fail(err, CU_EUSAGE,
                       "%s: in use by another clunet (pid %ld) writing into it; wait for it to finish or stop it", dir,
                       holder);
    if (f == -1)
        return cu_fail(err, CU_EUSAGE, "%s: in use by another clunet writing into it; wait for it to finish or stop it",
                       dir);
    char me[32];
    int len = snprintf(me, sizeof me, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, me, (size_t)len, 0) != len) {
        /* the pid is a courtesy for the message; the lock holds without it */
    }
    *fd = f;
    return CU_OK;
}

void cu_dir_unlock(const char *dir, int fd)
{
    if (fd < 0)
        return;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/.lock", dir);
    if (n > 0 && (size_t)n < sizeof path)
        unlink(path);
    close(fd);
}
