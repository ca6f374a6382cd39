/*
 * The QEMU driver's calls on a running domain's live state (see
 * qemu_driver_live.h): vCPU hotplug over query-hotpluggable-cpus and
 * device_add/device_del, job statistics, interface addresses and hostname
 * (DHCP leases through the network driver, the host's ARP table through the
 * host seam, or the guest agent: qemu-ga on the domain's
 * org.qemu.guest_agent.0 channel, reached per call through the channel's
 * unix socket after its guest-sync handshake), the balloon's statistics
 * period (qom-set guest-stats-polling-interval) and the dirty page rate
 * calculation (calc-dirty-rate). Errors are worded as libvirt 9.0's.
 */
#include "drivers/qemu/qemu_driver_live.h"
#include "drivers/qemu/qemu_agent.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_hostdev.h"
#include "host/arp.h"
#include "util/error.h"
#include "util/mac.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>

#define AGENT_CHANNEL_NAME "org.qemu.guest_agent.0"
#define DIRTYRATE_MIN_SECONDS 1
#define DIRTYRATE_MAX_SECONDS 60

void
vrt_domain_iface_free(VrtDomainIface *iface)
{
    if (!iface)
        return;
    g_free(iface->name);
    g_free(iface->hwaddr);
    if (iface->addrs) {
        for (guint i = 0; i < iface->addrs->len; i++)
            g_free(g_array_index(iface->addrs, VrtDomainIpAddr, i).addr);
        g_array_unref(iface->addrs);
    }
    g_free(iface);
}

static VrtDomainIface *
iface_new(const char *name, const char *hwaddr)
{
    VrtDomainIface *iface = g_new0(VrtDomainIface, 1);

    /* libvirt's name is the interface's host device; one never named
     * (a user interface) is "" on the wire, as libvirt's NULL would fail. */
    iface->name = g_strdup(name ? name : "");
    iface->hwaddr = g_strdup(hwaddr);
    iface->addrs = g_array_new(FALSE, TRUE, sizeof(VrtDomainIpAddr));
    return iface;
}

/* The running domain's monitor (a reference), NULL with libvirt's
 * "domain is not running". Takes the object lock. */
static VrtQemuMonitor *
running_monitor(VrtQemuDom *obj, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    if (!vrt_qemu_dom_is_active_locked(obj) || !obj->mon) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    return vrt_qemu_monitor_ref(obj->mon);
}

static bool
check_active(VrtQemuDom *obj, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = running_monitor(obj, error);

    return mon != NULL;
}

/* ---- vCPU hotplug ---- */

typedef struct {
    gint64 socket, die, core, thread; /* -1: not in props */
    char *type;
    char *qom_path; /* NULL: the slot is free */
    JsonObject *props;
} CpuSlot;

static void
cpu_slot_clear(gpointer p)
{
    CpuSlot *s = p;

    g_free(s->type);
    g_free(s->qom_path);
    if (s->props)
        json_object_unref(s->props);
}

static gint64
prop_id(JsonObject *props, const char *name)
{
    return json_object_has_member(props, name) ? json_object_get_int_member(props, name) : -1;
}

static gint
cpu_slot_cmp(gconstpointer a, gconstpointer b)
{
    const CpuSlot *x = a, *y = b;
    const gint64 kx[] = { x->socket, x->die, x->core, x->thread };
    const gint64 ky[] = { y->socket, y->die, y->core, y->thread };

    for (guint i = 0; i < G_N_ELEMENTS(kx); i++)
        if (kx[i] != ky[i])
            return kx[i] < ky[i] ? -1 : 1;
    return 0;
}

/* QEMU's vCPU slots (query-hotpluggable-cpus) in topology order, which is
 * libvirt's vCPU order: slot i is vCPU i. NULL with the reason. */
static GArray *
query_cpu_slots(VrtQemuMonitor *mon, GError **error)
{
    g_autoptr(JsonNode) ret = vrt_qemu_monitor_command(mon, "query-hotpluggable-cpus", NULL, 0, error);
    g_autoptr(GArray) slots = NULL;
    JsonArray *arr;

    if (!ret)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "query-hotpluggable-cpus reply was missing return data");
        return NULL;
    }
    arr = json_node_get_array(ret);
    slots = g_array_new(FALSE, TRUE, sizeof(CpuSlot));
    g_array_set_clear_func(slots, cpu_slot_clear);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        JsonObject *props = o && json_object_has_member(o, "props") ? json_object_get_object_member(o, "props") : NULL;
        CpuSlot s = { 0 };

        if (!props)
            continue;
        s.socket = prop_id(props, "socket-id");
        s.die = prop_id(props, "die-id");
        s.core = prop_id(props, "core-id");
        s.thread = prop_id(props, "thread-id");
        s.type = g_strdup(json_object_get_string_member_with_default(o, "type", NULL));
        s.qom_path = g_strdup(json_object_get_string_member_with_default(o, "qom-path", NULL));
        s.props = json_object_ref(props);
        g_array_append_val(slots, s);
    }
    g_array_sort(slots, cpu_slot_cmp);
    return g_steal_pointer(&slots);
}

/* The alias vrt gives hot-added vCPU i, and whether a slot holds one
 * (a vCPU of -smp has no id under /machine/peripheral). */
static char *
vcpu_alias(guint i)
{
    return g_strdup_printf("vcpu%u", i);
}

static bool
slot_is_hotplugged(const CpuSlot *s)
{
    return s->qom_path && g_str_has_prefix(s->qom_path, "/machine/peripheral/");
}

static guint
slots_online(GArray *slots)
{
    guint n = 0;

    for (guint i = 0; i < slots->len; i++)
        if (g_array_index(slots, CpuSlot, i).qom_path)
            n++;
    return n;
}

static bool
add_vcpu(VrtQemuMonitor *mon, const CpuSlot *s, guint index, GError **error)
{
    g_autoptr(JsonObject) dev = json_object_new();
    g_autoptr(GList) members = json_object_get_members(s->props);
    g_autofree char *alias = vcpu_alias(index);

    json_object_set_string_member(dev, "driver", s->type);
    json_object_set_string_member(dev, "id", alias);
    for (GList *l = members; l; l = l->next)
        json_object_set_member(dev, l->data, json_node_copy(json_object_get_member(s->props, l->data)));
    return vrt_qemu_monitor_device_add(mon, dev, error);
}

/* Whether QEMU still has the vCPU whose QOM path is qom_path. */
static bool
vcpu_present(VrtQemuMonitor *mon, const char *qom_path)
{
    g_autoptr(GArray) slots = query_cpu_slots(mon, NULL);

    if (!slots)
        return true;
    for (guint i = 0; i < slots->len; i++)
        if (g_strcmp0(g_array_index(slots, CpuSlot, i).qom_path, qom_path) == 0)
            return true;
    return false;
}

/* Waits up to the unplug timeout for the guest to release vCPU alias (job
 * held; takes the object lock). QEMU 7.2 reports an x86 vCPU's removal
 * only with the DEVICE_DELETED of its local APIC (a path, no device id), so
 * besides a DEVICE_DELETED naming it the slot is asked for every
 * VCPU_UNPLUG_POLL_MS: once free, the vCPU is gone. */
#define VCPU_UNPLUG_POLL_MS 100
static bool
wait_vcpu_deleted(VrtQemuDom *obj, VrtQemuMonitor *mon, const char *alias, const char *qom_path)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)obj->drv->cfg.unplug_wait_ms * 1000;

    for (;;) {
        gint64 next = MIN(deadline, g_get_monotonic_time() + VCPU_UNPLUG_POLL_MS * 1000);
        bool seen;

        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

            while (!g_hash_table_contains(obj->unplug_done, alias) && !vrt_qemu_monitor_is_closed(mon))
                if (!g_cond_wait_until(&obj->cond, &obj->lock, next))
                    break;
            seen = g_hash_table_remove(obj->unplug_done, alias);
        }
        if (seen || vrt_qemu_monitor_is_closed(mon))
            return seen;
        if (!vcpu_present(mon, qom_path))
            return true;
        if (g_get_monotonic_time() >= deadline)
            return false;
    }
}

/* Records n online vCPUs in the live definition and the status file. */
static bool
save_vcpus(VrtQemuDom *obj, guint n, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    obj->def->current_vcpus = n;
    return vrt_qemu_dom_save_status_locked(obj, error);
}

bool
vrt_qemu_dom_set_vcpus_live(VrtQemuDom *obj, guint n, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = running_monitor(obj, error);
    g_autoptr(GArray) slots = NULL;
    guint online;

    if (!mon || !(slots = query_cpu_slots(mon, error)))
        return false;
    online = slots_online(slots);
    if (n > slots->len) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "failed to find appropriate hotpluggable vcpus to reach the desired target vcpu count");
        return false;
    }
    /* Lowest free slots first when adding, highest vCPUs first when removing. */
    for (guint i = 0; i < slots->len && online < n; i++) {
        const CpuSlot *s = &g_array_index(slots, CpuSlot, i);

        if (s->qom_path)
            continue;
        if (!add_vcpu(mon, s, i, error)) {
            save_vcpus(obj, online, NULL);
            return false;
        }
        online++;
    }
    for (guint i = slots->len; i > 0 && online > n; i--) {
        const CpuSlot *s = &g_array_index(slots, CpuSlot, i - 1);
        g_autofree char *alias = NULL;

        if (!s->qom_path)
            continue;
        if (!slot_is_hotplugged(s)) {
            save_vcpus(obj, online, NULL);
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "vcpu '%u' can't be unplugged", i - 1);
            return false;
        }
        alias = g_strdup(strrchr(s->qom_path, '/') + 1);
        if (!vrt_qemu_monitor_device_del(mon, alias, error)) {
            save_vcpus(obj, online, NULL);
            return false;
        }
        if (!wait_vcpu_deleted(obj, mon, alias, s->qom_path)) {
            save_vcpus(obj, online, NULL);
            vrt_error_set(error, VIR_ERR_OPERATION_TIMEOUT,
                          "vcpu unplug request timed out. Unplug result must be manually inspected in the domain");
            return false;
        }
        online--;
    }
    return save_vcpus(obj, online, error);
}

/* ---- job statistics ---- */

bool
vrt_qemu_domain_get_job_stats(VrtQemuDriver *drv, const guchar *uuid, guint flags, int *type, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);

    if (!obj)
        return false;
    /* The completed job's statistics: none ever completes (no migration,
     * save or dump), whatever the state. The current one's: the domain
     * must run; no long job ever does. */
    if (!(flags & VRT_DOMAIN_JOB_STATS_COMPLETED) && !check_active(obj, error))
        return false;
    *type = 0; /* VIR_DOMAIN_JOB_NONE */
    return true;
}

/* ---- interface addresses and hostname ---- */

/* ---- the guest agent ---- */

#define AGENT_TIMEOUT_MS 5000

typedef struct {
    char *alias;
    char *path; /* its unix socket, where QEMU listens */
} AgentChannel;

static void
agent_channel_clear(AgentChannel *a)
{
    g_free(a->alias);
    g_free(a->path);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AgentChannel, agent_channel_clear)

/* libvirt's check that the guest agent can be used: the domain runs and
 * has the agent's channel (else "not configured"), and the guest opened
 * its end of that port (QEMU's query-chardev: frontend-open; else "not
 * connected"). Fills chan. */
static bool
agent_available(VrtQemuDom *obj, AgentChannel *chan, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *label = NULL;
    bool open = false;

    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        if (obj->state != VRT_DOMAIN_RUNNING || !obj->mon) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "domain is not running");
            return false;
        }
        for (guint i = 0; obj->def->channels && i < obj->def->channels->len && !chan->alias; i++) {
            const VrtDomainChrDef *chr = g_ptr_array_index(obj->def->channels, i);

            if (g_strcmp0(chr->target_name, AGENT_CHANNEL_NAME) != 0)
                continue;
            chan->alias = g_strdup(chr->info.alias ? chr->info.alias : "channel0");
            if (chr->type == VRT_DOMAIN_CHR_TYPE_UNIX && chr->listen)
                chan->path = g_strdup(chr->path);
        }
        mon = vrt_qemu_monitor_ref(obj->mon);
    }
    if (!chan->alias) {
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "QEMU guest agent is not configured");
        return false;
    }
    label = g_strdup_printf("char%s", chan->alias);
    ret = vrt_qemu_monitor_command(mon, "query-chardev", NULL, 0, NULL);
    for (guint i = 0; ret && JSON_NODE_HOLDS_ARRAY(ret) && i < json_array_get_length(json_node_get_array(ret)); i++) {
        JsonObject *o = json_array_get_object_element(json_node_get_array(ret), i);

        if (o && g_strcmp0(json_object_get_string_member_with_default(o, "label", NULL), label) == 0)
            open = json_object_get_boolean_member_with_default(o, "frontend-open", FALSE);
    }
    if (!open || !chan->path) {
        vrt_error_set(error, VIR_ERR_AGENT_UNRESPONSIVE, "QEMU guest agent is not connected");
        return false;
    }
    return true;
}

bool
vrt_qemu_agent_check(VrtQemuDom *obj, GError **error)
{
    g_auto(AgentChannel) chan = { 0 };

    return agent_available(obj, &chan, error);
}

/* One line of the agent's answer (without its newline; 0xFF delimiters
 * dropped), NULL on timeout or end of stream. deadline G_MAXINT64: none. */
static char *
agent_read_line(GSocket *sock, GString *buf, gint64 deadline)
{
    for (;;) {
        char *nl = memchr(buf->str, '\n', buf->len);
        char chunk[4096];
        gssize n;
        gint64 left = -1;

        if (nl) {
            char *line = g_strndup(buf->str, (gsize)(nl - buf->str));

            g_string_erase(buf, 0, nl - buf->str + 1);
            return line;
        }
        if (deadline != G_MAXINT64) {
            left = deadline - g_get_monotonic_time();
            if (left <= 0)
                return NULL;
        }
        if (!g_socket_condition_timed_wait(sock, G_IO_IN, left, NULL, NULL))
            return NULL;
        n = g_socket_receive(sock, chunk, sizeof(chunk), NULL, NULL);
        if (n <= 0)
            return NULL;
        for (gssize i = 0; i < n; i++)
            if ((guchar)chunk[i] != 0xff)
                g_string_append_c(buf, chunk[i]);
    }
}

static bool
agent_send(GSocket *sock, const char *text)
{
    gsize len = strlen(text), off = 0;

    while (off < len) {
        gssize n = g_socket_send(sock, text + off, len - off, NULL, NULL);

        if (n <= 0)
            return false;
        off += (gsize)n;
    }
    return true;
}

/* The deadline of a wait of timeout seconds, libvirt's way: -2 blocks
 * (G_MAXINT64), -1 is the default 5 s, 0 does not wait. */
static gint64
agent_deadline(int timeout)
{
    if (timeout == VRT_QEMU_AGENT_TIMEOUT_BLOCK)
        return G_MAXINT64;
    if (timeout == VRT_QEMU_AGENT_TIMEOUT_DEFAULT)
        timeout = AGENT_TIMEOUT_MS / 1000;
    return g_get_monotonic_time() + (gint64)timeout * G_USEC_PER_SEC;
}

JsonNode *
vrt_qemu_agent_exchange(VrtQemuDom *obj, const char *request, int timeout, bool no_reply, GError **error)
{
    g_auto(AgentChannel) chan = { 0 };
    g_autoptr(GSocket) sock = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GString) buf = g_string_new(NULL);
    g_autoptr(JsonNode) reqnode = json_from_string(request, NULL);
    g_autofree char *line_out = NULL;
    const char *cmd = NULL;
    gint64 deadline = g_get_monotonic_time() + (gint64)AGENT_TIMEOUT_MS * 1000;
    guint64 id = (guint64)g_get_real_time();
    g_autofree char *sync = NULL;
    bool synced = false;

    if (!reqnode || !JSON_NODE_HOLDS_OBJECT(reqnode)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot parse json %s: %s", request,
                      "the command is not a JSON object");
        return NULL;
    }
    cmd = json_object_get_string_member_with_default(json_node_get_object(reqnode), "execute", NULL);
    if (!agent_available(obj, &chan, error))
        return NULL;
    sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL);
    addr = g_unix_socket_address_new(chan.path);
    if (!sock || !g_socket_connect(sock, addr, NULL, NULL)) {
        vrt_error_set(error, VIR_ERR_AGENT_UNRESPONSIVE, "QEMU guest agent is not connected");
        return NULL;
    }
    /* 0xFF first: qemu-ga drops whatever partial input an earlier client
     * left. The handshake waits the default time whatever the command's. */
    sync = g_strdup_printf("\xff{\"execute\":\"guest-sync\",\"arguments\":{\"id\":%" G_GUINT64_FORMAT "}}\n", id);
    if (!agent_send(sock, sync)) {
        vrt_error_set(error, VIR_ERR_AGENT_UNRESPONSIVE, "Guest agent not available for now");
        return NULL;
    }
    while (!synced) {
        g_autofree char *line = agent_read_line(sock, buf, deadline);
        g_autoptr(JsonNode) node = NULL;

        if (!line) {
            vrt_error_set(error, VIR_ERR_AGENT_UNRESPONSIVE, "Guest agent not available for now");
            return NULL;
        }
        node = json_from_string(line, NULL);
        /* Replies to an earlier client's commands may come first. */
        synced = node && JSON_NODE_HOLDS_OBJECT(node) && json_object_has_member(json_node_get_object(node), "return") &&
                 (guint64)json_object_get_int_member(json_node_get_object(node), "return") == id;
    }
    /* One line: qemu-ga reads JSON objects, and a pretty-printed request
     * would still be one message. */
    {
        g_autofree char *text = json_to_string(reqnode, FALSE);

        line_out = g_strdup_printf("%s\n", text);
    }
    if (!agent_send(sock, line_out)) {
        vrt_error_set(error, VIR_ERR_AGENT_UNRESPONSIVE, "Guest agent not available for now");
        return NULL;
    }
    if (no_reply)
        return json_node_init_null(json_node_alloc());
    deadline = agent_deadline(timeout);
    for (;;) {
        g_autofree char *line = agent_read_line(sock, buf, deadline);
        g_autoptr(JsonNode) node = NULL;
        JsonObject *o;

        if (!line) {
            vrt_error_set(error, VIR_ERR_AGENT_UNRESPONSIVE, "Guest agent not available for now");
            return NULL;
        }
        node = json_from_string(line, NULL);
        if (!node || !JSON_NODE_HOLDS_OBJECT(node))
            continue;
        o = json_node_get_object(node);
        if (json_object_has_member(o, "error")) {
            JsonObject *e = json_object_get_object_member(o, "error");

            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "unable to execute QEMU agent command '%s': %s",
                          cmd ? cmd : "(unknown)",
                          e ? json_object_get_string_member_with_default(e, "desc", "unknown error") : "unknown error");
            return NULL;
        }
        if (json_object_has_member(o, "return"))
            return g_steal_pointer(&node);
    }
}

JsonNode *
vrt_qemu_agent_call(VrtQemuDom *obj, const char *cmd, JsonObject *args, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) req = NULL;
    g_autoptr(JsonNode) reply = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, cmd);
    if (args) {
        json_builder_set_member_name(b, "arguments");
        json_builder_add_value(b, json_node_init_object(json_node_alloc(), args));
    }
    json_builder_end_object(b);
    req = json_builder_get_root(b);
    text = json_to_string(req, FALSE);
    reply = vrt_qemu_agent_exchange(obj, text, VRT_QEMU_AGENT_TIMEOUT_DEFAULT, false, error);
    if (!reply)
        return NULL;
    return json_node_copy(json_object_get_member(json_node_get_object(reply), "return"));
}

/* Runs agent command cmd (no arguments): its "return" member. */
static JsonNode *
agent_command(VrtQemuDom *obj, const char *cmd, GError **error)
{
    return vrt_qemu_agent_call(obj, cmd, NULL, error);
}

/* guest-network-get-interfaces as libvirt's interfaces: name, hardware
 * address, each address with its type and prefix. */
static GPtrArray *
agent_interfaces(VrtQemuDom *obj, GError **error)
{
    g_autoptr(JsonNode) ret = agent_command(obj, "guest-network-get-interfaces", error);
    g_autoptr(GPtrArray) out = NULL;
    JsonArray *arr;

    if (!ret)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "qemu agent didn't return an array of interfaces");
        return NULL;
    }
    arr = json_node_get_array(ret);
    out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_iface_free);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *o = json_array_get_object_element(arr, i);
        JsonArray *ips;
        VrtDomainIface *iface;

        if (!o || !json_object_get_string_member_with_default(o, "name", NULL)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "qemu agent didn't provide 'name' field");
            return NULL;
        }
        iface = iface_new(json_object_get_string_member(o, "name"),
                          json_object_get_string_member_with_default(o, "hardware-address", NULL));
        g_ptr_array_add(out, iface);
        ips = json_object_has_member(o, "ip-addresses") ? json_object_get_array_member(o, "ip-addresses") : NULL;
        for (guint j = 0; ips && j < json_array_get_length(ips); j++) {
            JsonObject *a = json_array_get_object_element(ips, j);
            VrtDomainIpAddr ip = { 0 };

            if (!a || !json_object_get_string_member_with_default(a, "ip-address", NULL))
                continue;
            ip.type = g_strcmp0(json_object_get_string_member_with_default(a, "ip-address-type", ""), "ipv6") == 0;
            ip.addr = g_strdup(json_object_get_string_member(a, "ip-address"));
            ip.prefix = (guint)json_object_get_int_member_with_default(a, "prefix", 0);
            g_array_append_val(iface->addrs, ip);
        }
    }
    return g_steal_pointer(&out);
}

/* guest-get-host-name; NULL with an empty error when the agent has none. */
static char *
agent_hostname(VrtQemuDom *obj, GError **error)
{
    g_autoptr(JsonNode) ret = agent_command(obj, "guest-get-host-name", error);

    if (!ret)
        return NULL;
    if (!JSON_NODE_HOLDS_OBJECT(ret))
        return NULL;
    return g_strdup(json_object_get_string_member_with_default(json_node_get_object(ret), "host-name", NULL));
}

typedef struct {
    char *ifname;
    char *network; /* type network: its name */
    char mac[VRT_MAC_STRING_LEN];
} NetSnap;

static void
net_snap_clear(gpointer p)
{
    NetSnap *n = p;

    g_free(n->ifname);
    g_free(n->network);
}

/* The domain's interfaces, copied under its lock. */
static GArray *
nets_snap(VrtQemuDom *obj)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(NetSnap));
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    g_array_set_clear_func(out, net_snap_clear);
    for (guint i = 0; i < obj->def->nets->len; i++) {
        const VrtDomainNetDef *net = g_ptr_array_index(obj->def->nets, i);
        NetSnap n = { 0 };

        n.ifname = g_strdup(net->ifname);
        if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK)
            n.network = g_strdup(net->source_network);
        vrt_mac_format(net->mac, n.mac);
        g_array_append_val(out, n);
    }
    return out;
}

/* The DHCP leases the network's dnsmasq holds for one interface on a
 * network (its MAC), as VrtNetworkDhcpLease*: libvirt's lookup error for a
 * network that is gone, "network is not active" for a stopped one. */
static GPtrArray *
interface_leases(VrtQemuDriver *drv, const NetSnap *n, GError **error)
{
    g_autoptr(VrtNetworkRef) ref = NULL;

    if (!drv->cfg.network) {
        vrt_error_set(error, VIR_ERR_NO_NETWORK, "no network with matching name '%s'", n->network);
        return NULL;
    }
    ref = vrt_netdrv_lookup_by_name(drv->cfg.network, n->network, error);
    if (!ref)
        return NULL;
    return vrt_netdrv_get_dhcp_leases(drv->cfg.network, ref->uuid, n->mac, 0, error);
}

/* virDomainInterfaceAddresses from leases, as libvirt's
 * virDomainNetDHCPInterfaces: one interface per <interface type='network'>
 * that has leases, with one address per lease. */
static GPtrArray *
lease_interfaces(VrtQemuDriver *drv, GArray *nets, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_iface_free);

    for (guint i = 0; i < nets->len; i++) {
        const NetSnap *n = &g_array_index(nets, NetSnap, i);
        g_autoptr(GPtrArray) leases = NULL;
        VrtDomainIface *iface;

        if (!n->network)
            continue;
        leases = interface_leases(drv, n, error);
        if (!leases)
            return NULL;
        if (leases->len == 0)
            continue;
        iface = iface_new(n->ifname, n->mac);
        for (guint j = 0; j < leases->len; j++) {
            const VrtNetworkDhcpLease *l = g_ptr_array_index(leases, j);
            VrtDomainIpAddr a = { .type = l->type, .addr = g_strdup(l->ipaddr), .prefix = l->prefix };

            g_array_append_val(iface->addrs, a);
        }
        g_ptr_array_add(out, iface);
    }
    return g_steal_pointer(&out);
}

/* The first hostname of the domain's leases (libvirt's
 * qemuDomainGetHostnameLease); NULL with no error when none has one. */
static char *
lease_hostname(VrtQemuDriver *drv, GArray *nets, GError **error)
{
    for (guint i = 0; i < nets->len; i++) {
        const NetSnap *n = &g_array_index(nets, NetSnap, i);
        g_autoptr(GPtrArray) leases = NULL;

        if (!n->network)
            continue;
        leases = interface_leases(drv, n, error);
        if (!leases)
            return NULL;
        for (guint j = 0; j < leases->len; j++) {
            const VrtNetworkDhcpLease *l = g_ptr_array_index(leases, j);

            if (l->hostname)
                return g_strdup(l->hostname);
        }
    }
    return NULL;
}

static GPtrArray *
arp_interfaces(VrtQemuDriver *drv, GArray *nets, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_iface_free);
    g_autoptr(GPtrArray) table = NULL;

    if (!drv->cfg.host) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Could not open /proc/net/arp");
        return NULL;
    }
    table = vrt_host_arp_table(drv->cfg.host, error);
    if (!table)
        return NULL;
    /* One interface per matching entry, with its one IPv4 address (no
     * prefix), as libvirt lists them. */
    for (guint i = 0; i < nets->len; i++) {
        const NetSnap *n = &g_array_index(nets, NetSnap, i);

        for (guint j = 0; j < table->len; j++) {
            const VrtHostArpEntry *e = g_ptr_array_index(table, j);
            VrtDomainIface *iface;
            VrtDomainIpAddr a = { 0 };

            if (!g_str_equal(e->mac, n->mac))
                continue;
            iface = iface_new(n->ifname, n->mac);
            a.addr = g_strdup(e->ip);
            g_array_append_val(iface->addrs, a);
            g_ptr_array_add(out, iface);
        }
    }
    return g_steal_pointer(&out);
}

GPtrArray *
vrt_qemu_domain_interface_addresses(VrtQemuDriver *drv, const guchar *uuid, guint source, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    g_autoptr(GArray) nets = NULL;

    (void)flags;
    if (!obj || !check_active(obj, error))
        return NULL;
    nets = nets_snap(obj);
    switch (source) {
    case VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE: return lease_interfaces(drv, nets, error);
    case VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT: return agent_interfaces(obj, error);
    case VRT_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP: return arp_interfaces(drv, nets, error);
    default:
        vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "Unknown IP address data source %u", source);
        return NULL;
    }
}

char *
vrt_qemu_domain_get_hostname(VrtQemuDriver *drv, const guchar *uuid, guint flags, GError **error)
{
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(GArray) nets = NULL;
    g_autofree char *name = NULL;

    if ((flags & VRT_DOMAIN_GET_HOSTNAME_LEASE) && (flags & VRT_DOMAIN_GET_HOSTNAME_AGENT)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "Flags 'VIR_DOMAIN_GET_HOSTNAME_LEASE' and 'VIR_DOMAIN_GET_HOSTNAME_AGENT' are mutually "
                      "exclusive");
        return NULL;
    }
    obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj || !check_active(obj, error))
        return NULL;
    if (!(flags & VRT_DOMAIN_GET_HOSTNAME_LEASE)) {
        g_autoptr(GError) local = NULL;
        char *host = agent_hostname(obj, &local);

        if (host)
            return host;
        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
    } else {
        g_autoptr(GError) local = NULL;
        char *host;

        nets = nets_snap(obj);
        host = lease_hostname(drv, nets, &local);
        if (host)
            return host;
        if (local) {
            g_propagate_error(error, g_steal_pointer(&local));
            return NULL;
        }
    }
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

        name = g_strdup(obj->def->name);
    }
    vrt_error_set(error, VIR_ERR_NO_HOSTNAME, "no hostname found for domain %s", name);
    return NULL;
}

/* ---- balloon statistics period ---- */

static bool
has_balloon(const VrtDomainDef *def)
{
    return def->memballoon && g_strcmp0(def->memballoon->model, "none") != 0;
}

/* The balloon's QOM path: its id under /machine/peripheral (job held,
 * takes the object lock); NULL with libvirt's error when there is none. */
static char *
balloon_qom_path(VrtQemuDom *obj, GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);

    if (!has_balloon(obj->def)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                      "No memory balloon device configured, can not set the collection period");
        return NULL;
    }
    return g_strdup_printf("/machine/peripheral/%s",
                           obj->def->memballoon->info.alias ? obj->def->memballoon->info.alias : "balloon0");
}

static bool
set_period_live(VrtQemuDom *obj, int period, GError **error)
{
    g_autoptr(VrtQemuMonitor) mon = running_monitor(obj, error);
    g_autofree char *path = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GMutexLocker) locker = NULL;

    if (!mon || !(path = balloon_qom_path(obj, error)))
        return false;
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", "guest-stats-polling-interval");
    json_object_set_int_member(args, "value", period);
    ret = vrt_qemu_monitor_command(mon, "qom-set", args, 0, NULL);
    if (!ret) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "unable to set balloon driver collection period");
        return false;
    }
    locker = g_mutex_locker_new(&obj->lock);
    obj->def->memballoon->stats_period = (guint)period;
    return vrt_qemu_dom_save_status_locked(obj, error);
}

static bool
set_period_config(VrtQemuDom *obj, int period, GError **error)
{
    g_autoptr(VrtDomainDef) copy = vrt_qemu_dom_config_copy(obj, error);

    if (!copy)
        return false;
    if (!has_balloon(copy)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                      "No memory balloon device configured, can not set the collection period");
        return false;
    }
    copy->memballoon->stats_period = (guint)period;
    return vrt_qemu_dom_config_install(obj, g_steal_pointer(&copy), error);
}

bool
vrt_qemu_domain_set_memory_stats_period(VrtQemuDriver *drv, const guchar *uuid, int period, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    bool live, config;

    if (!obj || !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, error) ||
        !vrt_qemu_dom_affect_flags(obj, flags, &live, &config, error))
        return false;
    if (period < 0) {
        /* QEMU refuses a negative interval; libvirt hands it on. */
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "unable to set balloon driver collection period");
        return false;
    }
    if (live && !set_period_live(obj, period, error))
        return false;
    return !config || set_period_config(obj, period, error);
}

/* ---- dirty page rate ---- */

bool
vrt_qemu_domain_start_dirty_rate_calc(VrtQemuDriver *drv, const guchar *uuid, int seconds, guint flags, GError **error)
{
    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = NULL;
    g_autoptr(VrtQemuMonitor) mon = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) ret = NULL;

    if (seconds < DIRTYRATE_MIN_SECONDS || seconds > DIRTYRATE_MAX_SECONDS) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "seconds=%d is invalid, please choose value within [%d, %d].",
                      seconds, DIRTYRATE_MIN_SECONDS, DIRTYRATE_MAX_SECONDS);
        return false;
    }
    obj = vrt_qemu_driver_find(drv, uuid, error);
    if (!obj || !check_active(obj, error))
        return false;
    if (flags & VRT_DOMAIN_DIRTYRATE_MODE_DIRTY_RING) {
        /* vrt never enables KVM's dirty ring. */
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                      "dirty-ring calculation mode requires dirty-ring feature enabled.");
        return false;
    }
    if (!vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, error) || !(mon = running_monitor(obj, error)))
        return false;
    json_object_set_int_member(args, "calc-time", seconds);
    /* Page sampling is QEMU's default: named only for the other mode. */
    if (flags & VRT_DOMAIN_DIRTYRATE_MODE_DIRTY_BITMAP)
        json_object_set_string_member(args, "mode", "dirty-bitmap");
    ret = vrt_qemu_monitor_command(mon, "calc-dirty-rate", args, 0, error);
    return ret != NULL;
}
