/*
 * Unit tests of the vrtd.conf parser: what an administrator writes, and the
 * errors a mistake gets.
 */
#include "daemon/config.h"
#include "util/error.h"

#include <string.h>

static void
test_values(void)
{
    VrtConfig cfg;
    vrt_config_init(&cfg);
    g_autoptr(GError) err = NULL;
    const char *text = "# a comment\n"
                       "unix_sock_dir = \"/tmp/x\"   # trailing comment\n"
                       "unix_sock_ro_perms = \"0770\"\n"
                       "unix_sock_rw_perms = '0700'\n"
                       "max_clients = 10\n"
                       "max_anonymous_clients = 0\n"
                       "max_workers=3\n"
                       "keepalive_interval = -1\n"
                       "keepalive_count = 0\n"
                       "log_level = 1\n"
                       "log_outputs = \"1:stderr\"\n"
                       "config_sync_ms = 0\n"
                       "listen_addr = \"0.0.0.0\"\n"
                       "access_drivers = [ \"polkit\", \"none\" ]\n";
    g_assert_true(vrt_config_parse(&cfg, "t.conf", text, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(cfg.unix_sock_dir, ==, "/tmp/x");
    g_assert_cmpuint(cfg.unix_sock_ro_perms, ==, 0770);
    g_assert_cmpuint(cfg.unix_sock_rw_perms, ==, 0700);
    g_assert_cmpuint(cfg.max_clients, ==, 10);
    g_assert_cmpuint(cfg.max_anonymous_clients, ==, 0); /* no limit */
    g_assert_cmpuint(cfg.max_workers, ==, 3);
    g_assert_cmpint(cfg.keepalive_interval, ==, -1);
    g_assert_cmpuint(cfg.keepalive_count, ==, 0);
    g_assert_cmpint(cfg.log_level, ==, 1);
    g_assert_cmpstr(cfg.log_outputs, ==, "1:stderr");
    g_assert_cmpuint(cfg.config_sync_ms, ==, 0);
    vrt_config_clear(&cfg);
}

static void
test_remote(void)
{
    VrtConfig cfg;
    vrt_config_init(&cfg);
    g_autoptr(GError) err = NULL;

    /* libvirtd's defaults: TLS on with --listen, TCP off, SASL on TCP. */
    g_assert_true(cfg.listen_tls);
    g_assert_false(cfg.listen_tcp);
    g_assert_cmpstr(cfg.tls_port, ==, "16514");
    g_assert_cmpstr(cfg.tcp_port, ==, "16509");
    g_assert_cmpstr(cfg.auth_tcp, ==, "sasl");
    g_assert_cmpstr(cfg.auth_tls, ==, "none");
    g_assert_null(cfg.tls_allowed_dn_list);
    const char *text = "listen_tls = 0\nlisten_tcp = 1\ntcp_port = \"1234\"\nauth_tcp = \"none\"\n"
                       "ca_file = \"/p/ca.pem\"\ntls_no_verify_certificate = 1\n"
                       "tls_allowed_dn_list = [ \"O=a,CN=*\",\n  \"O=b,CN=x\" ]\n"
                       "sasl_allowed_username_list = [ \"fred\" ]\ntcp_min_ssf = 112\n";
    g_assert_true(vrt_config_parse(&cfg, "t.conf", text, &err));
    g_assert_no_error(err);
    g_assert_false(cfg.listen_tls);
    g_assert_true(cfg.listen_tcp);
    g_assert_cmpstr(cfg.tcp_port, ==, "1234");
    g_assert_cmpstr(cfg.auth_tcp, ==, "none");
    g_assert_cmpstr(cfg.ca_file, ==, "/p/ca.pem");
    g_assert_true(cfg.tls_no_verify_certificate);
    g_assert_cmpuint(g_strv_length(cfg.tls_allowed_dn_list), ==, 2);
    g_assert_cmpstr(cfg.tls_allowed_dn_list[1], ==, "O=b,CN=x");
    g_assert_cmpstr(cfg.sasl_allowed_username_list[0], ==, "fred");
    g_assert_cmpuint(cfg.tcp_min_ssf, ==, 112);
    vrt_config_clear(&cfg);
}

static void
expect_error(const char *text, const char *fragment)
{
    VrtConfig cfg;
    vrt_config_init(&cfg);
    g_autoptr(GError) err = NULL;
    g_assert_false(vrt_config_parse(&cfg, "bad.conf", text, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_CONF_SYNTAX);
    if (!strstr(err->message, fragment))
        g_error("message '%s' lacks '%s'", err->message, fragment);
    vrt_config_clear(&cfg);
}

static void
test_errors(void)
{
    expect_error("max_clients = \"many\"\n", "bad.conf:1: max_clients: expected an integer");
    expect_error("\n\nmax_workers = 0\n", "bad.conf:3: max_workers");
    expect_error("unix_sock_rw_perms = \"0999\"\n", "bad.conf:1: unix_sock_rw_perms");
    expect_error("unix_sock_dir = \"/tmp\n", "bad.conf:1: unix_sock_dir: unterminated string");
    expect_error("log_level 3\n", "bad.conf:1: log_level: expected '='");
    expect_error("log_level = 9\n", "bad.conf:1: log_level");
    expect_error("config_sync_ms = 600000\n", "bad.conf:1: config_sync_ms: expected 0");
    expect_error("config_sync_ms = -1\n", "bad.conf:1: config_sync_ms");
    expect_error("max_clients = 5 6\n", "bad.conf:1: max_clients");
    expect_error("= 5\n", "bad.conf:1: expected a setting name");
    expect_error("x = [ \"a\" \"b\" ]\n", "bad.conf:1: x: expected ',' or ']'");
    expect_error("auth_tcp = \"polkit\"\n", "bad.conf:1: auth_tcp: expected \"none\" or \"sasl\"");
    expect_error("listen_tls = 2\n", "bad.conf:1: listen_tls: expected 0 or 1");
    expect_error("tls_allowed_dn_list = \"O=a\"\n", "bad.conf:1: tls_allowed_dn_list: expected a list");
    expect_error("tcp_min_ssf = 0\n", "bad.conf:1: tcp_min_ssf");
}

/* auth_unix_rw = "polkit" opens the read-write socket to everyone unless the
 * file gives its mode, as libvirtd does; the read-only socket takes polkit
 * but not SASL. */
static void
test_polkit(void)
{
    g_autoptr(GError) error = NULL;
    VrtConfig cfg;

    vrt_config_init(&cfg);
    g_assert_true(vrt_config_parse(&cfg, "a.conf", "auth_unix_rw = \"polkit\"\nauth_unix_ro = \"polkit\"\n", &error));
    g_assert_cmpstr(cfg.auth_unix_rw, ==, "polkit");
    g_assert_cmpstr(cfg.auth_unix_ro, ==, "polkit");
    g_assert_cmpuint(cfg.unix_sock_rw_perms, ==, 0777);
    vrt_config_clear(&cfg);
    vrt_config_init(&cfg);
    g_assert_true(
        vrt_config_parse(&cfg, "a.conf", "unix_sock_rw_perms = \"0770\"\nauth_unix_rw = \"polkit\"\n", &error));
    g_assert_cmpuint(cfg.unix_sock_rw_perms, ==, 0770);
    g_assert_cmpstr(cfg.auth_unix_ro, ==, "none");
    vrt_config_clear(&cfg);
    expect_error("auth_unix_ro = \"sasl\"\n", "bad.conf:1: auth_unix_ro: expected \"none\" or \"polkit\"");
    expect_error("auth_unix_rw = \"x\"\n", "bad.conf:1: auth_unix_rw: expected \"none\", \"sasl\" or \"polkit\"");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/values", test_values);
    g_test_add_func("/config/remote", test_remote);
    g_test_add_func("/config/errors", test_errors);
    g_test_add_func("/config/polkit", test_polkit);
    return g_test_run();
}
