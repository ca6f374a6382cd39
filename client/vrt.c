/*
 * The vrt command: `vrt [-c URI] [-r] [--json] COMMAND [ARGS]`, a small
 * virsh for vrtd (and any libvirtd) built on libvrt. This file holds the
 * global options, the command lookup and the helpers all commands share.
 */
#include "vrt-cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#define VRT_DEFAULT_URI_ENV "VRT_DEFAULT_URI"

static const VrtCmd *const families[] = { vrt_cmds_host,    vrt_cmds_domain,  vrt_cmds_domain_live, vrt_cmds_agent,
                                          vrt_cmds_network, vrt_cmds_nodedev, vrt_cmds_storage,     vrt_cmds_stream,
                                          vrt_cmds_secret,  vrt_cmds_admin,   vrt_cmds_migrate };

/* SASL's questions asked on the terminal (the password without echo), when
 * $VRT_AUTH_USERNAME / $VRT_AUTH_PASSWORD do not answer them. */
static char *
prompt_credential(const char *what, void *opaque)
{
    (void)opaque;
    FILE *tty = fopen("/dev/tty", "r+e");
    if (!tty)
        return NULL;
    bool secret = g_str_equal(what, "password");
    struct termios old, quiet;
    bool restore = secret && tcgetattr(fileno(tty), &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSANOW, &quiet);
    }
    fprintf(tty, "Please enter your %s: ", what);
    fflush(tty);
    char line[1024];
    char *answer = fgets(line, sizeof(line), tty) ? strdup(g_strchomp(line)) : NULL;
    if (restore) {
        tcsetattr(fileno(tty), TCSANOW, &old);
        fputc('\n', tty);
    }
    explicit_bzero(line, sizeof(line));
    fclose(tty);
    return answer;
}

vrt_conn *
vrt_cli_conn(VrtCli *cli)
{
    if (cli->conn)
        return cli->conn;
    const char *uri = cli->uri ? cli->uri : g_getenv(VRT_DEFAULT_URI_ENV);
    vrt_error *err = NULL;
    cli->conn = vrt_conn_open_auth(uri, cli->readonly ? VRT_CONNECT_RO : 0, prompt_credential, NULL, &err);
    if (!cli->conn) {
        fprintf(stderr, "error: failed to connect to the hypervisor\n");
        vrt_cli_fail(err);
    }
    return cli->conn;
}

int
vrt_cli_fail(vrt_error *err)
{
    fprintf(stderr, "error: %s\n", err && err->message ? err->message : "unknown error");
    vrt_error_free(err);
    return VRT_EXIT_ERROR;
}

int
vrt_cli_failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "error: %s\n", msg);
    return VRT_EXIT_ERROR;
}

int
vrt_cli_usage(const VrtCmd *cmd, const char *why)
{
    if (why)
        fprintf(stderr, "error: %s\n", why);
    fprintf(stderr, "usage: vrt [-c URI] [-r] [--json] %s%s%s\n", cmd->name, cmd->usage ? " " : "",
            cmd->usage ? cmd->usage : "");
    return VRT_EXIT_USAGE;
}

bool
vrt_cli_nargs(const VrtCmd *cmd, int nargs, int min, int max, int *rc)
{
    if (nargs < min) {
        *rc = vrt_cli_usage(cmd, "missing argument");
        return false;
    }
    if (nargs > max) {
        *rc = vrt_cli_usage(cmd, "too many arguments");
        return false;
    }
    return true;
}

char *
vrt_cli_read_file(const char *path)
{
    char *data = NULL;
    g_autoptr(GError) gerr = NULL;
    if (!g_file_get_contents(path, &data, NULL, &gerr)) {
        vrt_cli_failf("Failed to open file '%s': %s", path, gerr->message);
        return NULL;
    }
    return data;
}

void
vrt_cli_print_json(JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_root(gen, node);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    printf("%s\n", text);
    json_node_unref(node);
}

void
vrt_cli_print_builder(JsonBuilder *b)
{
    vrt_cli_print_json(json_builder_get_root(b));
}

void
vrt_cli_json_str(JsonBuilder *b, const char *key, const char *v)
{
    json_builder_set_member_name(b, key);
    json_builder_add_string_value(b, v);
}

void
vrt_cli_json_int(JsonBuilder *b, const char *key, gint64 v)
{
    json_builder_set_member_name(b, key);
    json_builder_add_int_value(b, v);
}

void
vrt_cli_json_bool(JsonBuilder *b, const char *key, bool v)
{
    json_builder_set_member_name(b, key);
    json_builder_add_boolean_value(b, v);
}

void
vrt_cli_json_id(JsonBuilder *b, const char *key, int id)
{
    json_builder_set_member_name(b, key);
    if (id >= 0)
        json_builder_add_int_value(b, id);
    else
        json_builder_add_null_value(b);
}

void
vrt_cli_print_text(const char *text)
{
    printf("%s%s", text, g_str_has_suffix(text, "\n") ? "" : "\n");
}

/* One line of a table: a space, then each cell padded to its column's width
 * and three spaces, but for the last one. */
static void
print_table_line(const char *const *cells, const gsize *width, guint cols)
{
    g_autoptr(GString) line = g_string_new(" ");
    for (guint c = 0; c < cols; c++) {
        if (c + 1 < cols)
            g_string_append_printf(line, "%-*s   ", (int)width[c], cells[c]);
        else
            g_string_append(line, cells[c]);
    }
    printf("%s\n", line->str);
}

int
vrt_cli_print_xml(char *xml, vrt_error **err)
{
    if (!xml)
        return vrt_cli_fail(*err);
    vrt_cli_print_text(xml);
    g_free(xml);
    return VRT_EXIT_OK;
}

void
vrt_cli_print_table(const char *const *header, GPtrArray *rows, guint cols)
{
    g_autofree gsize *width = g_new0(gsize, cols);
    for (guint c = 0; c < cols; c++)
        width[c] = g_utf8_strlen(header[c], -1);
    for (guint r = 0; r < rows->len; r++) {
        char **row = rows->pdata[r];
        for (guint c = 0; c < cols; c++)
            width[c] = MAX(width[c], (gsize)g_utf8_strlen(row[c], -1));
    }
    gsize total = 1;
    for (guint c = 0; c < cols; c++)
        total += width[c] + (c + 1 < cols ? 3 : 0);
    print_table_line(header, width, cols);
    /* virsh's rule line runs two past the widest row. */
    for (gsize i = 0; i < total + 2; i++)
        putchar('-');
    putchar('\n');
    for (guint r = 0; r < rows->len; r++)
        print_table_line((const char *const *)rows->pdata[r], width, cols);
    printf("\n");
}

void
vrt_cli_print_list(VrtCli *cli, JsonBuilder *b, const char *const *header, GPtrArray *rows, guint cols)
{
    if (cli->json)
        vrt_cli_print_builder(b);
    else
        vrt_cli_print_table(header, rows, cols);
}

void
vrt_cli_list_init(VrtCliList *list)
{
    list->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    list->json = json_builder_new();
    json_builder_begin_array(list->json);
}

void
vrt_cli_list_row(VrtCliList *list, const char *cell, ...)
{
    g_autoptr(GStrvBuilder) row = g_strv_builder_new();
    va_list ap;
    va_start(ap, cell);
    for (const char *c = cell; c; c = va_arg(ap, const char *))
        g_strv_builder_add(row, c);
    va_end(ap);
    g_ptr_array_add(list->rows, g_strv_builder_end(row));
}

void
vrt_cli_list_print(VrtCli *cli, VrtCliList *list, const char *const *header, guint cols)
{
    json_builder_end_array(list->json);
    vrt_cli_print_list(cli, list->json, header, list->rows, cols);
    g_clear_object(&list->json);
    g_clear_pointer(&list->rows, g_ptr_array_unref);
}

unsigned int
vrt_cli_list_flags(VrtArgs *args, unsigned int active, unsigned int inactive)
{
    if (vrt_cli_flag(args, "all"))
        return 0;
    return vrt_cli_flag(args, "inactive") ? inactive : active;
}

void
vrt_cli_forget(vrt_error **err)
{
    vrt_error_free(*err);
    *err = NULL;
}

int
vrt_cli_done(int r, vrt_error *err, const char *fmt, ...)
{
    if (r < 0)
        return vrt_cli_fail(err);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n\n");
    return VRT_EXIT_OK;
}

char *
vrt_cli_version_string(unsigned long long v)
{
    return g_strdup_printf("%llu.%llu.%llu", v / 1000000, (v / 1000) % 1000, v % 1000);
}

static const VrtCmd *
find_cmd(const char *name)
{
    for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
        for (const VrtCmd *c = families[f]; c->name; c++) {
            if (strcmp(c->name, name) == 0)
                return c;
        }
    }
    return NULL;
}

static void
print_help(FILE *out)
{
    fprintf(out,
            "usage: vrt [-c URI] [-r] [--json] COMMAND [ARGS]\n\n"
            "  -c, --connect URI  hypervisor connection URI (default $%s or qemu:///system)\n"
            "  -r, --readonly     connect read-only\n"
            "      --json         print query results as JSON\n\ncommands:\n",
            VRT_DEFAULT_URI_ENV);
    for (guint f = 0; f < G_N_ELEMENTS(families); f++) {
        for (const VrtCmd *c = families[f]; c->name; c++)
            fprintf(out, "  %-20s %s\n", c->name, c->help);
    }
}

bool
vrt_cli_flag(VrtArgs *args, const char *name)
{
    return g_hash_table_contains(args->opts, name);
}

const char *
vrt_cli_value(VrtArgs *args, const char *name)
{
    return g_hash_table_lookup(args->opts, name);
}

static const VrtOpt *
find_opt(const VrtCmd *cmd, const char *name)
{
    for (const VrtOpt *o = cmd->opts; o && o->name; o++) {
        if (strcmp(o->name, name) == 0)
            return o;
    }
    return NULL;
}

/* Finds what the command's row says it works on (see VrtCmdOn); false with
 * *rc set after printing why it cannot. */
static bool
prepare(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args, int *rc)
{
    if (cmd->on == VRT_ON_NONE)
        return true;
    if (!vrt_cli_nargs(cmd, args->npos, cmd->nargs, cmd->nargs, rc))
        return false;
    *rc = VRT_EXIT_ERROR;
    if (cmd->file && !(args->xml = vrt_cli_read_file(args->pos[args->npos - 1])))
        return false;
    if (!(args->conn = vrt_cli_conn(cli)))
        return false;
    vrt_error *err = NULL;
    switch (cmd->on) {
    case VRT_ON_NONE:
    case VRT_ON_CONN: return true;
    case VRT_ON_DOMAIN: return (args->dom = vrt_cli_domain(cli, args->pos[0])) != NULL;
    case VRT_ON_NETWORK:
        if (!(args->net = vrt_network_lookup_by_name(args->conn, args->pos[0], &err)))
            vrt_cli_fail(err);
        return args->net != NULL;
    case VRT_ON_NODEDEV:
        if (!(args->dev = vrt_nodedev_lookup_by_name(args->conn, args->pos[0], &err)))
            vrt_cli_fail(err);
        return args->dev != NULL;
    }
    return false;
}

/* argv[0] is the command name; options may come before or after positional
 * arguments, "--" ends options. */
static int
run_cmd(VrtCli *cli, const VrtCmd *cmd, int argc, char **argv)
{
    g_autoptr(GHashTable) opts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autofree char **pos = g_new0(char *, argc + 1);
    int npos = 0;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] != '-' || a[2] == '\0') {
            if (!only_pos && strcmp(a, "--") == 0) {
                only_pos = true;
                continue;
            }
            pos[npos++] = argv[i];
            continue;
        }
        const char *eq = strchr(a, '=');
        g_autofree char *name = eq ? g_strndup(a + 2, eq - a - 2) : g_strdup(a + 2);
        const VrtOpt *o = find_opt(cmd, name);
        if (!o && strcmp(name, "json") == 0 && !eq) {
            /* Accepted after the command too: `vrt list --all --json`. */
            cli->json = true;
            continue;
        }
        if (!o) {
            g_autofree char *why = g_strdup_printf("command '%s' does not take option '--%s'", cmd->name, name);
            return vrt_cli_usage(cmd, why);
        }
        const char *value = "";
        if (o->has_value) {
            if (eq) {
                value = eq + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                g_autofree char *why = g_strdup_printf("option '--%s' needs a value", name);
                return vrt_cli_usage(cmd, why);
            }
        } else if (eq) {
            g_autofree char *why = g_strdup_printf("option '--%s' takes no value", name);
            return vrt_cli_usage(cmd, why);
        }
        g_hash_table_replace(opts, g_steal_pointer(&name), g_strdup(value));
    }
    VrtArgs args = { .pos = pos, .npos = npos, .opts = opts };
    int rc = VRT_EXIT_OK;
    if (prepare(cli, cmd, &args, &rc))
        rc = cmd->func(cli, cmd, &args);
    g_free(args.xml);
    g_clear_pointer(&args.dom, vrt_domain_free);
    g_clear_pointer(&args.net, vrt_network_free);
    g_clear_pointer(&args.dev, vrt_nodedev_free);
    return rc;
}

int
main(int argc, char **argv)
{
    VrtCli cli = { 0 };
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-c") == 0 || strcmp(a, "--connect") == 0) {
            if (++i == argc) {
                fprintf(stderr, "error: option %s needs a URI\n", a);
                print_help(stderr);
                return VRT_EXIT_USAGE;
            }
            cli.uri = argv[i];
        } else if (g_str_has_prefix(a, "--connect=")) {
            cli.uri = a + strlen("--connect=");
        } else if (strcmp(a, "-r") == 0 || strcmp(a, "--readonly") == 0) {
            cli.readonly = true;
        } else if (strcmp(a, "--json") == 0) {
            cli.json = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_help(stdout);
            return VRT_EXIT_OK;
        } else {
            fprintf(stderr, "error: unknown option '%s'\n", a);
            print_help(stderr);
            return VRT_EXIT_USAGE;
        }
    }
    if (i == argc) {
        fprintf(stderr, "error: no command given\n");
        print_help(stderr);
        return VRT_EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        print_help(stdout);
        return VRT_EXIT_OK;
    }
    const VrtCmd *cmd = find_cmd(argv[i]);
    if (!cmd) {
        fprintf(stderr, "error: unknown command: '%s'\n", argv[i]);
        fprintf(stderr, "usage: vrt [-c URI] [-r] [--json] COMMAND [ARGS] (vrt help lists the commands)\n");
        return VRT_EXIT_USAGE;
    }
    int rc = run_cmd(&cli, cmd, argc - i, argv + i);
    vrt_conn_close(cli.conn);
    fflush(stdout);
    return rc;
}
