/*
 * vrt's domain commands: list, define/undefine, lifecycle, dominfo,
 * domstate, dumpxml, autostart and device attach/detach/update. Domains are
 * named as virsh names them: by id, UUID or name.
 */
#include "vrt-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Looks a domain up as virsh does: a number is an id, then a UUID, then a name. */
vrt_domain *
vrt_cli_domain(VrtCli *cli, const char *what)
{
    vrt_conn *conn = vrt_cli_conn(cli);
    if (!conn)
        return NULL;
    vrt_domain *dom = NULL;
    char *end = NULL;
    long id = strtol(what, &end, 10);
    if (*what && !*end && id >= 0 && id <= G_MAXINT)
        dom = vrt_domain_lookup_by_id(conn, (int)id, NULL);
    if (!dom && strlen(what) == VRT_UUID_STRING_BUFLEN - 1)
        dom = vrt_domain_lookup_by_uuid_string(conn, what, NULL);
    if (!dom) {
        vrt_error *err = NULL;
        dom = vrt_domain_lookup_by_name(conn, what, &err);
        if (!dom)
            vrt_cli_fail(err);
    }
    return dom;
}

/* ---- list ---- */

static gint
domain_order(gconstpointer a, gconstpointer b)
{
    vrt_domain *da = *(vrt_domain **)a, *db = *(vrt_domain **)b;
    int ia = vrt_domain_get_id(da), ib = vrt_domain_get_id(db);
    /* Running ones first by id, then the others by name, as virsh lists them. */
    if ((ia >= 0) != (ib >= 0))
        return ia >= 0 ? -1 : 1;
    if (ia >= 0)
        return ia - ib;
    return strcmp(vrt_domain_get_name(da), vrt_domain_get_name(db));
}

static int
cmd_list(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    unsigned int flags = vrt_cli_list_flags(args, VRT_CONNECT_LIST_DOMAINS_ACTIVE, VRT_CONNECT_LIST_DOMAINS_INACTIVE);
    vrt_error *err = NULL;
    vrt_domain **doms = NULL;
    int n = vrt_conn_list_all_domains(args->conn, &doms, flags, &err);
    if (n < 0)
        return vrt_cli_fail(err);
    qsort(doms, n, sizeof(*doms), (int (*)(const void *, const void *))domain_order);
    VrtCliList list;
    vrt_cli_list_init(&list);
    for (int i = 0; i < n; i++) {
        int state = VRT_DOMAIN_NOSTATE;
        if (vrt_domain_get_state(doms[i], &state, NULL, &err) < 0) {
            /* Gone between the list and this call: leave it out. */
            vrt_cli_forget(&err);
            continue;
        }
        int id = vrt_domain_get_id(doms[i]);
        char uuid[VRT_UUID_STRING_BUFLEN];
        vrt_domain_get_uuid_string(doms[i], uuid);
        g_autofree char *id_s = id >= 0 ? g_strdup_printf("%d", id) : g_strdup("-");
        const char *name = vrt_domain_get_name(doms[i]), *state_s = vrt_domain_state_to_string(state);
        vrt_cli_list_row(&list, id_s, name, state_s, NULL);
        json_builder_begin_object(list.json);
        vrt_cli_json_id(list.json, "id", id);
        vrt_cli_json_str(list.json, "name", name);
        vrt_cli_json_str(list.json, "uuid", uuid);
        vrt_cli_json_str(list.json, "state", state_s);
        json_builder_end_object(list.json);
    }
    vrt_domain_list_free(doms);
    static const char *const header[] = { "Id", "Name", "State" };
    vrt_cli_list_print(cli, &list, header, 3);
    return VRT_EXIT_OK;
}

/* ---- define, undefine, create ---- */

/* define FILE, create FILE [--paused]. */
static int
xml_op(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args, bool create)
{
    vrt_error *err = NULL;
    unsigned int flags = vrt_cli_flag(args, "paused") ? VRT_DOMAIN_START_PAUSED : 0;
    g_autoptr(vrt_domain) dom = create ? vrt_domain_create_xml(args->conn, args->xml, flags, &err)
                                       : vrt_domain_define_xml(args->conn, args->xml, 0, &err);
    return vrt_cli_done(dom ? 0 : -1, err, "Domain '%s' %s from %s", dom ? vrt_domain_get_name(dom) : "",
                        create ? "created" : "defined", args->pos[0]);
}

VRT_CLI_CMD_VARIANT(cmd_define, xml_op, false)
VRT_CLI_CMD_VARIANT(cmd_create, xml_op, true)

/* The commands that take one domain and print one line when done. */
typedef enum {
    OP_UNDEFINE,
    OP_START,
    OP_SHUTDOWN,
    OP_REBOOT,
    OP_RESET,
    OP_DESTROY,
    OP_SUSPEND,
    OP_RESUME
} DomOp;

static int
simple_op(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args, DomOp op)
{
    vrt_domain *dom = args->dom;
    vrt_error *err = NULL;
    const char *name = vrt_domain_get_name(dom);
    int r = -1;
    const char *done = NULL;
    switch (op) {
    case OP_UNDEFINE:
        r = vrt_domain_undefine(dom, 0, &err);
        done = "has been undefined";
        break;
    case OP_START:
        r = vrt_domain_create(dom, vrt_cli_flag(args, "paused") ? VRT_DOMAIN_START_PAUSED : 0, &err);
        done = "started";
        break;
    case OP_SHUTDOWN:
        r = vrt_domain_shutdown(dom, &err);
        done = "is being shutdown";
        break;
    case OP_REBOOT:
        r = vrt_domain_reboot(dom, 0, &err);
        done = "is being rebooted";
        break;
    case OP_RESET:
        r = vrt_domain_reset(dom, &err);
        done = "was reset";
        break;
    case OP_DESTROY:
        r = vrt_domain_destroy(dom, &err);
        done = "destroyed";
        break;
    case OP_SUSPEND:
        r = vrt_domain_suspend(dom, &err);
        done = "suspended";
        break;
    case OP_RESUME:
        r = vrt_domain_resume(dom, &err);
        done = "resumed";
        break;
    }
    return vrt_cli_done(r, err, "Domain '%s' %s", name, done);
}

VRT_CLI_CMD_VARIANT(cmd_undefine, simple_op, OP_UNDEFINE)
VRT_CLI_CMD_VARIANT(cmd_start, simple_op, OP_START)
VRT_CLI_CMD_VARIANT(cmd_shutdown, simple_op, OP_SHUTDOWN)
VRT_CLI_CMD_VARIANT(cmd_reboot, simple_op, OP_REBOOT)
VRT_CLI_CMD_VARIANT(cmd_reset, simple_op, OP_RESET)
VRT_CLI_CMD_VARIANT(cmd_destroy, simple_op, OP_DESTROY)
VRT_CLI_CMD_VARIANT(cmd_suspend, simple_op, OP_SUSPEND)
VRT_CLI_CMD_VARIANT(cmd_resume, simple_op, OP_RESUME)

/* ---- queries ---- */

static int
cmd_dominfo(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_domain *dom = args->dom;
    vrt_error *err = NULL;
    vrt_domain_info info;
    if (vrt_domain_get_info(dom, &info, &err) < 0)
        return vrt_cli_fail(err);
    g_autofree char *os = vrt_domain_get_os_type(dom, &err);
    if (!os)
        return vrt_cli_fail(err);
    int persistent = vrt_domain_is_persistent(dom, &err);
    if (persistent < 0)
        return vrt_cli_fail(err);
    int autostart = 0;
    if (vrt_domain_get_autostart(dom, &autostart, &err) < 0)
        return vrt_cli_fail(err);
    /* The handle's id is from lookup time; a fresh lookup by name has the current one. */
    g_autoptr(vrt_domain) fresh = vrt_domain_lookup_by_name(vrt_cli_conn(cli), vrt_domain_get_name(dom), NULL);
    int id = vrt_domain_get_id(fresh ? fresh : dom);
    char uuid[VRT_UUID_STRING_BUFLEN];
    vrt_domain_get_uuid_string(dom, uuid);
    bool active = info.state != VRT_DOMAIN_SHUTOFF && info.state != VRT_DOMAIN_NOSTATE;
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vrt_cli_json_id(b, "id", id);
        vrt_cli_json_str(b, "name", vrt_domain_get_name(dom));
        vrt_cli_json_str(b, "uuid", uuid);
        vrt_cli_json_str(b, "os_type", os);
        vrt_cli_json_str(b, "state", vrt_domain_state_to_string(info.state));
        vrt_cli_json_int(b, "cpus", info.nr_virt_cpu);
        vrt_cli_json_int(b, "cpu_time_ns", info.cpu_time);
        vrt_cli_json_int(b, "max_memory_kib", info.max_mem);
        vrt_cli_json_int(b, "used_memory_kib", info.memory);
        vrt_cli_json_bool(b, "persistent", persistent);
        vrt_cli_json_bool(b, "autostart", autostart);
        json_builder_end_object(b);
        vrt_cli_print_builder(b);
        return VRT_EXIT_OK;
    }
    g_autofree char *id_s = id >= 0 ? g_strdup_printf("%d", id) : g_strdup("-");
    printf("%-15s %s\n", "Id:", id_s);
    printf("%-15s %s\n", "Name:", vrt_domain_get_name(dom));
    printf("%-15s %s\n", "UUID:", uuid);
    printf("%-15s %s\n", "OS Type:", os);
    printf("%-15s %s\n", "State:", vrt_domain_state_to_string(info.state));
    printf("%-15s %u\n", "CPU(s):", info.nr_virt_cpu);
    if (active)
        printf("%-15s %.1fs\n", "CPU time:", info.cpu_time / 1e9);
    printf("%-15s %llu KiB\n", "Max memory:", info.max_mem);
    printf("%-15s %llu KiB\n", "Used memory:", info.memory);
    printf("%-15s %s\n", "Persistent:", persistent ? "yes" : "no");
    printf("%-15s %s\n", "Autostart:", autostart ? "enable" : "disable");
    printf("\n");
    return VRT_EXIT_OK;
}

/* virsh's words for virDomain*Reason, per state, in libvirt's numeric order. */
static const char *
reason_string(int state, int reason)
{
    static const char *const running[] = { "unknown",       "booted",   "migrated",           "restored",
                                           "from snapshot", "unpaused", "migration canceled", "save canceled",
                                           "event wakeup",  "crashed",  "post-copy" };
    static const char *const paused[] = {
        "unknown",       "user",          "migrating",         "saving",  "dumping",     "I/O error", "watchdog",
        "from snapshot", "shutting down", "creating snapshot", "crashed", "starting up", "post-copy", "post-copy failed"
    };
    static const char *const shutoff[] = { "unknown", "shutdown", "destroyed",     "crashed", "migrated",
                                           "saved",   "failed",   "from snapshot", "daemon" };
    static const char *const shutdown[] = { "unknown", "user" };
    static const char *const crashed[] = { "unknown", "panicked" };
#define PICK(arr) return reason >= 0 && reason < (int)G_N_ELEMENTS(arr) ? arr[reason] : "unknown"
    switch (state) {
    case VRT_DOMAIN_RUNNING: PICK(running);
    case VRT_DOMAIN_PAUSED: PICK(paused);
    case VRT_DOMAIN_SHUTOFF: PICK(shutoff);
    case VRT_DOMAIN_SHUTDOWN: PICK(shutdown);
    case VRT_DOMAIN_CRASHED: PICK(crashed);
    default: return "unknown";
    }
#undef PICK
}

static int
cmd_domstate(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_domain *dom = args->dom;
    vrt_error *err = NULL;
    int state = 0, reason = 0;
    if (vrt_domain_get_state(dom, &state, &reason, &err) < 0)
        return vrt_cli_fail(err);
    if (cli->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        vrt_cli_json_str(b, "state", vrt_domain_state_to_string(state));
        vrt_cli_json_int(b, "state_code", state);
        vrt_cli_json_str(b, "reason", reason_string(state, reason));
        vrt_cli_json_int(b, "reason_code", reason);
        json_builder_end_object(b);
        vrt_cli_print_builder(b);
    } else if (vrt_cli_flag(args, "reason")) {
        printf("%s (%s)\n\n", vrt_domain_state_to_string(state), reason_string(state, reason));
    } else {
        printf("%s\n\n", vrt_domain_state_to_string(state));
    }
    return VRT_EXIT_OK;
}

static int
cmd_dumpxml(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_domain *dom = args->dom;
    vrt_error *err = NULL;
    unsigned int flags = 0;
    if (vrt_cli_flag(args, "inactive"))
        flags |= VRT_DOMAIN_XML_INACTIVE;
    if (vrt_cli_flag(args, "security-info"))
        flags |= VRT_DOMAIN_XML_SECURE;
    return vrt_cli_print_xml(vrt_domain_get_xml_desc(dom, flags, &err), &err);
}

static int
cmd_autostart(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_domain *dom = args->dom;
    vrt_error *err = NULL;
    bool disable = vrt_cli_flag(args, "disable");
    int r = vrt_domain_set_autostart(dom, !disable, &err);
    return vrt_cli_done(r, err, "Domain '%s' %s as autostarted", vrt_domain_get_name(dom),
                        disable ? "unmarked" : "marked");
}

/* ---- devices ---- */

/* --live/--config/--current/--persistent as virsh reads them; -1 when they conflict. */
static int
affect_flags(VrtArgs *args, vrt_domain *dom)
{
    bool live = vrt_cli_flag(args, "live"), config = vrt_cli_flag(args, "config");
    bool current = vrt_cli_flag(args, "current"), persistent = vrt_cli_flag(args, "persistent");
    if (current && (live || config || persistent))
        return -1;
    unsigned int flags = VRT_DOMAIN_AFFECT_CURRENT;
    if (live)
        flags |= VRT_DOMAIN_AFFECT_LIVE;
    if (config)
        flags |= VRT_DOMAIN_AFFECT_CONFIG;
    if (persistent) {
        flags |= VRT_DOMAIN_AFFECT_CONFIG;
        if (vrt_domain_is_active(dom, NULL) == 1)
            flags |= VRT_DOMAIN_AFFECT_LIVE;
    }
    return (int)flags;
}

typedef enum {
    DEV_ATTACH,
    DEV_DETACH,
    DEV_DETACH_ALIAS,
    DEV_UPDATE
} DevOp;

static int
device_op(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args, DevOp op)
{
    vrt_domain *dom = args->dom;
    const char *xml = args->xml;
    int flags = affect_flags(args, dom);
    if (flags < 0)
        return vrt_cli_usage(cmd, "--current is exclusive with --live, --config and --persistent");
    vrt_error *err = NULL;
    int r = -1;
    const char *done = NULL;
    switch (op) {
    case DEV_ATTACH:
        r = vrt_domain_attach_device(dom, xml, flags, &err);
        done = "Device attached successfully";
        break;
    case DEV_DETACH:
        r = vrt_domain_detach_device(dom, xml, flags, &err);
        done = "Device detached successfully";
        break;
    case DEV_DETACH_ALIAS:
        r = vrt_domain_detach_device_alias(dom, args->pos[1], flags, &err);
        done = "Device detach request sent successfully";
        break;
    case DEV_UPDATE:
        r = vrt_domain_update_device(dom, xml, flags, &err);
        done = "Device updated successfully";
        break;
    }
    return vrt_cli_done(r, err, "%s", done);
}

VRT_CLI_CMD_VARIANT(cmd_attach_device, device_op, DEV_ATTACH)
VRT_CLI_CMD_VARIANT(cmd_detach_device, device_op, DEV_DETACH)
VRT_CLI_CMD_VARIANT(cmd_detach_device_alias, device_op, DEV_DETACH_ALIAS)
VRT_CLI_CMD_VARIANT(cmd_update_device, device_op, DEV_UPDATE)

static const VrtOpt list_opts[] = { { "all", false }, { "inactive", false }, { NULL, false } };
static const VrtOpt paused_opts[] = { { "paused", false }, { NULL, false } };
static const VrtOpt state_opts[] = { { "reason", false }, { NULL, false } };
static const VrtOpt xml_opts[] = { { "inactive", false }, { "security-info", false }, { NULL, false } };
static const VrtOpt autostart_opts[] = { { "disable", false }, { NULL, false } };
static const VrtOpt affect_opts[] = {
    { "live", false }, { "config", false }, { "current", false }, { "persistent", false }, { NULL, false }
};
static const VrtOpt event_opts[] = { { "all", false },   { "loop", false }, { "timeout", true },
                                     { "domain", true }, { "event", true }, { NULL, false } };

#define AFFECT "[--live] [--config] [--current] [--persistent]"
#define DOM VRT_ON_DOMAIN, 1, false
#define DOM_FILE VRT_ON_DOMAIN, 2, true
const VrtCmd vrt_cmds_domain[] = {
    { "list", cmd_list, "[--all] [--inactive]", "list domains (running ones without --all)", list_opts, VRT_ON_CONN },
    { "define", cmd_define, "FILE", "define a domain from an XML file", NULL, VRT_ON_CONN, 1, true },
    { "create", cmd_create, "FILE [--paused]", "start a transient domain from an XML file", paused_opts, VRT_ON_CONN, 1,
      true },
    { "undefine", cmd_undefine, "DOMAIN", "remove a domain's definition", NULL, DOM },
    { "start", cmd_start, "DOMAIN [--paused]", "start a defined domain", paused_opts, DOM },
    { "shutdown", cmd_shutdown, "DOMAIN", "ask a domain to shut down (ACPI)", NULL, DOM },
    { "reboot", cmd_reboot, "DOMAIN", "ask a domain to reboot", NULL, DOM },
    { "reset", cmd_reset, "DOMAIN", "reset a domain like the reset button", NULL, DOM },
    { "destroy", cmd_destroy, "DOMAIN", "stop a domain at once", NULL, DOM },
    { "suspend", cmd_suspend, "DOMAIN", "pause a domain", NULL, DOM },
    { "resume", cmd_resume, "DOMAIN", "resume a paused domain", NULL, DOM },
    { "dominfo", cmd_dominfo, "DOMAIN", "a domain's state, CPUs and memory", NULL, DOM },
    { "domstate", cmd_domstate, "DOMAIN [--reason]", "a domain's state", state_opts, DOM },
    { "dumpxml", cmd_dumpxml, "DOMAIN [--inactive] [--security-info]", "a domain's XML", xml_opts, DOM },
    { "autostart", cmd_autostart, "DOMAIN [--disable]", "start a domain with the daemon (or not)", autostart_opts,
      DOM },
    { "attach-device", cmd_attach_device, "DOMAIN FILE " AFFECT, "attach a device from an XML file", affect_opts,
      DOM_FILE },
    { "detach-device", cmd_detach_device, "DOMAIN FILE " AFFECT, "detach a device given as XML", affect_opts,
      DOM_FILE },
    { "detach-device-alias", cmd_detach_device_alias, "DOMAIN ALIAS " AFFECT, "detach a device by its alias",
      affect_opts, VRT_ON_DOMAIN, 2, false },
    { "update-device", cmd_update_device, "DOMAIN FILE " AFFECT, "change a device from an XML file", affect_opts,
      DOM_FILE },
    { "event", vrt_cli_cmd_event, "(--all | --event NAME) [--domain DOMAIN] [--loop] [--timeout SECONDS]",
      "wait for domain events and print them", event_opts, VRT_ON_NONE },
    { NULL, NULL, NULL, NULL, NULL, VRT_ON_NONE },
};
