/*
 * The SSH transport of libvrt: URI parameters, the ssh command line and the
 * ssh child's life. The far side runs vrtd's socket through netcat; the
 * command it runs is the one libvirt's netcat proxy uses (netcat's -q0 when
 * that netcat needs it to end on EOF), so a host reachable by
 * `virsh -c qemu+ssh://...?socket=...` is reachable by libvrt alike.
 */
#include "libvrt-ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libvrt-uri.h"
#include "util/error.h"

void
vrt_ssh_target_free(VrtSshTarget *target)
{
    if (!target)
        return;
    g_free(target->host);
    g_free(target->port);
    g_free(target->user);
    g_free(target->keyfile);
    g_free(target->command);
    g_free(target->netcat);
    g_free(target->socket);
    g_free(target);
}

/* libvirt's boolean URI parameters are 0 or 1. */
static bool
parse_bool(const char *uri, const char *key, const char *value, bool *out, GError **error)
{
    if (g_strcmp0(value, "1") == 0 || g_strcmp0(value, "0") == 0) {
        *out = value[0] == '1';
        return true;
    }
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s in URI '%s' must be 0 or 1", key, uri);
    return false;
}

static bool
set_string(char **slot, const char *uri, const char *key, const char *value, GError **error)
{
    if (!value || !*value) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "%s in URI '%s' is empty", key, uri);
        return false;
    }
    g_free(*slot);
    *slot = g_strdup(value);
    return true;
}

static bool
apply_param(VrtSshTarget *t, const char *uri, const char *key, const char *value, GError **error)
{
    if (g_str_equal(key, "socket")) {
        if (!value || value[0] != '/') {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "socket in URI '%s' must be an absolute path", uri);
            return false;
        }
        return set_string(&t->socket, uri, key, value, error);
    }
    if (g_str_equal(key, "keyfile"))
        return set_string(&t->keyfile, uri, key, value, error);
    if (g_str_equal(key, "command"))
        return set_string(&t->command, uri, key, value, error);
    if (g_str_equal(key, "netcat"))
        return set_string(&t->netcat, uri, key, value, error);
    if (g_str_equal(key, "no_verify"))
        return parse_bool(uri, key, value, &t->no_verify, error);
    if (g_str_equal(key, "no_tty"))
        return parse_bool(uri, key, value, &t->no_tty, error);
    if (g_str_equal(key, "proxy")) {
        /* libvrt always uses netcat on the far side: libvirt's own helper
         * there would reach libvirt's daemon, not vrtd. */
        if (g_strcmp0(value, "auto") == 0 || g_strcmp0(value, "netcat") == 0)
            return true;
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "proxy '%s' in URI '%s': vrt reaches vrtd through netcat only",
                      value ? value : "", uri);
        return false;
    }
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported parameter '%s' in URI '%s'", key, uri);
    return false;
}

VrtSshTarget *
vrt_ssh_target_parse(const char *uri, bool readonly, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_ENCODED_QUERY | G_URI_FLAGS_NON_DNS, &local);
    if (!u) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "cannot parse URI '%s': %s", uri, local->message);
        return NULL;
    }
    const char *host = g_uri_get_host(u);
    if (!host || !*host) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "URI '%s' names no host to reach over ssh", uri);
        return NULL;
    }
    if (g_strcmp0(g_uri_get_path(u), "/system") != 0) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unsupported path '%s' in URI '%s': only /system is served",
                      g_uri_get_path(u), uri);
        return NULL;
    }
    g_autoptr(VrtSshTarget) t = g_new0(VrtSshTarget, 1);
    t->host = g_strdup(host);
    if (g_uri_get_port(u) > 0)
        t->port = g_strdup_printf("%d", g_uri_get_port(u));
    if (g_uri_get_user(u))
        t->user = g_strdup(g_uri_get_user(u));
    const char *query = g_uri_get_query(u);
    if (query && *query) {
        g_autoptr(GHashTable) params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, &local);
        if (!params) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "cannot parse the parameters of URI '%s': %s", uri,
                          local->message);
            return NULL;
        }
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, params);
        while (g_hash_table_iter_next(&it, &key, &value))
            if (!apply_param(t, uri, key, value, error))
                return NULL;
    }
    if (!t->socket)
        t->socket = g_strdup(readonly ? VRT_URI_DEFAULT_SOCK_RO : VRT_URI_DEFAULT_SOCK);
    if (!t->netcat)
        t->netcat = g_strdup("nc");
    if (!t->command)
        t->command = g_strdup("ssh");
    return g_steal_pointer(&t);
}

GStrv
vrt_ssh_argv(const VrtSshTarget *t)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_add(b, t->command);
    if (t->port)
        g_strv_builder_addv(b, (const char *[]){ "-p", t->port, NULL });
    if (t->user)
        g_strv_builder_addv(b, (const char *[]){ "-l", t->user, NULL });
    if (t->keyfile)
        g_strv_builder_addv(b, (const char *[]){ "-i", t->keyfile, NULL });
    /* No terminal and no escape character: the channel carries binary frames. */
    g_strv_builder_addv(b, (const char *[]){ "-T", "-e", "none", NULL });
    if (t->no_tty)
        g_strv_builder_addv(b, (const char *[]){ "-o", "BatchMode=yes", NULL });
    if (t->no_verify)
        g_strv_builder_addv(b, (const char *[]){ "-o", "StrictHostKeyChecking=no", NULL });
    /* The far side's shell runs this: an OpenBSD netcat ends on EOF only
     * with -q0, which older netcats do not know. */
    g_autofree char *nc = g_shell_quote(t->netcat);
    g_autofree char *sock = g_shell_quote(t->socket);
    g_autofree char *script = g_strdup_printf("if %s -q 2>&1 | grep 'requires an argument' >/dev/null 2>&1; "
                                              "then exec %s -q0 -U %s; else exec %s -U %s; fi",
                                              nc, nc, sock, nc, sock);
    g_autofree char *quoted = g_shell_quote(script);
    g_autofree char *remote = g_strdup_printf("sh -c %s", quoted);
    g_strv_builder_addv(b, (const char *[]){ "--", t->host, remote, NULL });
    return g_strv_builder_end(b);
}

VrtSshChild *
vrt_ssh_spawn(const VrtSshTarget *target, int *fd, GError **error)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "%s", "cannot create a socket pair for ssh");
        return NULL;
    }
    int errp[2];
    if (pipe2(errp, O_CLOEXEC) < 0) {
        int saved = errno;
        close(sv[0]);
        close(sv[1]);
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, saved, "%s", "cannot create a pipe for ssh's errors");
        return NULL;
    }
    g_auto(GStrv) argv = vrt_ssh_argv(target);
    g_autoptr(GError) local = NULL;
    GPid pid = 0;
    gboolean ok = g_spawn_async_with_pipes_and_fds(NULL, (const char *const *)argv, NULL,
                                                   G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, sv[1],
                                                   sv[1], errp[1], NULL, NULL, 0, &pid, NULL, NULL, NULL, &local);
    close(sv[1]);
    close(errp[1]);
    if (!ok) {
        close(sv[0]);
        close(errp[0]);
        vrt_error_set(error, VIR_ERR_NO_CONNECT, "cannot run '%s': %s", target->command, local->message);
        return NULL;
    }
    int flags = fcntl(errp[0], F_GETFL);
    if (flags >= 0)
        (void)fcntl(errp[0], F_SETFL, flags | O_NONBLOCK);
    VrtSshChild *child = g_new0(VrtSshChild, 1);
    child->pid = pid;
    child->err_fd = errp[0];
    *fd = sv[0];
    return child;
}

char *
vrt_ssh_child_stderr(VrtSshChild *child)
{
    g_autoptr(GString) s = g_string_new(NULL);
    char buf[1024];
    /* ssh has usually exited by the time its socket ended, but its last
     * words may still be on their way: give them a moment. */
    for (int tries = 0; tries < 20; tries++) {
        ssize_t n = read(child->err_fd, buf, sizeof(buf));
        if (n > 0) {
            g_string_append_len(s, buf, n);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            break;
        g_usleep(10 * 1000);
    }
    while (s->len && (s->str[s->len - 1] == '\n' || s->str[s->len - 1] == '\r'))
        g_string_truncate(s, s->len - 1);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

void
vrt_ssh_child_free(VrtSshChild *child)
{
    if (!child)
        return;
    close(child->err_fd);
    /* Its socket is closed: ssh ends on its own within moments. */
    int status;
    for (int tries = 0; tries < 50; tries++) {
        pid_t r = waitpid(child->pid, &status, WNOHANG);
        if (r == child->pid || (r < 0 && errno != EINTR)) {
            g_free(child);
            return;
        }
        g_usleep(10 * 1000);
    }
    kill(child->pid, SIGTERM);
    while (waitpid(child->pid, &status, 0) < 0 && errno == EINTR)
        ;
    g_free(child);
}
