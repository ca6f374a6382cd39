/*
 * libvrt's SSH transport (qemu+ssh://[user@]host[:port]/system): libvrt runs
 * the ssh program with a socket pair as its standard input and output, and
 * the far side's netcat joins that to vrtd's UNIX socket there, as libvirt's
 * remote driver does with its netcat proxy. The URI parameters are libvirt's:
 * socket, netcat, command, keyfile, no_verify, no_tty.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    char *host;
    char *port; /* NULL: ssh's default */
    char *user; /* NULL: ssh's default */
    char *keyfile; /* -i */
    char *command; /* the ssh program, "ssh" by default */
    char *netcat; /* the far side's netcat, "nc" by default */
    char *socket; /* vrtd's socket on the far side */
    bool no_verify; /* -o StrictHostKeyChecking=no */
    bool no_tty; /* -o BatchMode=yes: never prompt */
} VrtSshTarget;

void vrt_ssh_target_free(VrtSshTarget *target);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtSshTarget, vrt_ssh_target_free)

/* Parses a qemu+ssh URI; readonly picks the far side's read-only socket when
 * the URI names none. Fails with VIR_ERR_INVALID_ARG naming the fault. */
VrtSshTarget *vrt_ssh_target_parse(const char *uri, bool readonly, GError **error);

/* The argument vector libvrt runs (NULL-terminated; for the unit test and
 * for vrt_ssh_spawn). */
GStrv vrt_ssh_argv(const VrtSshTarget *target);

/* A running ssh: the socket libvrt speaks the protocol on, and what ssh
 * says on its standard error, read when the connection fails. */
typedef struct {
    GPid pid;
    int err_fd; /* read end of ssh's stderr, non-blocking */
} VrtSshChild;

/* Starts ssh; *fd is libvrt's end of the socket pair. */
VrtSshChild *vrt_ssh_spawn(const VrtSshTarget *target, int *fd, GError **error);

/* What ssh wrote to its standard error so far (may be empty), without
 * waiting; trailing newlines removed. */
char *vrt_ssh_child_stderr(VrtSshChild *child);

/* Ends ssh (its socket is already closed): waits briefly for it to exit,
 * then kills it, and reaps it. */
void vrt_ssh_child_free(VrtSshChild *child);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtSshChild, vrt_ssh_child_free)
