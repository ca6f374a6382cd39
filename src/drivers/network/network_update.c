/*
 * NETWORK_UPDATE of the sections beyond DHCP hosts and ranges and DNS
 * hosts: dns-txt, dns-srv, portgroup and forward-interface, on a copy of a definition (live
 * or persistent; network_driver.c writes and applies the result). The
 * matching rules and refusals are libvirt's: TXT records match by name,
 * SRV records by every field the element gives, portgroups by name with
 * at most one default, forward interfaces by dev (one in use stays);
 * records cannot be modified, only added or deleted.
 */
#include "drivers/network/network_virt.h"
#include "util/error.h"

#include <string.h>

static bool
is_add(guint command)
{
    return command == VRT_NETWORK_UPDATE_ADD_FIRST || command == VRT_NETWORK_UPDATE_ADD_LAST;
}

static void
insert(GPtrArray *array, guint command, gpointer item)
{
    if (command == VRT_NETWORK_UPDATE_ADD_FIRST)
        g_ptr_array_insert(array, 0, item);
    else
        g_ptr_array_add(array, item);
}

static bool
unknown_command(guint command, GError **error)
{
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "unrecognized network update command code %u", command);
    return false;
}

bool
vrt_network_update_dns_txt(VrtNetworkDef *def, guint command, const char *xml, GError **error)
{
    if (command == VRT_NETWORK_UPDATE_MODIFY) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                      "DNS TXT records cannot be modified, only added or deleted");
        return false;
    }
    g_autoptr(VrtNetworkDnsTxt) txt = vrt_network_dns_txt_parse(xml, !is_add(command), error);
    if (!txt)
        return false;
    gint found = -1;
    for (guint i = 0; i < def->dns_txts->len && found < 0; i++)
        if (g_strcmp0(((VrtNetworkDnsTxt *)g_ptr_array_index(def->dns_txts, i))->name, txt->name) == 0)
            found = (gint)i;
    if (is_add(command)) {
        if (found >= 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                          "there is already a DNS TXT record with name '%s' in network %s", txt->name, def->name);
            return false;
        }
        if (def->dns_enable == 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "Extra data in disabled network '%s'", def->name);
            return false;
        }
        def->has_dns = true;
        insert(def->dns_txts, command, g_steal_pointer(&txt));
        return true;
    }
    if (command != VRT_NETWORK_UPDATE_DELETE)
        return unknown_command(command, error);
    if (found < 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "couldn't locate a matching DNS TXT record in network %s",
                      def->name);
        return false;
    }
    g_ptr_array_remove_index(def->dns_txts, (guint)found);
    return true;
}

/* A SRV record matches when every field the given one has is equal. */
static bool
srv_matches(const VrtNetworkDnsSrv *given, const VrtNetworkDnsSrv *e)
{
    return (!given->domain || g_strcmp0(given->domain, e->domain) == 0) &&
           (!given->service || g_strcmp0(given->service, e->service) == 0) &&
           (!given->protocol || g_strcmp0(given->protocol, e->protocol) == 0) &&
           (!given->target || g_strcmp0(given->target, e->target) == 0);
}

bool
vrt_network_update_dns_srv(VrtNetworkDef *def, guint command, const char *xml, GError **error)
{
    if (command == VRT_NETWORK_UPDATE_MODIFY) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                      "DNS SRV records cannot be modified, only added or deleted");
        return false;
    }
    g_autoptr(VrtNetworkDnsSrv) srv = vrt_network_dns_srv_parse(xml, !is_add(command), error);
    if (!srv)
        return false;
    guint count = 0;
    gint found = -1;
    for (guint i = 0; i < def->dns_srvs->len; i++) {
        if (srv_matches(srv, g_ptr_array_index(def->dns_srvs, i))) {
            count++;
            found = (gint)i;
        }
    }
    if (is_add(command)) {
        if (count > 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                          "there is already at least one DNS SRV record matching all specified fields in network %s",
                          def->name);
            return false;
        }
        if (def->dns_enable == 0) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "Extra data in disabled network '%s'", def->name);
            return false;
        }
        def->has_dns = true;
        insert(def->dns_srvs, command, g_steal_pointer(&srv));
        return true;
    }
    if (command != VRT_NETWORK_UPDATE_DELETE)
        return unknown_command(command, error);
    if (count == 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "couldn't locate a matching DNS SRV record in network %s",
                      def->name);
        return false;
    }
    if (count > 1) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "multiple DNS SRV records matching all specified fields were found in network %s", def->name);
        return false;
    }
    g_ptr_array_remove_index(def->dns_srvs, (guint)found);
    return true;
}

bool
vrt_network_update_portgroup(VrtNetworkDef *def, guint command, const char *xml, GError **error)
{
    g_autoptr(VrtNetworkPortGroup) pg = vrt_network_portgroup_parse(xml, error);
    if (!pg)
        return false;
    gint found = -1, found_default = -1;
    for (guint i = 0; i < def->portgroups->len; i++) {
        const VrtNetworkPortGroup *e = g_ptr_array_index(def->portgroups, i);
        if (strcmp(e->name, pg->name) == 0)
            found = (gint)i;
        if (e->is_default)
            found_default = (gint)i;
    }
    if (found < 0 && (command == VRT_NETWORK_UPDATE_MODIFY || command == VRT_NETWORK_UPDATE_DELETE)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "couldn't find a portgroup entry in network '%s' matching <portgroup name='%s'>", def->name,
                      pg->name);
        return false;
    }
    if (found >= 0 && is_add(command)) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "there is an existing portgroup entry in network '%s' that matches \"<portgroup name='%s'>\"",
                      def->name, pg->name);
        return false;
    }
    if (command != VRT_NETWORK_UPDATE_DELETE && pg->is_default && found_default >= 0 && found_default != found) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "a different portgroup entry in network '%s' is already set as the default. Only one default "
                      "is allowed.",
                      def->name);
        return false;
    }
    switch (command) {
    case VRT_NETWORK_UPDATE_MODIFY:
        vrt_network_portgroup_free(def->portgroups->pdata[found]);
        def->portgroups->pdata[found] = g_steal_pointer(&pg);
        return true;
    case VRT_NETWORK_UPDATE_ADD_FIRST:
    case VRT_NETWORK_UPDATE_ADD_LAST: insert(def->portgroups, command, g_steal_pointer(&pg)); return true;
    case VRT_NETWORK_UPDATE_DELETE: g_ptr_array_remove_index(def->portgroups, (guint)found); return true;
    default: return unknown_command(command, error);
    }
}

bool
vrt_network_update_forward_if(VrtNetworkDef *def, guint command, const char *xml, GError **error)
{
    if (command == VRT_NETWORK_UPDATE_MODIFY) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                      "forward interface entries cannot be modified, only added or deleted");
        return false;
    }
    g_autofree char *dev = vrt_network_forward_if_parse(xml, error);
    if (!dev)
        return false;
    guint i = 0;
    while (i < def->forward_ifs->len && g_strcmp0(((VrtNetworkForwardIf *)def->forward_ifs->pdata[i])->dev, dev) != 0)
        i++;
    if (is_add(command)) {
        if (i < def->forward_ifs->len) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                          "there is an existing interface entry in network '%s' that matches \"<interface dev='%s'>\"",
                          def->name, dev);
            return false;
        }
        VrtNetworkForwardIf *fi = g_new0(VrtNetworkForwardIf, 1);
        fi->dev = g_steal_pointer(&dev);
        insert(def->forward_ifs, command, fi);
        return true;
    }
    if (command != VRT_NETWORK_UPDATE_DELETE)
        return unknown_command(command, error);
    if (i == def->forward_ifs->len) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "couldn't find an interface entry in network '%s' matching <interface dev='%s'>", def->name, dev);
        return false;
    }
    const VrtNetworkForwardIf *fi = g_ptr_array_index(def->forward_ifs, i);
    if (fi->connections > 0) {
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID,
                      "unable to delete interface '%s' in network '%s'. It is currently being used  by %u domains.",
                      dev, def->name, fi->connections);
        return false;
    }
    g_ptr_array_remove_index(def->forward_ifs, i);
    return true;
}
