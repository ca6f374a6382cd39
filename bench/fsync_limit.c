/*
 * vrt-bench-fsync-limit: the most durable define+undefine pairs per second
 * that WRITERS concurrent clients could get from the disk under DIR, with
 * no daemon in between. bench_domains.py prints it beside both daemons'
 * rate with as many clients.
 *
 * Each writer does what one durable pair needs on disk, as vrtd does it:
 * a new file with about a definition's bytes, its fsync, the rename over
 * its name and a directory fsync (define); the unlink and a directory fsync
 * (undefine). The writers go in lockstep: every directory fsync is shared
 * by all of them, the best sharing any group commit can reach, and the
 * file fsyncs run at the same time. Nothing else runs, so the rate is the
 * disk's, not a program's.
 *
 * Usage: vrt-bench-fsync-limit DIR WRITERS PAIRS
 * Prints "PAIRS_PER_S CPU_US_PER_PAIR" (all writers together; CPU is this
 * process's user+system time, the kernel's cost of the syscalls).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define DEFINITION_BYTES 1024
#define MAX_WRITERS 256

typedef struct {
    const char *dir;
    int dirfd;
    long pairs;
    pthread_barrier_t barrier;
    int failed; /* errno of the first failure, 0 if none */
    pthread_mutex_t lock;
} Limit;

typedef struct {
    Limit *limit;
    int index;
} Writer;

static void
fail(Limit *l, const char *what, const char *path)
{
    int err = errno;

    pthread_mutex_lock(&l->lock);
    if (!l->failed) {
        l->failed = err ? err : EIO;
        fprintf(stderr, "vrt-bench-fsync-limit: %s %s: %s\n", what, path, strerror(l->failed));
    }
    pthread_mutex_unlock(&l->lock);
}

/* All writers meet; one of them fsyncs the directory; all wait for it. */
static void
shared_dir_fsync(Limit *l)
{
    if (pthread_barrier_wait(&l->barrier) == PTHREAD_BARRIER_SERIAL_THREAD && fsync(l->dirfd) < 0)
        fail(l, "cannot fsync directory", l->dir);
    pthread_barrier_wait(&l->barrier);
}

static void *
writer_main(void *opaque)
{
    Writer *w = opaque;
    Limit *l = w->limit;
    char data[DEFINITION_BYTES];
    char path[4096], tmp[4200];

    memset(data, 'x', sizeof(data));
    for (long i = 0; i < l->pairs; i++) {
        snprintf(path, sizeof(path), "%s/limit-%d-%ld.xml", l->dir, w->index, i);
        snprintf(tmp, sizeof(tmp), "%s.new", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            fail(l, "cannot create", tmp);
        else if (write(fd, data, sizeof(data)) != (ssize_t)sizeof(data) || fsync(fd) < 0)
            fail(l, "cannot write", tmp);
        if (fd >= 0 && close(fd) < 0)
            fail(l, "cannot close", tmp);
        if (rename(tmp, path) < 0)
            fail(l, "cannot rename", tmp);
        shared_dir_fsync(l);
        if (unlink(path) < 0)
            fail(l, "cannot remove", path);
        shared_dir_fsync(l);
    }
    return NULL;
}

static double
seconds(const struct timespec *t)
{
    return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double
cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
    Limit l = { .lock = PTHREAD_MUTEX_INITIALIZER };
    Writer writers[MAX_WRITERS];
    pthread_t threads[MAX_WRITERS];
    struct timespec t0, t1;
    int n, started = 0;

    if (argc != 4 || (n = atoi(argv[2])) < 1 || n > MAX_WRITERS || (l.pairs = atol(argv[3])) < 1) {
        fprintf(stderr, "usage: vrt-bench-fsync-limit DIR WRITERS(1-%d) PAIRS\n", MAX_WRITERS);
        return 2;
    }
    l.dir = argv[1];
    l.dirfd = open(l.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (l.dirfd < 0) {
        fprintf(stderr, "vrt-bench-fsync-limit: cannot open %s: %s\n", l.dir, strerror(errno));
        return 1;
    }
    pthread_barrier_init(&l.barrier, NULL, (unsigned)n);
    double cpu0 = cpu_seconds();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        writers[i] = (Writer){ .limit = &l, .index = i };
        int err = pthread_create(&threads[i], NULL, writer_main, &writers[i]);
        if (err) {
            /* The others would wait for it at the barrier for ever. */
            fprintf(stderr, "vrt-bench-fsync-limit: cannot start a writer: %s\n", strerror(err));
            _exit(1);
        }
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double total = (double)n * (double)l.pairs;
    printf("%.1f %.1f\n", total / (seconds(&t1) - seconds(&t0)), (cpu_seconds() - cpu0) / total * 1e6);
    close(l.dirfd);
    return l.failed ? 1 : 0;
}
