/*
 * Unit tests of libvrt's URI parser: which socket each accepted URI names,
 * what CONNECT_OPEN is sent, and that bad URIs fail with a message naming
 * the fault.
 */
#include "libvrt-uri.h"

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
    expect_bad("qemu+tcp://host/system", "transport 'tcp'");
    expect_bad("qemu+ssh://host/system", "transport 'ssh'");
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

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/libvrt/uri/default", test_default);
    g_test_add_func("/libvrt/uri/socket-param", test_socket_param);
    g_test_add_func("/libvrt/uri/tls", test_tls);
    g_test_add_func("/libvrt/uri/bad", test_bad);
    return g_test_run();
}
