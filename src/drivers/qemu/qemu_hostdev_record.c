/*
 * The hostdev job's records: names of jobs, steps and kinds, the per-domain
 * set of records, and their XML form inside the domain's status file
 * (<hostdev-records>), which is what a restarted daemon recovers from,
 * including the records of vrt before the step table (step = the last one
 * started, no done list). Step names come from the step table. Also
 * the driver's die-at fault hook, so every name a test may write in
 * VRT_FAULT_DIE_AT is defined in this one file.
 */
#include "drivers/qemu/qemu_hostdev.h"
#include "util/error.h"
#include "util/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const char *const job_names[] = { "none", "attach", "detach" };
static const char *const kind_names[] = { "interface-hostdev", "interface-network", "hostdev", "interface-emulated" };

const char *
vrt_qemu_hostdev_job_to_string(VrtQemuHostdevJob job)
{
    return (guint)job < G_N_ELEMENTS(job_names) ? job_names[job] : "unknown";
}

const char *
vrt_qemu_hostdev_kind_to_string(VrtQemuHostdevKind kind)
{
    return (guint)kind < G_N_ELEMENTS(kind_names) ? kind_names[kind] : "unknown";
}

static int
name_index(const char *const *names, guint n, const char *name)
{
    for (guint i = 0; name && i < n; i++) {
        if (g_str_equal(names[i], name))
            return (int)i;
    }
    return -1;
}

void
vrt_qemu_hostdev_record_free(VrtQemuHostdevRecord *rec)
{
    if (!rec)
        return;
    g_free(rec->alias);
    g_free(rec->network);
    g_free(rec->orig_driver);
    g_free(rec);
}

VrtQemuHostdevState *
vrt_qemu_hostdev_state_new(void)
{
    VrtQemuHostdevState *st = g_new0(VrtQemuHostdevState, 1);

    st->records = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_qemu_hostdev_record_free);
    return st;
}

void
vrt_qemu_hostdev_state_free(VrtQemuHostdevState *st)
{
    if (!st)
        return;
    g_ptr_array_unref(st->records);
    g_free(st);
}

VrtQemuHostdevRecord *
vrt_qemu_hostdev_state_find(VrtQemuHostdevState *st, const char *alias)
{
    for (guint i = 0; st && alias && i < st->records->len; i++) {
        VrtQemuHostdevRecord *rec = g_ptr_array_index(st->records, i);

        if (g_strcmp0(rec->alias, alias) == 0)
            return rec;
    }
    return NULL;
}

VrtQemuHostdevRecord *
vrt_qemu_hostdev_state_find_addr(VrtQemuHostdevState *st, const VrtPciAddr *addr)
{
    for (guint i = 0; st && addr && i < st->records->len; i++) {
        VrtQemuHostdevRecord *rec = g_ptr_array_index(st->records, i);

        if (rec->addr_set && vrt_pci_addr_equal(&rec->addr, addr))
            return rec;
    }
    return NULL;
}

/* ---- XML ---- */

static const char *
yesno(bool b)
{
    return b ? "yes" : "no";
}

char *
vrt_qemu_hostdev_state_format(const VrtQemuHostdevState *st)
{
    g_autoptr(GString) out = g_string_new(NULL);

    if (!st || st->records->len == 0)
        return g_strdup("");
    g_string_append(out, "  <hostdev-records>\n");
    for (guint i = 0; i < st->records->len; i++) {
        const VrtQemuHostdevRecord *r = g_ptr_array_index(st->records, i);
        char mac[VRT_MAC_STRING_LEN];
        char uuid[VRT_UUID_STRING_LEN];
        char addr[VRT_PCI_ADDR_STRING_LEN];
        g_autofree char *head = NULL;
        g_autoptr(GString) done = g_string_new(NULL);

        for (guint s = VRT_QEMU_HOSTDEV_STEP_CLAIM; s < VRT_QEMU_HOSTDEV_N_STEPS; s++) {
            if (vrt_qemu_hostdev_record_done(r, s))
                g_string_append_printf(done, "%s%s", done->len ? " " : "", vrt_qemu_hostdev_step_to_string(s));
        }
        vrt_mac_format(r->mac, mac);
        vrt_uuid_format(r->port_uuid, uuid);
        head = g_markup_printf_escaped(
            "    <record alias='%s' kind='%s' addr='%s' managed='%s' vf='%s'"
            " job='%s' step='%s' done='%s' pending='%s' mac='%s'",
            r->alias, vrt_qemu_hostdev_kind_to_string(r->kind), vrt_qemu_hostdev_record_addr_string(r, addr),
            yesno(r->managed), yesno(r->is_vf), vrt_qemu_hostdev_job_to_string(r->job),
            vrt_qemu_hostdev_step_to_string(r->running), done->str, yesno(vrt_qemu_hostdev_record_pending(r)), mac);
        g_string_append(out, head);
        if (r->network) {
            g_autofree char *n = g_markup_printf_escaped(" network='%s'", r->network);

            g_string_append(out, n);
        }
        if (r->port_set)
            g_string_append_printf(out, " port='%s'", uuid);
        if (vrt_qemu_hostdev_record_done(r, VRT_QEMU_HOSTDEV_STEP_SAVE_VF)) {
            g_autofree char *drv =
                r->orig_driver ? g_markup_printf_escaped(" driver='%s'", r->orig_driver) : g_strdup("");

            vrt_mac_format(r->orig_mac, mac);
            g_string_append_printf(out,
                                   ">\n      <original%s mac='%s' vlan='%u' qos='%u' spoofchk='%s' trust='%s'/>\n"
                                   "    </record>\n",
                                   drv, mac, r->orig_vlan, r->orig_qos, yesno(r->orig_spoofchk), yesno(r->orig_trust));
        } else {
            g_string_append(out, "/>\n");
        }
    }
    g_string_append(out, "  </hostdev-records>\n");
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static bool
prop_yes(xmlNodePtr node, const char *name)
{
    g_autofree char *v = vrt_xml_prop(node, name);

    return g_strcmp0(v, "yes") == 0;
}

static bool
prop_uint(xmlNodePtr node, const char *name, guint *out)
{
    g_autofree char *v = vrt_xml_prop(node, name);
    guint64 n;

    if (!v)
        return true;
    if (!g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT, &n, NULL))
        return false;
    *out = (guint)n;
    return true;
}

/* done='claim save-vf ...': the names of the steps completed. */
static bool
parse_done(const char *text, VrtQemuHostdevRecord *r)
{
    g_auto(GStrv) names = g_strsplit(text, " ", -1);

    for (guint i = 0; names[i]; i++) {
        int s = vrt_qemu_hostdev_step_from_string(names[i]);

        if (!*names[i])
            continue;
        if (s <= VRT_QEMU_HOSTDEV_STEP_NONE)
            return false;
        r->done |= VRT_QEMU_HOSTDEV_STEP_BIT(s);
    }
    return true;
}

static VrtQemuHostdevRecord *
parse_record(xmlNodePtr n, GError **error)
{
    g_autoptr(VrtQemuHostdevRecord) r = g_new0(VrtQemuHostdevRecord, 1);
    g_autofree char *kind = vrt_xml_prop(n, "kind");
    g_autofree char *job = vrt_xml_prop(n, "job");
    g_autofree char *step = vrt_xml_prop(n, "step");
    g_autofree char *mac = vrt_xml_prop(n, "mac");
    g_autofree char *port = vrt_xml_prop(n, "port");
    g_autofree char *done = vrt_xml_prop(n, "done");
    g_autofree char *addr = vrt_xml_prop(n, "addr");
    int k = name_index(kind_names, G_N_ELEMENTS(kind_names), kind);
    int j = name_index(job_names, G_N_ELEMENTS(job_names), job);
    int s = vrt_qemu_hostdev_step_from_string(step);

    r->alias = vrt_xml_prop(n, "alias");
    r->network = vrt_xml_prop(n, "network");
    /* addr='': no device yet (a pool's interface before its claim) or
     * none (an emulated interface). */
    r->addr_set = addr && *addr;
    if (!r->alias || !addr || (r->addr_set && !vrt_pci_addr_parse(addr, &r->addr, NULL)) || k < 0 || j < 0 || s < 0 ||
        (mac && !vrt_mac_parse(mac, r->mac)) || (port && !vrt_uuid_parse(port, r->port_uuid))) {
        vrt_error_set(error, VIR_ERR_PARSE_FAILED, "invalid hostdev record '%s'", r->alias ? r->alias : "");
        return NULL;
    }
    r->kind = k;
    r->job = j;
    r->port_set = port != NULL;
    r->managed = prop_yes(n, "managed");
    r->is_vf = prop_yes(n, "vf");
    if (!done) {
        /* Written before the step table: step is the last one started. */
        vrt_qemu_hostdev_record_from_last_step(r, s);
    } else if (!parse_done(done, r)) {
        vrt_error_set(error, VIR_ERR_PARSE_FAILED, "invalid steps done in hostdev record '%s'", r->alias);
        return NULL;
    } else {
        r->running = s;
    }
    for (xmlNodePtr c = n->children; c; c = c->next) {
        g_autofree char *omac = NULL;

        if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, (const xmlChar *)"original"))
            continue;
        omac = vrt_xml_prop(c, "mac");
        r->orig_driver = vrt_xml_prop(c, "driver");
        r->orig_spoofchk = prop_yes(c, "spoofchk");
        r->orig_trust = prop_yes(c, "trust");
        if ((omac && !vrt_mac_parse(omac, r->orig_mac)) || !prop_uint(c, "vlan", &r->orig_vlan) ||
            !prop_uint(c, "qos", &r->orig_qos)) {
            vrt_error_set(error, VIR_ERR_PARSE_FAILED, "invalid original settings in hostdev record '%s'", r->alias);
            return NULL;
        }
    }
    return g_steal_pointer(&r);
}

VrtQemuHostdevState *
vrt_qemu_hostdev_state_parse(const char *xml, GError **error)
{
    g_autoptr(VrtQemuHostdevState) st = vrt_qemu_hostdev_state_new();
    xmlDocPtr doc;
    xmlNodePtr root;
    bool ok = true;

    if (!xml || !*xml)
        return g_steal_pointer(&st);
    doc = vrt_xml_read(xml, "hostdev-records", "hostdev-records", NULL, NULL);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root) {
        vrt_error_set(error, VIR_ERR_PARSE_FAILED, "not a <hostdev-records> element");
        ok = false;
    }
    for (xmlNodePtr n = root ? root->children : NULL; ok && n; n = n->next) {
        VrtQemuHostdevRecord *r;

        if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, (const xmlChar *)"record"))
            continue;
        if (!(r = parse_record(n, error)))
            ok = false;
        else
            g_ptr_array_add(st->records, r);
    }
    if (doc)
        xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&st) : NULL;
}

/* ---- fault hook ---- */

bool
vrt_qemu_hostdev_fault_die_at(const char *job, const char *step, gpointer die_at, GError **error)
{
    g_autofree char *here = g_strdup_printf("%s:%s", job, step);

    if (die_at && g_str_equal(here, (const char *)die_at)) {
        g_message("VRT_FAULT_DIE_AT=%s: ending the process before step %s", here, step);
        kill(getpid(), SIGKILL);
        pause();
    }
    return true;
}
