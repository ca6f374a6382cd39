/*
 * domiftune: virDomainGetInterfaceParameters and
 * virDomainSetInterfaceParameters of the QEMU driver. The parameters are
 * an interface's <bandwidth> (inbound.average/peak/burst/floor,
 * outbound.average/peak/burst, kB/s and KiB); a change applies to the
 * live interface (its port and tap, qemu_interface.c) and/or the
 * persistent definition, with libvirt's merge: a direction given an
 * average (or an inbound floor) is replaced by what the call gives, one
 * given zero for both is removed, one not named stays.
 */
#include "drivers/qemu/qemu_driver_stats.h"
#include "drivers/qemu/qemu_interface.h"
#include "util/error.h"
#include "util/mac.h"

#include <string.h>

static const char *const param_names[] = { "inbound.average",  "inbound.peak",  "inbound.burst", "inbound.floor",
                                           "outbound.average", "outbound.peak", "outbound.burst" };

/* virDomainNetFind: by MAC when device parses as one, else by tap name. */
static VrtDomainNetDef *
find_net(const VrtDomainDef *def, const char *device, GError **error)
{
    guint8 mac[6];
    bool is_mac = vrt_mac_parse(device, mac);
    for (guint i = 0; i < def->nets->len; i++) {
        VrtDomainNetDef *net = g_ptr_array_index(def->nets, i);
        if (is_mac ? memcmp(net->mac, mac, 6) == 0 : g_strcmp0(net->ifname, device) == 0)
            return net;
    }
    vrt_error_set(error, VIR_ERR_INVALID_ARG, "'%s' is not a known interface", device);
    return NULL;
}

static void
add_uint(GPtrArray *out, const char *field, guint64 v)
{
    VrtTypedParam *p = g_new0(VrtTypedParam, 1);
    p->field = g_strdup(field);
    p->type = VRT_TYPED_PARAM_UINT;
    p->v.ui = (guint)v;
    g_ptr_array_add(out, p);
}

GPtrArray *
vrt_qemu_domain_get_interface_params(VrtQemuDriver *drv, const guchar *uuid, const char *device, guint flags,
                                     GError **error)
{
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    bool live, config;
    if (!obj)
        return NULL;
    if ((flags & VRT_DOMAIN_AFFECT_LIVE) && (flags & VRT_DOMAIN_AFFECT_CONFIG)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive");
        return NULL;
    }
    if (!vrt_qemu_dom_affect_flags(obj, flags & 3u, &live, &config, error))
        return NULL;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
    const VrtDomainDef *def = config && obj->newdef ? obj->newdef : obj->def;
    const VrtDomainNetDef *net = find_net(def, device, error);
    if (!net)
        return NULL;
    /* libvirt answers the interface's own <bandwidth> */
    const VrtBandwidth *bw = &net->bandwidth;
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_typed_param_free);
    add_uint(out, param_names[0], bw->in.present ? bw->in.average : 0);
    add_uint(out, param_names[1], bw->in.present ? bw->in.peak : 0);
    add_uint(out, param_names[2], bw->in.present ? bw->in.burst : 0);
    add_uint(out, param_names[3], bw->in.present ? bw->in.floor : 0);
    add_uint(out, param_names[4], bw->out.present ? bw->out.average : 0);
    add_uint(out, param_names[5], bw->out.present ? bw->out.peak : 0);
    add_uint(out, param_names[6], bw->out.present ? bw->out.burst : 0);
    return out;
}

/* The call's two directions (given: a direction the call named with an
 * average or floor; set: one with a non-zero one). */
typedef struct {
    VrtBandwidth bw;
    bool in_given, out_given;
} BwChange;

static VrtBandwidth
merge(const VrtBandwidth *old, const BwChange *c)
{
    VrtBandwidth r = *old;
    if (c->bw.in.present || c->in_given)
        r.in = c->bw.in;
    if (c->bw.out.present || c->out_given)
        r.out = c->bw.out;
    return r;
}

static bool
qos_supported(const VrtDomainNetDef *net, GError **error)
{
    VrtDomainNetType t = vrt_domain_net_get_actual_type(net);
    if (t == VRT_DOMAIN_NET_TYPE_NETWORK || t == VRT_DOMAIN_NET_TYPE_BRIDGE)
        return true;
    static const char *const names[] = { [VRT_DOMAIN_NET_TYPE_HOSTDEV] = "hostdev" };
    const char *name = (guint)t < G_N_ELEMENTS(names) && names[t] ? names[t] : "user";
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                  "setting bandwidth on interfaces of type '%s' is not implemented yet", name);
    return false;
}

bool
vrt_qemu_domain_set_interface_params(VrtQemuDriver *drv, const guchar *uuid, const char *device, GPtrArray *params,
                                     guint flags, GError **error)
{
    BwChange c = { 0 };
    for (guint i = 0; i < params->len; i++) {
        VrtTypedParam *p = g_ptr_array_index(params, i);
        int k = -1;
        for (guint j = 0; j < G_N_ELEMENTS(param_names); j++)
            if (g_str_equal(p->field, param_names[j]))
                k = (int)j;
        if (k < 0) {
            vrt_error_set(error, VIR_ERR_ARGUMENT_UNSUPPORTED, "parameter '%s' not supported", p->field);
            return false;
        }
        if (p->type != VRT_TYPED_PARAM_UINT) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "invalid type '%d' for parameter '%s', expected '%d'", p->type,
                          p->field, VRT_TYPED_PARAM_UINT);
            return false;
        }
        guint64 v = p->v.ui;
        switch (k) {
        case 0:
            c.bw.in.average = v;
            c.in_given = true;
            break;
        case 1: c.bw.in.peak = v; break;
        case 2: c.bw.in.burst = v; break;
        case 3:
            c.bw.in.floor = v;
            c.in_given = true;
            break;
        case 4:
            c.bw.out.average = v;
            c.out_given = true;
            break;
        case 5: c.bw.out.peak = v; break;
        default: c.bw.out.burst = v; break;
        }
    }
    /* an average or a floor makes a direction; without, it is removed */
    if (c.bw.in.average || c.bw.in.floor)
        c.bw.in.present = true;
    else
        memset(&c.bw.in, 0, sizeof(c.bw.in));
    if (c.bw.out.average)
        c.bw.out.present = true;
    else
        memset(&c.bw.out, 0, sizeof(c.bw.out));

    g_auto(VrtQemuJob) job = VRT_QEMU_JOB_INIT;
    g_autoptr(VrtQemuDom) obj = vrt_qemu_driver_find(drv, uuid, error);
    bool live, config;
    if (!obj || !vrt_qemu_job_begin(&job, obj, VRT_QEMU_JOB_MODIFY, error) ||
        !vrt_qemu_dom_affect_flags(obj, flags, &live, &config, error))
        return false;
    g_autoptr(VrtDomainDef) cfg = config ? vrt_qemu_dom_config_copy(obj, error) : NULL;
    if (config && !cfg)
        return false;
    VrtDomainNetDef *cfg_net = cfg ? find_net(cfg, device, error) : NULL;
    if (config && (!cfg_net || !qos_supported(cfg_net, error)))
        return false;
    if (live) {
        g_autofree char *alias = NULL;
        VrtBandwidth next;
        g_autofree char *portgroup = NULL;
        {
            g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&obj->lock);
            const VrtDomainNetDef *net = find_net(obj->def, device, error);
            if (!net || !qos_supported(net, error))
                return false;
            alias = g_strdup(net->info.alias);
            next = merge(&net->bandwidth, &c);
            portgroup = g_strdup(net->portgroup);
        }
        if (!vrt_qemu_interface_update_live(obj, alias, portgroup, &next, error))
            return false;
    }
    if (config) {
        if (cfg_net->type != VRT_DOMAIN_NET_TYPE_NETWORK && c.bw.in.floor) {
            char m[VRT_MAC_STRING_LEN];
            vrt_mac_format(cfg_net->mac, m);
            vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED,
                          "Invalid use of 'floor' on interface with MAC address %s - 'floor' is only supported for "
                          "interface type 'network' with forward type 'nat', 'route', 'open' or none",
                          m);
            return false;
        }
        cfg_net->bandwidth = merge(&cfg_net->bandwidth, &c);
        return vrt_qemu_dom_config_install(obj, g_steal_pointer(&cfg), error);
    }
    return true;
}
