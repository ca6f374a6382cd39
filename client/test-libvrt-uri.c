/*
 * Unit tests of libvrt's URI parser: which socket each accepted URI names,
 * what CONNECT_OPEN is sent, and that bad URIs fail with a message naming
 * the fault; over ssh, the command line libvrt runs, and what the far
 * side's shell makes of it.
 */
#include "libvrt-uri.h"

#include <glib/gstdio.h>
#include <string.h>
#include "util/error.h"

static void
test_default(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtUri) u = vrt_uri_parse(NULL, false, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(u->socket, ==, "/run/vrt/vrtd-sock");
    g_assert_cmpstr(u->remote_uri, ==, "qemu:///system");

    g_autoptr(VrtUri) ro = vrt_uri_parse("qemu:///system", true, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(ro->socket, ==, "/run/vrt/vrtd-sock-ro");
}

static void
test_socket_param(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtUri) u = vrt_uri_parse("qemu+unix:///system?socket=/tmp/x%20y/libvirt-sock", true, &err);
    g_assert_no_error(err);
    /* An explicit socket wins over the read-only default, as in libvirt. */
    g_assert_cmpstr(u->socket, ==, "/tmp/x y/libvirt-sock");
    g_assert_cmpstr(u->remote_uri, ==, "qemu:///system");

    g_autoptr(VrtUri) plain = vrt_uri_parse("qemu+unix:///system", false, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(plain->socket, ==, "/run/vrt/vrtd-sock");
}

static void
test_tls(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtUri) u =
        vrt_uri_parse("qemu+tls://127.0.0.1/system?pkipath=/tmp/p%20ki&no_verify=1&no_sanity=1", false, &err);
    g_assert_no_error(err);
    g_assert_true(u->tls);
    g_assert_cmpstr(u->host, ==, "127.0.0.1");
    g_assert_cmpuint(u->port, ==, 16514);
    g_assert_cmpstr(u->pkipath, ==, "/tmp/p ki");
    g_assert_true(u->no_verify);
    g_assert_true(u->no_sanity);
    g_assert_null(u->socket);
    g_assert_cmpstr(u->remote_uri, ==, "qemu:///system");

    g_autoptr(VrtUri) port = vrt_uri_parse("qemu+tls://[::1]:1234/system", false, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(port->host, ==, "::1");
    g_assert_cmpuint(port->port, ==, 1234);
    g_assert_null(port->pkipath);
    g_assert_false(port->no_verify);
}

static void
test_tcp(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtUri) u = vrt_uri_parse("qemu+tcp://127.0.0.1/system", false, &err);
    g_assert_no_error(err);
    g_assert_true(u->tcp);
    g_assert_false(u->tls);
    g_assert_cmpstr(u->host, ==, "127.0.0.1");
    g_assert_cmpuint(u->port, ==, 16509);
    g_assert_null(u->socket);
    g_assert_cmpstr(u->remote_uri, ==, "qemu:///system");

    g_autoptr(VrtUri) port = vrt_uri_parse("qemu+tcp://host.example:1509/system", false, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(port->host, ==, "host.example");
    g_assert_cmpuint(port->port, ==, 1509);
}

static void
expect_bad(const char *uri, const char *words)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtUri) u = vrt_uri_parse(uri, false, &err);
    g_assert_null(u);
    g_assert_error(err, VRT_ERROR, VIR_ERR_INVALID_ARG);
    if (!strstr(err->message, words))
        g_error("URI '%s': message '%s' lacks '%s'", uri, err->message, words);
}

static void
test_bad(void)
{
    expect_bad("xen:///system", "'qemu' driver");
    expect_bad("qemu+tcp:///system", "qemu+tcp://HOST/system");
    expect_bad("qemu+tcp://host/system?pkipath=/x", "parameter 'pkipath'");
    expect_bad("qemu+tcp://host/system?socket=/x", "parameter 'socket'");
    expect_bad("qemu+ssh:///system", "names no host");
    expect_bad("qemu+ssh://host/session", "path '/session'");
    expect_bad("qemu+ssh://host/system?socket=rel", "absolute path");
    expect_bad("qemu+ssh://host/system?no_verify=yes", "must be 0 or 1");
    expect_bad("qemu+ssh://host/system?proxy=native", "netcat only");
    expect_bad("qemu+ssh://host/system?sshauth=agent", "parameter 'sshauth'");
    expect_bad("qemu://host/system", "names a host");
    expect_bad("qemu:///session", "path '/session'");
    expect_bad("qemu+unix:///system?socket=relative", "absolute path");
    expect_bad("qemu+unix:///system?socket=", "absolute path");
    expect_bad("qemu+unix:///system?mode=legacy", "parameter 'mode'");
    expect_bad("nonsense", "cannot parse URI");
    expect_bad("qemu+tls:///system", "qemu+tls://HOST/system");
    expect_bad("qemu+tls://host:99999/system", "bad port");
    expect_bad("qemu+tls://host/system?socket=/x", "parameter 'socket'");
    expect_bad("qemu+unix:///system?pkipath=/x", "parameter 'pkipath'");
}

/* The far side's shell runs the last argument; a stand-in netcat prints
 * the arguments it got, so the quoting of an awkward socket path shows. */
static char *
run_far_side(const char *remote, const char *netcat_script)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("vrt-ssh-XXXXXX", &err);
    g_assert_no_error(err);
    g_autofree char *nc = g_build_filename(dir, "nc", NULL);
    g_assert_true(g_file_set_contents(nc, netcat_script, -1, &err));
    g_assert_cmpint(g_chmod(nc, 0755), ==, 0);
    g_autofree char *cmd = g_strdup(remote);
    /* the target was made with netcat=@NC@: put the stand-in's path there */
    GString *s = g_string_new(cmd);
    g_string_replace(s, "@NC@", nc, 0);
    g_autofree char *final = g_string_free(s, FALSE);
    char *out = NULL;
    int status = 0;
    const char *argv[] = { "/bin/sh", "-c", final, NULL };
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &err));
    g_assert_no_error(err);
    g_unlink(nc);
    g_rmdir(dir);
    return out;
}

static void
test_ssh(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VrtUri) u = vrt_uri_parse("qemu+ssh://ann@node7:2222/system?socket=/srv/it%27s%20here/vrtd-sock"
                                        "&keyfile=/k/id&no_verify=1&no_tty=1&command=/opt/ssh&netcat=@NC@",
                                        false, &err);
    g_assert_no_error(err);
    g_assert_null(u->socket);
    g_assert_cmpstr(u->remote_uri, ==, "qemu:///system");
    g_assert_cmpstr(u->ssh->socket, ==, "/srv/it's here/vrtd-sock");
    g_auto(GStrv) argv = vrt_ssh_argv(u->ssh);
    g_assert_cmpuint(g_strv_length(argv), ==, 17);
    g_autofree char *head = g_strjoinv(" ", argv);
    g_assert_true(g_str_has_prefix(head, "/opt/ssh -p 2222 -l ann -i /k/id -T -e none -o BatchMode=yes "
                                         "-o StrictHostKeyChecking=no -- node7 sh -c "));

    /* A netcat that ends on EOF by itself (no -q): it gets -U and the path. */
    g_autofree char *plain = run_far_side(argv[16], "#!/bin/sh\nfor a; do printf '[%s]' \"$a\"; done\n");
    g_assert_cmpstr(plain, ==, "[-U][/srv/it's here/vrtd-sock]");
    /* OpenBSD's netcat, which wants -q0 to end on EOF. */
    g_autofree char *bsd = run_far_side(
        argv[16], "#!/bin/sh\n[ \"$1\" = -q ] && [ $# = 1 ] && { echo 'nc: option requires an argument -- q' >&2; "
                  "exit 1; }\nfor a; do printf '[%s]' \"$a\"; done\n");
    g_assert_cmpstr(bsd, ==, "[-q0][-U][/srv/it's here/vrtd-sock]");

    /* Defaults: ssh from PATH, the far side's standard socket, read-only too. */
    g_autoptr(VrtUri) d = vrt_uri_parse("qemu+ssh://node7/system", true, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(d->ssh->socket, ==, "/run/vrt/vrtd-sock-ro");
    g_auto(GStrv) dargv = vrt_ssh_argv(d->ssh);
    g_autofree char *dline = g_strjoinv(" ", dargv);
    g_assert_true(g_str_has_prefix(dline, "ssh -T -e none -- node7 sh -c "));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/libvrt/uri/default", test_default);
    g_test_add_func("/libvrt/uri/socket-param", test_socket_param);
    g_test_add_func("/libvrt/uri/tls", test_tls);
    g_test_add_func("/libvrt/uri/tcp", test_tcp);
    g_test_add_func("/libvrt/uri/bad", test_bad);
    g_test_add_func("/libvrt/uri/ssh", test_ssh);
    return g_test_run();
}
