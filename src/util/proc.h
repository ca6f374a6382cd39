/*
 * What vrt asks /proc about a process (in practice a QEMU it started or
 * finds running): whether it is still alive, when it started (so a pid the
 * kernel has given to another process is not mistaken for it) and its
 * command line. One implementation so that every caller gets the same
 * answer, including when /proc cannot be read.
 *
 * proc_root is the directory holding the per-pid entries: NULL means
 * "/proc"; the unit tests pass a directory of their own to stand for a
 * /proc that is missing, unreadable or shows a zombie.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* True while pid names a process that has not exited.
 *
 * kill(pid, 0) failing with ESRCH means gone. Otherwise the state letter
 * of <proc_root>/PID/stat decides, because an exited child that nobody
 * has reaped yet (a zombie, 'Z', or 'X') still answers kill().
 *
 * When that file cannot be read (no /proc mounted, hidepid=, EACCES, the
 * process being reaped between the two looks), kill() is asked once
 * more: ESRCH means gone, anything else alive. Alive is the answer
 * because what callers do with "gone" cannot be undone: they release a
 * domain's VFs and PCI devices to the host, delete its run state, and
 * declare its start failed, while a QEMU still running would keep using
 * them. An "alive" answer for a process that is in fact a zombie only
 * makes a wait last until its timeout, after which callers kill the
 * process anyway. (Before, the QEMU driver answered "gone" and the QMP
 * monitor "alive" for the same unreadable /proc.) */
bool vrt_proc_pid_alive(const char *proc_root, pid_t pid);

/* Start time of pid in clock ticks since boot (field 22 of
 * <proc_root>/PID/stat); 0 when it cannot be read. */
guint64 vrt_proc_pid_starttime(const char *proc_root, pid_t pid);

/* The arguments of pid (<proc_root>/PID/cmdline, NUL-separated). NULL
 * with an error (VIR_ERR_SYSTEM_ERROR) when it cannot be read. */
GStrv vrt_proc_pid_cmdline(const char *proc_root, pid_t pid, GError **error);

/* True when pid is alive and one of its arguments is exactly arg: how vrt
 * recognises its own QEMU (its -uuid, its -pidfile) behind a pid. */
bool vrt_proc_pid_has_arg(const char *proc_root, pid_t pid, const char *arg);
