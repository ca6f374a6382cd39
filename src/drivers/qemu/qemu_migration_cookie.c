/*
 * The migration cookie: libvirt's <qemu-migration> document each phase of
 * a migration hands to the next one through the client. It names the
 * domain (name, uuid) and the host that wrote it (hostname, hostuuid); a
 * destination refuses a cookie written by its own host UUID, which is how
 * libvirt stops a migration to the same host. With --persistent the
 * source adds the definition the destination is to keep (<persistent>);
 * its perform adds the transfer's statistics (<statistics>), which become
 * the destination's completed job. The hostdev plan (<hostdev-plan>, vrt's
 * own) names the SR-IOV interfaces of hostdev pools, and the fixed VFs of
 * teaming pairs (interfaces, or <hostdev>s with neither MAC nor VLAN), the
 * migration unplugs at the source and plugs again at the destination. A
 * destination's prepare names where its own daemon can be reached
 * (<daemon-uri>, vrt's own too): the URI a restarted source of a
 * client-managed migration asks where the guest runs.
 */
#include "drivers/qemu/qemu_migration.h"
#include "util/error.h"
#include "util/mac.h"
#include "util/uuid.h"
#include "util/xml.h"

#include <libxml/tree.h>

void
vrt_migration_hostdev_free(VrtMigrationHostdev *h)
{
    if (!h)
        return;
    g_free(h->alias);
    g_free(h->network);
    g_free(h->teaming_persistent);
    g_free(h);
}

void
vrt_migration_cookie_free(VrtMigrationCookie *c)
{
    if (!c)
        return;
    if (c->hostdevs)
        g_ptr_array_unref(c->hostdevs);
    g_free(c->name);
    g_free(c->hostname);
    g_free(c->persistent_xml);
    g_free(c->daemon_uri);
    if (c->stats)
        g_ptr_array_unref(c->stats);
    g_free(c);
}

char *
vrt_migration_cookie_format(const VrtMigrationCookie *c)
{
    GString *out = g_string_new("<qemu-migration>\n");
    char uuid[VRT_UUID_STRING_LEN], hostuuid[VRT_UUID_STRING_LEN];
    g_autofree char *name = vrt_xml_escape(c->name);
    g_autofree char *hostname = vrt_xml_escape(c->hostname);

    vrt_uuid_format(c->uuid, uuid);
    vrt_uuid_format(c->hostuuid, hostuuid);
    g_string_append_printf(out, "  <name>%s</name>\n  <uuid>%s</uuid>\n", name, uuid);
    g_string_append_printf(out, "  <hostname>%s</hostname>\n  <hostuuid>%s</hostuuid>\n", hostname, hostuuid);
    if (c->daemon_uri) {
        g_autofree char *daemon_uri = vrt_xml_escape(c->daemon_uri);

        g_string_append_printf(out, "  <daemon-uri>%s</daemon-uri>\n", daemon_uri);
    }
    if (c->persistent_xml) {
        g_string_append(out, "  <feature name='persistent'/>\n  <persistent>\n");
        g_string_append(out, c->persistent_xml);
        g_string_append(out, "\n  </persistent>\n");
    }
    if (c->stats) {
        g_string_append(out, "  <statistics>\n");
        for (guint i = 0; i < c->stats->len; i++) {
            const VrtTypedParam *p = g_ptr_array_index(c->stats, i);

            if (p->type == VRT_TYPED_PARAM_ULLONG)
                g_string_append_printf(out, "    <%s>%" G_GUINT64_FORMAT "</%s>\n", p->field, p->v.ul, p->field);
        }
        g_string_append(out, "  </statistics>\n");
    }
    if (c->hostdevs && c->hostdevs->len) {
        g_string_append(out, "  <hostdev-plan>\n");
        for (guint i = 0; i < c->hostdevs->len; i++) {
            const VrtMigrationHostdev *h = g_ptr_array_index(c->hostdevs, i);
            g_autofree char *alias = vrt_xml_escape(h->alias ? h->alias : "");
            char mac[VRT_MAC_STRING_LEN];

            vrt_mac_format(h->mac, mac);
            g_string_append_printf(out, "    <%s alias='%s'", h->hostdev ? "hostdev" : "interface", alias);
            if (h->fixed) {
                char vf[VRT_PCI_ADDR_STRING_LEN];

                g_string_append_printf(out, " vf='%s' managed='%s'", vrt_pci_addr_format_buf(&h->vf, vf),
                                       h->managed ? "yes" : "no");
            } else {
                g_autofree char *network = vrt_xml_escape(h->network);

                g_string_append_printf(out, " network='%s'", network);
            }
            if (!h->hostdev)
                g_string_append_printf(out, " mac='%s'%s", mac, h->vlan_trunk ? " trunk='yes'" : "");
            if (h->teaming_persistent) {
                g_autofree char *partner = vrt_xml_escape(h->teaming_persistent);

                g_string_append_printf(out, " teaming-persistent='%s'", partner);
            }
            if (h->source_vf_set) {
                char vf[VRT_PCI_ADDR_STRING_LEN];

                g_string_append_printf(out, " source-vf='%s'", vrt_pci_addr_format_buf(&h->source_vf, vf));
            }
            if (h->hostdev) {
                g_string_append(out, "/>\n");
                continue;
            }
            g_string_append(out, ">\n");
            for (guint t = 0; t < h->n_vlan_tags; t++)
                g_string_append_printf(out, "      <vlan tag='%u'/>\n", h->vlan_tags[t]);
            g_string_append(out, "    </interface>\n");
        }
        g_string_append(out, "  </hostdev-plan>\n");
    }
    g_string_append(out, "</qemu-migration>\n");
    return g_string_free(out, FALSE);
}

static void
xml_doc_free(xmlDocPtr doc)
{
    xmlFreeDoc(doc);
}

VrtMigrationCookie *
vrt_migration_cookie_parse(const char *xml, gsize len, const guchar *local_uuid, GError **error)
{
    g_autofree char *text = g_strndup(xml ? xml : "", len);
    g_autoptr(VrtMigrationCookie) c = g_new0(VrtMigrationCookie, 1);
    g_autofree char *uuid = NULL;
    g_autofree char *hostuuid = NULL;
    xmlDocPtr doc;
    xmlNodePtr root;

    if (!len || !*text) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "missing migration cookie");
        return NULL;
    }
    doc = vrt_xml_read(text, "qemu_migration_cookie", "qemu-migration", NULL, error);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    for (xmlNodePtr n = vrt_xml_next_element(root->children); n; n = vrt_xml_next_element(n->next)) {
        if (vrt_xml_is(n, "name") && !c->name) {
            c->name = vrt_xml_text(n);
        } else if (vrt_xml_is(n, "uuid") && !uuid) {
            uuid = vrt_xml_text(n);
        } else if (vrt_xml_is(n, "hostname") && !c->hostname) {
            c->hostname = vrt_xml_text(n);
        } else if (vrt_xml_is(n, "hostuuid") && !hostuuid) {
            hostuuid = vrt_xml_text(n);
        } else if (vrt_xml_is(n, "daemon-uri") && !c->daemon_uri) {
            c->daemon_uri = vrt_xml_text(n);
        } else if (vrt_xml_is(n, "statistics") && !c->stats) {
            c->stats = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
            for (xmlNodePtr s = vrt_xml_next_element(n->children); s; s = vrt_xml_next_element(s->next)) {
                g_autofree char *v = vrt_xml_text(s);
                guint64 u;
                VrtTypedParam *p;

                /* libvirt's timestamps of the job are no parameters. */
                if (vrt_xml_is(s, "started") || vrt_xml_is(s, "stopped") || vrt_xml_is(s, "sent") ||
                    vrt_xml_is(s, "delta") || !v || !g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, &u, NULL))
                    continue;
                p = g_new0(VrtTypedParam, 1);
                p->field = g_strdup((const char *)s->name);
                p->type = VRT_TYPED_PARAM_ULLONG;
                p->v.ul = u;
                g_ptr_array_add(c->stats, p);
            }
        } else if (vrt_xml_is(n, "hostdev-plan") && !c->hostdevs) {
            c->hostdevs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_migration_hostdev_free);
            for (xmlNodePtr s = vrt_xml_next_element(n->children); s; s = vrt_xml_next_element(s->next)) {
                g_autoptr(VrtMigrationHostdev) h = g_new0(VrtMigrationHostdev, 1);
                g_autofree char *mac = vrt_xml_prop(s, "mac");
                g_autofree char *trunk = vrt_xml_prop(s, "trunk");

                if (!vrt_xml_is(s, "interface") && !vrt_xml_is(s, "hostdev"))
                    continue;
                h->hostdev = vrt_xml_is(s, "hostdev");
                h->alias = vrt_xml_prop(s, "alias");
                h->network = vrt_xml_prop(s, "network");
                h->vlan_trunk = g_strcmp0(trunk, "yes") == 0;
                h->teaming_persistent = vrt_xml_prop(s, "teaming-persistent");
                {
                    g_autofree char *vf = vrt_xml_prop(s, "source-vf");

                    h->source_vf_set = vf && vrt_pci_addr_parse(vf, &h->source_vf, NULL);
                }
                {
                    g_autofree char *vf = vrt_xml_prop(s, "vf");
                    g_autofree char *managed = vrt_xml_prop(s, "managed");

                    if (vf && !h->network && vrt_pci_addr_parse(vf, &h->vf, NULL)) {
                        h->fixed = true;
                        h->managed = g_strcmp0(managed, "no") != 0;
                    }
                }
                if (h->hostdev ? !h->fixed : ((!h->network && !h->fixed) || !mac || !vrt_mac_parse(mac, h->mac))) {
                    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "malformed hostdev-plan %s in migration data",
                                  h->hostdev ? "hostdev" : "interface");
                    xml_doc_free(doc);
                    return NULL;
                }
                for (xmlNodePtr t = vrt_xml_next_element(s->children); t; t = vrt_xml_next_element(t->next)) {
                    g_autofree char *tag = vrt_xml_prop(t, "tag");
                    guint64 v;

                    if (!vrt_xml_is(t, "vlan") || !tag || h->n_vlan_tags >= G_N_ELEMENTS(h->vlan_tags) ||
                        !g_ascii_string_to_unsigned(tag, 10, 0, 4095, &v, NULL)) {
                        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s",
                                      "malformed hostdev-plan vlan in migration data");
                        xml_doc_free(doc);
                        return NULL;
                    }
                    h->vlan_tags[h->n_vlan_tags++] = (guint)v;
                }
                g_ptr_array_add(c->hostdevs, g_steal_pointer(&h));
            }
        } else if (vrt_xml_is(n, "persistent") && !c->persistent_xml) {
            xmlNodePtr dom = vrt_xml_next_element(n->children);

            if (dom) {
                xmlBufferPtr buf = xmlBufferCreate();

                xmlNodeDump(buf, doc, dom, 0, 0);
                c->persistent_xml = g_strdup((const char *)xmlBufferContent(buf));
                xmlBufferFree(buf);
            }
        }
    }
    xml_doc_free(doc);
    if (!c->name || !uuid || !vrt_uuid_parse(uuid, c->uuid)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "missing name or uuid element in migration data");
        return NULL;
    }
    if (!c->hostname) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "missing hostname element in migration data");
        return NULL;
    }
    if (!hostuuid) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "missing hostuuid element in migration data");
        return NULL;
    }
    if (!vrt_uuid_parse(hostuuid, c->hostuuid)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "%s", "malformed hostuuid element in migration data");
        return NULL;
    }
    if (local_uuid && memcmp(c->hostuuid, local_uuid, 16) == 0) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "Attempt to migrate guest to the same host %s", hostuuid);
        return NULL;
    }
    return g_steal_pointer(&c);
}
