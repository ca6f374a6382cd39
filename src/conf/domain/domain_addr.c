/*
 * Guest addresses and aliases: PCI slots (pc: bus 0; q35: one device per
 * pcie-root-port, ports added as needed), drive addresses from the disk
 * target name, virtio-serial ports, the implicit controllers libvirt adds,
 * device aliases the way QEMU and libvirt name them, and generated MACs.
 * Addresses already present are never moved, so assignment is stable.
 */
#include "conf/domain/domain_memory_dev.h"
#include "conf/domain/domain_pci_topology.h"
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#include <string.h>

#define PCI_BUSES 256
#define PCI_SLOTS 32
#define PCI_FUNCS 8
#define PCI_FIRST_SLOT 1
#define PC_PIIX3_SLOT 1 /* ISA bridge, IDE (.1), UHCI (.2), ACPI (.3) */
#define PC_VIDEO_SLOT 2
#define Q35_VIDEO_SLOT 1
#define Q35_ICH9_SLOT 0x1f /* LPC (.0), SATA (.2), SMBus (.3) */
#define Q35_USB2_SLOT 0x1d /* ICH9's EHCI (.7) and its UHCI companions */
#define Q35_DMI_BRIDGE_SLOT 0x1e
#define Q35_ROOT_PORT_FIRST_SLOT 1 /* slot 1 unless the primary video holds it */
#define SATA_UNITS 6
#define SCSI_UNITS 7
#define IDE_UNITS 4
#define MAC_PREFIX_0 0x52
#define MAC_PREFIX_1 0x54
#define MAC_PREFIX_2 0x00

typedef enum {
    NEED_NONE = 0,
    NEED_PCI, /* conventional PCI: bus 0 (q35: integrated on pcie.0) */
    NEED_PCIE, /* q35: behind a pcie-root-port; pc: bus 0 */
    NEED_ROOT_PORT, /* a pcie-root-port itself: bus 0, multifunction slots */
    NEED_BUS0, /* on the root bus whatever the machine: expander buses, dmi-to-pci-bridge */
    NEED_DOWNSTREAM, /* a pcie-switch-downstream-port: a slot of an upstream port's bus */
} PciNeed;

typedef struct {
    VrtDomainDeviceInfo *info;
    PciNeed need;
    char *what; /* for messages */
    VrtDomainControllerDef *ctrl; /* when the device is a controller */
} DevRef;

static void
devref_clear(gpointer p)
{
    g_free(((DevRef *)p)->what);
}

static void
add_ref(GArray *refs, VrtDomainDeviceInfo *info, PciNeed need, VrtDomainControllerDef *ctrl, const char *fmt,
        const char *arg)
{
    DevRef r = { .info = info, .need = need, .ctrl = ctrl, .what = g_strdup_printf(fmt, arg) };
    g_array_append_val(refs, r);
}

static PciNeed
controller_need(const VrtDomainDef *def, const VrtDomainControllerDef *c)
{
    bool q35 = vrt_domain_def_is_q35(def);

    switch (c->type) {
    case VRT_DOMAIN_CONTROLLER_PCI:
        if (g_str_equal(c->model, "pci-root") || g_str_equal(c->model, "pcie-root"))
            return NEED_NONE;
        if (g_str_equal(c->model, "pcie-root-port"))
            return NEED_ROOT_PORT;
        if (g_str_equal(c->model, "pcie-switch-downstream-port"))
            return NEED_DOWNSTREAM;
        if (g_str_equal(c->model, "pcie-switch-upstream-port"))
            return NEED_PCIE;
        if ((q35 && g_str_equal(c->model, "dmi-to-pci-bridge")) || g_str_equal(c->model, "pcie-expander-bus") ||
            g_str_equal(c->model, "pci-expander-bus"))
            return NEED_BUS0;
        return NEED_PCI;
    case VRT_DOMAIN_CONTROLLER_USB:
        if (g_strcmp0(c->model, "none") == 0)
            return NEED_NONE;
        if (c->model && strstr(c->model, "xhci"))
            return NEED_PCIE;
        return NEED_PCI;
    case VRT_DOMAIN_CONTROLLER_SATA: return NEED_PCI;
    case VRT_DOMAIN_CONTROLLER_IDE: return q35 ? NEED_NONE : NEED_PCI;
    case VRT_DOMAIN_CONTROLLER_SCSI: /* every model but virtio-scsi is conventional PCI */
        return c->model && !g_str_equal(c->model, "virtio-scsi") ? NEED_PCI : NEED_PCIE;
    case VRT_DOMAIN_CONTROLLER_VIRTIO_SERIAL: return NEED_PCIE;
    case VRT_DOMAIN_CONTROLLER_FDC: return NEED_NONE; /* on the ISA bus */
    case VRT_DOMAIN_CONTROLLER_CCID: return NEED_NONE; /* on a USB port */
    }
    return NEED_NONE;
}

static void
add_controller_refs(const VrtDomainDef *def, GArray *refs, bool pci)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        g_autofree char *idx = NULL;
        if ((c->type == VRT_DOMAIN_CONTROLLER_PCI) != pci)
            continue;
        idx = g_strdup_printf("%s %u", vrt_controller_type_names[c->type], c->index);
        add_ref(refs, &c->info, controller_need(def, c), c, "controller %s", idx);
    }
}

/* Every device that can hold an address, in libvirt's assignment order
 * (PCI controllers, filesystems, interfaces, sound cards, other controllers, disks, host devices,
 * balloon, rng, watchdog, inputs, video; the primary video is placed
 * before all of them). */
static GArray *
collect_refs(const VrtDomainDef *cdef)
{
    VrtDomainDef *def = (VrtDomainDef *)cdef;
    GArray *refs = g_array_new(FALSE, TRUE, sizeof(DevRef));

    g_array_set_clear_func(refs, devref_clear);
    add_controller_refs(def, refs, true);
    /* filesystems (virtio-9p-pci, vhost-user-fs-pci) before the interfaces */
    for (guint i = 0; def->filesystems && i < def->filesystems->len; i++)
        add_ref(refs, &((VrtDomainFsDef *)def->filesystems->pdata[i])->info, NEED_PCIE, NULL, "%s", "filesystem");
    for (guint i = 0; i < def->nets->len; i++) {
        VrtDomainNetDef *n = def->nets->pdata[i];
        bool legacy = n->model && (g_str_equal(n->model, "e1000") || g_str_equal(n->model, "rtl8139")) &&
                      vrt_domain_net_get_actual_type(n) != VRT_DOMAIN_NET_TYPE_HOSTDEV;
        add_ref(refs, &n->info, legacy ? NEED_PCI : NEED_PCIE, NULL, "interface %s", vrt_net_type_names[n->type]);
    }
    /* sound cards on PCI after the interfaces, as libvirt */
    for (guint i = 0; def->sounds && i < def->sounds->len; i++) {
        VrtDomainSoundDef *s = def->sounds->pdata[i];
        bool pci = g_str_equal(s->model, "es1370") || g_str_equal(s->model, "ac97") || g_str_equal(s->model, "ich6") ||
                   g_str_equal(s->model, "ich9") || g_str_equal(s->model, "ich7");
        add_ref(refs, &s->info, pci ? NEED_PCI : NEED_NONE, NULL, "sound '%s'", s->model);
    }
    add_controller_refs(def, refs, false);
    for (guint i = 0; i < def->disks->len; i++) {
        VrtDomainDiskDef *d = def->disks->pdata[i];
        add_ref(refs, &d->info, d->bus == VRT_DOMAIN_DISK_BUS_VIRTIO ? NEED_PCIE : NEED_NONE, NULL, "disk '%s'",
                d->target_dev);
    }
    for (guint i = 0; i < def->hostdevs->len; i++) {
        VrtDomainHostdevDef *h = def->hostdevs->pdata[i];
        if (!h->parent_net)
            add_ref(refs, h->info, NEED_PCIE, NULL, "hostdev %s", "pci");
    }
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];
        add_ref(refs, &h->info, h->type == VRT_SUBSYS_HOSTDEV_SCSI ? NEED_NONE : NEED_PCIE, NULL, "hostdev %s",
                h->type == VRT_SUBSYS_HOSTDEV_MDEV   ? "mdev"
                : h->type == VRT_SUBSYS_HOSTDEV_SCSI ? "scsi"
                                                     : "scsi_host");
    }
    if (def->memballoon)
        add_ref(refs, &def->memballoon->info, g_str_equal(def->memballoon->model, "virtio") ? NEED_PCIE : NEED_NONE,
                NULL, "%s", "memballoon");
    for (guint i = 0; i < def->rngs->len; i++)
        add_ref(refs, &((VrtDomainRngDef *)def->rngs->pdata[i])->info, NEED_PCIE, NULL, "%s", "rng");
    if (def->watchdog)
        add_ref(refs, &def->watchdog->info, g_str_equal(def->watchdog->model, "i6300esb") ? NEED_PCI : NEED_NONE, NULL,
                "watchdog '%s'", def->watchdog->model);
    for (guint i = 0; i < def->inputs->len; i++) {
        VrtDomainInputDef *in = def->inputs->pdata[i];
        add_ref(refs, &in->info, g_str_equal(in->bus, "virtio") ? NEED_PCIE : NEED_NONE, NULL, "input '%s'", in->type);
    }
    for (guint i = 0; i < def->videos->len; i++) {
        VrtDomainVideoDef *v = def->videos->pdata[i];
        add_ref(refs, &v->info,
                g_str_equal(v->model, "none")     ? NEED_NONE
                : g_str_equal(v->model, "virtio") ? NEED_PCIE
                                                  : NEED_PCI,
                NULL, "video '%s'", v->model);
    }
    /* after the videos, as libvirt */
    for (guint i = 0; def->shmems && i < def->shmems->len; i++)
        add_ref(refs, &((VrtDomainShmemDef *)def->shmems->pdata[i])->info, NEED_PCI, NULL, "%s", "shmem");
    for (guint i = 0; i < def->serials->len; i++) {
        VrtDomainChrDef *s = def->serials->pdata[i];
        add_ref(refs, &s->info, g_strcmp0(s->target_type, "pci-serial") == 0 ? NEED_PCI : NEED_NONE, NULL, "serial %s",
                s->target_type);
    }
    if (def->vsock)
        add_ref(refs, &def->vsock->info, NEED_PCIE, NULL, "%s", "vsock");
    /* virtio-mem and virtio-pmem last, as libvirt */
    for (guint i = 0; vrt_domain_memdev(def, i); i++) {
        VrtDomainMemoryDevDef *m = vrt_domain_memdev(def, i);

        if (m->model == VRT_MEMDEV_VIRTIO_MEM || m->model == VRT_MEMDEV_VIRTIO_PMEM)
            add_ref(refs, &m->info, NEED_PCIE, NULL, "memory %s", vrt_memdev_model_names[m->model]);
    }
    return refs;
}

/* ---- PCI occupancy ------------------------------------------------- */

typedef struct {
    guint8 used[PCI_BUSES][PCI_SLOTS][PCI_FUNCS];
    bool q35;
} PciMap;

static bool
pci_reserve(PciMap *m, const VrtPciAddr *a, const char *what, GError **error)
{
    if (a->domain != 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "PCI domain 0x%04x of %s is not supported", a->domain, what);
        return false;
    }
    if (m->used[a->bus][a->slot][a->function]) {
        g_autofree char *s = vrt_pci_addr_format(a);
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Attempted double use of PCI Address %s (%s)", s, what);
        return false;
    }
    m->used[a->bus][a->slot][a->function] = 1;
    return true;
}

static bool
pci_slot_free(const PciMap *m, guint bus, guint slot)
{
    for (guint f = 0; f < PCI_FUNCS; f++) {
        if (m->used[bus][slot][f])
            return false;
    }
    return true;
}

/* Slots the machine itself occupies on bus 0; called after the devices'
 * own addresses are in, since the built-in controllers (IDE/UHCI on
 * PIIX3, AHCI on ICH9) sit in those slots with their addresses. */
static void
pci_reserve_machine(PciMap *m)
{
    guint slot = m->q35 ? Q35_ICH9_SLOT : PC_PIIX3_SLOT;

    for (guint f = 0; f < PCI_FUNCS; f++) {
        m->used[0][0][f] = 1; /* host bridge */
        m->used[0][slot][f] = 1;
    }
}

static bool
pci_find_slot_bus0(PciMap *m, VrtPciAddr *out)
{
    for (guint slot = PCI_FIRST_SLOT; slot < PCI_SLOTS; slot++) {
        if (pci_slot_free(m, 0, slot)) {
            memset(out, 0, sizeof(*out));
            out->slot = slot;
            m->used[0][slot][0] = 1;
            return true;
        }
    }
    return false;
}

/* New controllers go at the end, in the order they are created, as
 * libvirt adds them. */
static void
controller_insert(VrtDomainDef *def, VrtDomainControllerDef *c)
{
    /* libvirt appends the controllers it adds (virDomainDefAddController);
     * only those of the XML are placed by type and index */
    g_ptr_array_add(def->controllers, c);
}

static bool
is_root_port(const VrtDomainControllerDef *c)
{
    return c->type == VRT_DOMAIN_CONTROLLER_PCI && g_strcmp0(c->model, "pcie-root-port") == 0;
}

static guint
next_pci_index(const VrtDomainDef *def)
{
    guint next = 1;
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == VRT_DOMAIN_CONTROLLER_PCI && c->index >= next)
            next = c->index + 1;
    }
    return next;
}

static VrtDomainControllerDef *
find_controller(const VrtDomainDef *def, VrtDomainControllerType type, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == type && c->index == index)
            return c;
    }
    return NULL;
}

/* Root ports share bus-0 slots as functions 0..7 of one multifunction
 * slot, as libvirt lays them out. */
static bool
place_root_port(const VrtDomainDef *def, PciMap *m, VrtDomainControllerDef *c, GError **error)
{
    for (guint slot = Q35_ROOT_PORT_FIRST_SLOT; slot < PCI_SLOTS; slot++) {
        bool only_ports = true;
        for (guint f = 0; f < PCI_FUNCS && only_ports; f++) {
            if (m->used[0][slot][f] == 1)
                only_ports = false;
        }
        if (!only_ports)
            continue;
        for (guint f = 0; f < PCI_FUNCS; f++) {
            if (m->used[0][slot][f])
                continue;
            c->info.type = VRT_DEVICE_ADDRESS_PCI;
            memset(&c->info.pci, 0, sizeof(c->info.pci));
            c->info.pci.slot = slot;
            c->info.pci.function = f;
            m->used[0][slot][f] = 2; /* 2: a root port, may share the slot */
            if (f > 0) {
                for (guint i = 0; i < def->controllers->len; i++) {
                    VrtDomainControllerDef *o = def->controllers->pdata[i];
                    if (is_root_port(o) && o->info.type == VRT_DEVICE_ADDRESS_PCI && o->info.pci.bus == 0 &&
                        o->info.pci.slot == slot && o->info.pci.function == 0)
                        o->info.pci.multifunction = VRT_TRISTATE_YES;
                }
            }
            return true;
        }
    }
    vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "no free PCI slot left on the root bus for a pcie-root-port");
    return false;
}

static void
fill_root_port(VrtDomainControllerDef *c)
{
    if (!c->model_name)
        c->model_name = g_strdup("pcie-root-port");
    if (c->chassis < 0)
        c->chassis = c->index;
    if (c->port < 0 && c->info.type == VRT_DEVICE_ADDRESS_PCI)
        c->port = (c->info.pci.slot << 3) | c->info.pci.function;
}

/* A free pcie-root-port or switch downstream port (the one-slot PCIe
 * buses, taken in index order as libvirt does): its bus (= its index) has
 * nothing at slot 0. */
static VrtDomainControllerDef *
find_free_root_port(const VrtDomainDef *def, const PciMap *m)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        if ((is_root_port(c) || vrt_pci_ctrl_is(c, "pcie-switch-downstream-port")) && c->index < PCI_BUSES &&
            pci_slot_free(m, c->index, 0))
            return c;
    }
    return NULL;
}

/* The first free slot from first_slot of the bus of a PCI controller of
 * one of the models (index order); false when none has one. */
static bool
find_slot_on_model(const VrtDomainDef *def, PciMap *m, const char *const *models, guint first_slot,
                   VrtDomainDeviceInfo *info)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type != VRT_DOMAIN_CONTROLLER_PCI || !c->model || !g_strv_contains(models, c->model) ||
            c->index >= PCI_BUSES)
            continue;
        for (guint slot = first_slot; slot < PCI_SLOTS; slot++) {
            if (!pci_slot_free(m, c->index, slot))
                continue;
            info->type = VRT_DEVICE_ADDRESS_PCI;
            memset(&info->pci, 0, sizeof(info->pci));
            info->pci.bus = c->index;
            info->pci.slot = slot;
            m->used[c->index][slot][0] = 1;
            return true;
        }
    }
    return false;
}

/* pc with bus 0 full: the next bus in index order with a free slot, as
 * libvirt goes on: a pci-bridge's (slots 1..31) or a pci-expander-bus's
 * (0..31). Never a controller onto a bus behind itself. */
static bool
place_on_pc_bus(const VrtDomainDef *def, PciMap *m, DevRef *r)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        bool bridge = vrt_pci_ctrl_is(c, "pci-bridge");

        if ((!bridge && !vrt_pci_ctrl_is(c, "pci-expander-bus")) || c == r->ctrl || c->index >= PCI_BUSES)
            continue;
        for (guint slot = bridge ? 1 : 0; slot < PCI_SLOTS; slot++) {
            if (!pci_slot_free(m, c->index, slot))
                continue;
            r->info->type = VRT_DEVICE_ADDRESS_PCI;
            memset(&r->info->pci, 0, sizeof(r->info->pci));
            r->info->pci.bus = c->index;
            r->info->pci.slot = slot;
            m->used[c->index][slot][0] = 1;
            return true;
        }
    }
    return false;
}

/* Controllers with a home of their own: a switch's downstream ports on
 * its upstream port's bus (slots 0..31), a pci-bridge on q35 on a
 * dmi-to-pci-bridge's or pcie-to-pci-bridge's bus when there is one, the
 * expander buses and the dmi-to-pci-bridge on the root bus (the latter at
 * 00:1e as on ICH9). True when r was one of them (placed or failed). */
static bool
place_topology(VrtDomainDef *def, PciMap *m, DevRef *r, bool *ok, GError **error)
{
    static const char *const upstream[] = { "pcie-switch-upstream-port", NULL };
    static const char *const dmi[] = { "dmi-to-pci-bridge", NULL };
    static const char *const pcie_pci[] = { "pcie-to-pci-bridge", NULL };

    *ok = true;
    if (r->need == NEED_DOWNSTREAM) {
        if (!find_slot_on_model(def, m, upstream, 0, r->info)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "no free PCI slot on a pcie-switch-upstream-port for %s",
                          r->what);
            *ok = false;
        }
        return true;
    }
    if (r->need == NEED_BUS0) {
        if (r->ctrl && vrt_pci_ctrl_is(r->ctrl, "dmi-to-pci-bridge") && pci_slot_free(m, 0, Q35_DMI_BRIDGE_SLOT)) {
            r->info->type = VRT_DEVICE_ADDRESS_PCI;
            memset(&r->info->pci, 0, sizeof(r->info->pci));
            r->info->pci.slot = Q35_DMI_BRIDGE_SLOT;
            m->used[0][Q35_DMI_BRIDGE_SLOT][0] = 1;
        } else if (pci_find_slot_bus0(m, &r->info->pci)) {
            r->info->type = VRT_DEVICE_ADDRESS_PCI;
        } else {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "no free PCI slot on bus 0 for %s", r->what);
            *ok = false;
        }
        return true;
    }
    if (m->q35 && r->ctrl && vrt_pci_ctrl_is(r->ctrl, "pci-bridge"))
        return find_slot_on_model(def, m, dmi, 0, r->info) || find_slot_on_model(def, m, pcie_pci, 1, r->info);
    return false;
}

static VrtDomainControllerDef *
add_root_port(VrtDomainDef *def, PciMap *m, GError **error)
{
    VrtDomainControllerDef *port = g_new0(VrtDomainControllerDef, 1);

    port->type = VRT_DOMAIN_CONTROLLER_PCI;
    port->model = g_strdup("pcie-root-port");
    port->index = next_pci_index(def);
    port->chassis = port->port = port->ports = port->master_startport = -1;
    if (port->index >= PCI_BUSES) {
        vrt_domain_controller_def_free(port);
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "no PCI bus number left for a pcie-root-port");
        return NULL;
    }
    controller_insert(def, port);
    if (!place_root_port(def, m, port, error))
        return NULL;
    fill_root_port(port);
    return port;
}

static bool
place_behind_root_port(VrtDomainDef *def, PciMap *m, VrtDomainDeviceInfo *info, bool may_add, GError **error)
{
    VrtDomainControllerDef *port = find_free_root_port(def, m);

    if (!port) {
        if (!may_add) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED,
                          "no free pcie-root-port for the new device: define the domain with spare "
                          "<controller type='pci' model='pcie-root-port'/> elements");
            return false;
        }
        if (!(port = add_root_port(def, m, error)))
            return false;
    }
    info->type = VRT_DEVICE_ADDRESS_PCI;
    memset(&info->pci, 0, sizeof(info->pci));
    info->pci.bus = port->index;
    m->used[port->index][0][0] = 1;
    return true;
}

/* On q35 conventional PCI devices go behind root ports too (QEMU accepts
 * them there) rather than on a pcie-to-pci-bridge as libvirt does: that
 * keeps every endpoint hot-unpluggable and needs no bridge. */
static bool
place_device(VrtDomainDef *def, PciMap *m, DevRef *r, bool may_add, GError **error)
{
    bool ok = true;

    if (place_topology(def, m, r, &ok, error))
        return ok;
    if (m->q35 && (r->need == NEED_PCIE || r->need == NEED_PCI))
        return place_behind_root_port(def, m, r->info, may_add, error);
    if (!pci_find_slot_bus0(m, &r->info->pci) && !place_on_pc_bus(def, m, r)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "no free PCI slot on bus 0 for %s", r->what);
        return false;
    }
    r->info->type = VRT_DEVICE_ADDRESS_PCI;
    return true;
}

/* Reserves every address already given and checks it lies on a bus that
 * exists (bus 0 or a PCI controller's index). */
static bool
pci_map_fill(const VrtDomainDef *def, GArray *refs, PciMap *m, GError **error)
{
    m->q35 = vrt_domain_def_is_q35(def);
    for (guint i = 0; i < refs->len; i++) {
        DevRef *r = &g_array_index(refs, DevRef, i);
        if (r->info->type != VRT_DEVICE_ADDRESS_PCI)
            continue;
        if (r->info->pci.bus != 0 && !find_controller(def, VRT_DOMAIN_CONTROLLER_PCI, r->info->pci.bus)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI bus 0x%02x of %s has no PCI controller with index %u",
                          r->info->pci.bus, r->what, r->info->pci.bus);
            return false;
        }
        if (!pci_reserve(m, &r->info->pci, r->what, error))
            return false;
        if (r->need == NEED_ROOT_PORT && r->info->pci.bus == 0)
            m->used[0][r->info->pci.slot][r->info->pci.function] = 2;
    }
    pci_reserve_machine(m);
    return true;
}

/* An ich9-ehci1 without an address and its companions without one share
 * a bus-0 slot as on ICH9: UHCI1..3 at functions 0..2 (the first opening
 * the multifunction slot), EHCI at function 7. */
static bool
place_usb2_groups(VrtDomainDef *def, PciMap *m, GError **error)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *e = def->controllers->pdata[i];
        VrtDomainControllerDef *uhci[3] = { NULL, NULL, NULL };
        VrtPciAddr slot;

        if (g_strcmp0(e->model, "ich9-ehci1") != 0 || e->info.type != VRT_DEVICE_ADDRESS_NONE)
            continue;
        for (guint j = 0; j < def->controllers->len; j++) {
            VrtDomainControllerDef *u = def->controllers->pdata[j];
            if (vrt_domain_controller_is_usb2(u) && u != e && u->index == e->index &&
                u->info.type == VRT_DEVICE_ADDRESS_NONE && g_str_has_prefix(u->model, "ich9-uhci"))
                uhci[u->model[9] - '1'] = u;
        }
        if (!uhci[0])
            continue; /* no function 0 to open the slot: placed alone */
        if (m->q35 && e->index == 0 && pci_slot_free(m, 0, Q35_USB2_SLOT)) {
            /* ICH9's own USB2 slot, as libvirt keeps it for the first group */
            memset(&slot, 0, sizeof(slot));
            slot.slot = Q35_USB2_SLOT;
        } else if (!pci_find_slot_bus0(m, &slot)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "no free PCI slot on bus 0 for %s", "controller usb");
            return false;
        }
        e->info.type = VRT_DEVICE_ADDRESS_PCI;
        e->info.pci = slot;
        e->info.pci.function = 7;
        m->used[0][slot.slot][7] = 1;
        for (guint f = 0; f < 3; f++) {
            if (!uhci[f])
                continue;
            uhci[f]->info.type = VRT_DEVICE_ADDRESS_PCI;
            uhci[f]->info.pci = slot;
            uhci[f]->info.pci.function = f;
            uhci[f]->info.pci.multifunction = f == 0 ? VRT_TRISTATE_YES : VRT_TRISTATE_DEFAULT;
            m->used[0][slot.slot][f] = 1;
        }
    }
    return true;
}

static bool
assign_pci(VrtDomainDef *def, GError **error)
{
    g_autoptr(GArray) refs = collect_refs(def);
    g_autofree PciMap *m = g_new0(PciMap, 1);
    guint ncontrollers;

    if (!pci_map_fill(def, refs, m, error))
        return false;
    /* the primary video has a fixed home */
    if (def->videos->len > 0) {
        VrtDomainVideoDef *v = def->videos->pdata[0];
        guint slot = m->q35 ? Q35_VIDEO_SLOT : PC_VIDEO_SLOT;
        if (v->info.type == VRT_DEVICE_ADDRESS_NONE && !g_str_equal(v->model, "none") && pci_slot_free(m, 0, slot)) {
            v->info.type = VRT_DEVICE_ADDRESS_PCI;
            memset(&v->info.pci, 0, sizeof(v->info.pci));
            v->info.pci.slot = slot;
            m->used[0][slot][0] = 1;
        }
    }
    /* root ports the user wrote first, so devices can use them */
    for (guint i = 0; i < refs->len; i++) {
        DevRef *r = &g_array_index(refs, DevRef, i);
        if (r->need == NEED_ROOT_PORT && r->info->type == VRT_DEVICE_ADDRESS_NONE &&
            !place_root_port(def, m, r->ctrl, error))
            return false;
        if (r->need == NEED_ROOT_PORT)
            fill_root_port(r->ctrl);
    }
    if (!place_usb2_groups(def, m, error))
        return false;
    /* place_behind_root_port may append controllers: refs point into the
     * elements (not the array), so they stay valid. */
    ncontrollers = def->controllers->len;
    for (guint i = 0; i < refs->len; i++) {
        DevRef *r = &g_array_index(refs, DevRef, i);
        if (r->info->type != VRT_DEVICE_ADDRESS_NONE || r->need == NEED_NONE || r->need == NEED_ROOT_PORT)
            continue;
        if (!place_device(def, m, r, true, error))
            return false;
    }
    /* like libvirt: when ports had to be added, leave one free for hotplug */
    if (m->q35 && def->controllers->len > ncontrollers && !find_free_root_port(def, m) && !add_root_port(def, m, error))
        return false;
    return vrt_pci_topology_fill(def, error);
}

/* A target such as 'sdzzzz' puts its drive past the last controller index
 * a definition may hold: refused rather than written out unparseable. */
static bool
drive_controller_check(const VrtDomainDiskDef *d, GError **error)
{
    if (d->info.type != VRT_DEVICE_ADDRESS_DRIVE || d->info.drive.controller <= VRT_DOMAIN_CONTROLLER_MAX_INDEX)
        return true;
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                  "disk '%s' would need controller index %u, above the highest index %u",
                  d->target_dev ? d->target_dev : "", d->info.drive.controller, VRT_DOMAIN_CONTROLLER_MAX_INDEX);
    return false;
}

bool
vrt_domain_def_validate_addresses(const VrtDomainDef *def, GError **error)
{
    g_autoptr(GArray) refs = collect_refs(def);
    g_autofree PciMap *m = g_new0(PciMap, 1);
    const VrtDomainControllerDef *ide;

    for (guint i = 0; i < refs->len; i++) {
        DevRef *r = &g_array_index(refs, DevRef, i);
        if (r->info->type != VRT_DEVICE_ADDRESS_PCI)
            continue;
        if (r->info->pci.domain != 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "PCI domain 0x%04x of %s is not supported",
                          r->info->pci.domain, r->what);
            return false;
        }
        if (!pci_reserve(m, &r->info->pci, r->what, error))
            return false;
    }
    ide = vrt_domain_def_is_q35(def) ? NULL : find_controller(def, VRT_DOMAIN_CONTROLLER_IDE, 0);
    if (ide && ide->info.type == VRT_DEVICE_ADDRESS_NONE && m->used[0][PC_PIIX3_SLOT][1]) {
        /* PIIX3's IDE function is 00:01.1: another device cannot have it */
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Attempted double use of PCI Address 0000:00:%02x.1", PC_PIIX3_SLOT);
        return false;
    }
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *a = def->disks->pdata[i];
        if (a->info.type != VRT_DEVICE_ADDRESS_DRIVE)
            continue;
        if (!drive_controller_check(a, error))
            return false;
        for (guint j = i + 1; j < def->disks->len; j++) {
            const VrtDomainDiskDef *b = def->disks->pdata[j];
            if (b->info.type == VRT_DEVICE_ADDRESS_DRIVE && a->bus == b->bus &&
                memcmp(&a->info.drive, &b->info.drive, sizeof(a->info.drive)) == 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR,
                              "Found duplicate drive address for disk with target name '%s' controller='%u' "
                              "bus='%u' target='%u' unit='%u'",
                              b->target_dev, b->info.drive.controller, b->info.drive.bus, b->info.drive.target,
                              b->info.drive.unit);
                return false;
            }
        }
    }
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *a = def->disks->pdata[i];
        for (guint j = i + 1; j < def->disks->len; j++) {
            if (g_strcmp0(a->target_dev, ((VrtDomainDiskDef *)def->disks->pdata[j])->target_dev) == 0) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "target '%s' duplicated for disk sources", a->target_dev);
                return false;
            }
        }
    }
    /* Interfaces may share a MAC, as in libvirt: the two halves of a
     * <teaming> failover pair must (QEMU's failover pairs them by it). */
    for (guint i = 0; i < def->controllers->len; i++) {
        const VrtDomainControllerDef *a = def->controllers->pdata[i];
        for (guint j = i + 1; j < def->controllers->len; j++) {
            const VrtDomainControllerDef *b = def->controllers->pdata[j];
            /* an ICH9 USB2 group shares its index, one of each model */
            if (vrt_domain_controller_is_usb2(a) && vrt_domain_controller_is_usb2(b) &&
                !g_str_equal(a->model, b->model) && (a->master_startport >= 0 || b->master_startport >= 0))
                continue;
            if (a->type == b->type && a->index == b->index) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "Multiple '%s' controllers with index '%u'",
                              vrt_controller_type_names[a->type], a->index);
                return false;
            }
        }
    }
    return true;
}

/* ---- drive addresses and implicit controllers --------------------- */

/* "vda" -> 0, "sdb" -> 1, "hdaa" -> 26 */
static int
disk_index(const char *target)
{
    const char *p;
    int idx = 0;

    if (!target || strlen(target) < 3)
        return -1;
    p = target + 2;
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (*p < 'a' || *p > 'z' || idx > 100000)
            return -1;
        idx = (idx + (p == target + 2 ? 0 : 1)) * 26 + (*p - 'a');
    }
    return idx;
}

static void
assign_drive(VrtDomainDiskDef *d)
{
    int idx = disk_index(d->target_dev);

    if (d->info.type != VRT_DEVICE_ADDRESS_NONE || d->bus == VRT_DOMAIN_DISK_BUS_VIRTIO ||
        d->bus == VRT_DOMAIN_DISK_BUS_USB || d->bus == VRT_DOMAIN_DISK_BUS_SD || idx < 0)
        return;
    d->info.type = VRT_DEVICE_ADDRESS_DRIVE;
    memset(&d->info.drive, 0, sizeof(d->info.drive));
    switch (d->bus) {
    case VRT_DOMAIN_DISK_BUS_SATA:
        d->info.drive.controller = idx / SATA_UNITS;
        d->info.drive.unit = idx % SATA_UNITS;
        break;
    case VRT_DOMAIN_DISK_BUS_SCSI:
        d->info.drive.controller = idx / SCSI_UNITS;
        d->info.drive.unit = idx % SCSI_UNITS;
        break;
    case VRT_DOMAIN_DISK_BUS_IDE:
        d->info.drive.controller = idx / IDE_UNITS;
        d->info.drive.bus = (idx % IDE_UNITS) / 2;
        d->info.drive.unit = idx % 2;
        break;
    case VRT_DOMAIN_DISK_BUS_FDC: /* libvirt's mapping: 2 units per controller */
        d->info.drive.controller = idx / 2;
        d->info.drive.unit = idx % 2;
        break;
    default: break;
    }
}

/* Whether a SCSI disk or SCSI hostdev other than `self` sits at `a`, or
 * the controller there cannot have that unit (libvirt's check) */
static bool
scsi_drive_used(const VrtDomainDef *def, const VrtDriveAddress *a, const VrtDomainDeviceInfo *self)
{
    const VrtDomainControllerDef *c = find_controller(def, VRT_DOMAIN_CONTROLLER_SCSI, a->controller);

    if (c && g_strcmp0(c->model, "lsisas1068") == 0 && a->unit > 1)
        return true;
    if (c &&
        (g_strcmp0(c->model, "lsilogic") == 0 || g_strcmp0(c->model, "vmpvscsi") == 0 ||
         g_strcmp0(c->model, "buslogic") == 0 || g_strcmp0(c->model, "ibmvscsi") == 0) &&
        a->unit == 7)
        return true;
    for (guint i = 0; i < def->disks->len; i++) {
        const VrtDomainDiskDef *d = def->disks->pdata[i];
        if (d->bus == VRT_DOMAIN_DISK_BUS_SCSI && d->info.type == VRT_DEVICE_ADDRESS_DRIVE &&
            !memcmp(&d->info.drive, a, sizeof(*a)))
            return true;
    }
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        const VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];
        if (&h->info != self && h->type == VRT_SUBSYS_HOSTDEV_SCSI && h->info.type == VRT_DEVICE_ADDRESS_DRIVE &&
            !memcmp(&h->info.drive, a, sizeof(*a)))
            return true;
    }
    return false;
}

/* A SCSI hostdev without an address gets the first free unit of target
 * 0, bus 0 of the first controller with one (seven units each), as
 * libvirt's define gives it; one on a SCSI disk's address is refused. */
static bool
assign_scsi_hostdevs(VrtDomainDef *def, GError **error)
{
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
        VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];
        const VrtDriveAddress *a = &h->info.drive;

        if (h->type != VRT_SUBSYS_HOSTDEV_SCSI)
            continue;
        if (h->info.type == VRT_DEVICE_ADDRESS_NONE) {
            VrtDriveAddress next = { 0 };

            for (;; next.controller++) {
                for (next.unit = 0; next.unit < SCSI_UNITS && scsi_drive_used(def, &next, &h->info); next.unit++)
                    ;
                if (next.unit < SCSI_UNITS)
                    break;
            }
            h->info.type = VRT_DEVICE_ADDRESS_DRIVE;
            h->info.drive = next;
        }
        if (h->info.type != VRT_DEVICE_ADDRESS_DRIVE) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "SCSI host device must use 'drive' address type");
            return false;
        }
        for (guint j = 0; j < def->disks->len; j++) {
            const VrtDomainDiskDef *d = def->disks->pdata[j];
            if (d->bus == VRT_DOMAIN_DISK_BUS_SCSI && d->info.type == VRT_DEVICE_ADDRESS_DRIVE &&
                !memcmp(&d->info.drive, a, sizeof(*a))) {
                vrt_error_set(error, VIR_ERR_XML_ERROR,
                              "SCSI host address controller='%u' bus='%u' target='%u' unit='%u' in use by a SCSI disk",
                              a->controller, a->bus, a->target, a->unit);
                return false;
            }
        }
    }
    return true;
}

static VrtDomainControllerDef *
add_controller(VrtDomainDef *def, VrtDomainControllerType type, guint index, const char *model)
{
    VrtDomainControllerDef *c = find_controller(def, type, index);

    if (c)
        return c;
    c = g_new0(VrtDomainControllerDef, 1);
    c->type = type;
    c->index = index;
    c->model = g_strdup(model);
    c->chassis = c->port = c->ports = c->master_startport = -1;
    controller_insert(def, c);
    return c;
}

static void
set_builtin_pci(VrtDomainControllerDef *c, guint slot, guint function)
{
    if (c->info.type != VRT_DEVICE_ADDRESS_NONE)
        return;
    c->info.type = VRT_DEVICE_ADDRESS_PCI;
    memset(&c->info.pci, 0, sizeof(c->info.pci));
    c->info.pci.slot = slot;
    c->info.pci.function = function;
}

static bool
add_implicit_controllers(VrtDomainDef *def, GError **error)
{
    bool q35 = vrt_domain_def_is_q35(def);
    bool need_vserial = false;
    VrtDomainControllerDef *c;

    if (!find_controller(def, VRT_DOMAIN_CONTROLLER_USB, 0)) {
        c = add_controller(def, VRT_DOMAIN_CONTROLLER_USB, 0, q35 ? "qemu-xhci" : "piix3-uhci");
        if (!q35)
            set_builtin_pci(c, PC_PIIX3_SLOT, 2);
        else
            c->ports = 15;
    } else if (!q35) {
        c = find_controller(def, VRT_DOMAIN_CONTROLLER_USB, 0);
        if (!c->model || g_str_equal(c->model, "piix3-uhci"))
            set_builtin_pci(c, PC_PIIX3_SLOT, 2);
    }
    /* libvirt's order: USB, q35's SATA, the PCI root, then the rest */
    if (q35)
        set_builtin_pci(add_controller(def, VRT_DOMAIN_CONTROLLER_SATA, 0, NULL), Q35_ICH9_SLOT, 2);
    add_controller(def, VRT_DOMAIN_CONTROLLER_PCI, 0, q35 ? "pcie-root" : "pci-root");
    for (guint i = 0; i < def->controllers->len; i++) {
        c = def->controllers->pdata[i];
        if (c->type != VRT_DOMAIN_CONTROLLER_PCI)
            continue;
        if (q35 ? g_str_equal(c->model, "pci-root")
                : (g_str_equal(c->model, "pcie-root") || is_root_port(c) ||
                   g_str_equal(c->model, "dmi-to-pci-bridge") || g_str_equal(c->model, "pcie-to-pci-bridge") ||
                   g_str_has_prefix(c->model, "pcie-switch-"))) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "PCI controller model '%s' is not supported on machine '%s'", c->model,
                          def->os.machine ? def->os.machine : "pc");
            return false;
        }
    }
    /* a floppy's controller, before IDE's as libvirt adds them */
    for (guint i = 0; i < def->disks->len; i++) {
        VrtDomainDiskDef *d = def->disks->pdata[i];
        if (d->bus == VRT_DOMAIN_DISK_BUS_FDC && d->info.type == VRT_DEVICE_ADDRESS_DRIVE)
            add_controller(def, VRT_DOMAIN_CONTROLLER_FDC, d->info.drive.controller, NULL);
    }
    if (q35) {
        set_builtin_pci(add_controller(def, VRT_DOMAIN_CONTROLLER_SATA, 0, NULL), Q35_ICH9_SLOT, 2);
    } else {
        /* PIIX3's IDE is always there; listed once a disk uses it */
        for (guint i = 0; i < def->disks->len; i++) {
            if (((VrtDomainDiskDef *)def->disks->pdata[i])->bus == VRT_DOMAIN_DISK_BUS_IDE) {
                add_controller(def, VRT_DOMAIN_CONTROLLER_IDE, 0, NULL);
                break;
            }
        }
        /* listed or not, it is PIIX3's function 1 */
        if ((c = find_controller(def, VRT_DOMAIN_CONTROLLER_IDE, 0)))
            set_builtin_pci(c, PC_PIIX3_SLOT, 1);
    }
    for (guint i = 0; i < def->disks->len; i++) {
        VrtDomainDiskDef *d = def->disks->pdata[i];
        if (d->info.type != VRT_DEVICE_ADDRESS_DRIVE)
            continue;
        if (d->bus == VRT_DOMAIN_DISK_BUS_SCSI)
            add_controller(def, VRT_DOMAIN_CONTROLLER_SCSI, d->info.drive.controller, NULL);
        else if (d->bus == VRT_DOMAIN_DISK_BUS_SATA)
            add_controller(def, VRT_DOMAIN_CONTROLLER_SATA, d->info.drive.controller, NULL);
        else if (d->bus == VRT_DOMAIN_DISK_BUS_IDE) {
            if (q35) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                              "IDE controllers are unsupported for this QEMU binary or machine type (disk '%s')",
                              d->target_dev);
                return false;
            }
            if (d->info.drive.controller > 0) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "only one IDE controller is supported (disk '%s')",
                              d->target_dev);
                return false;
            }
        } else if (d->bus == VRT_DOMAIN_DISK_BUS_FDC) {
            /* libvirt's QEMU checks: one controller with one bus of two units */
            const char *why = d->info.drive.controller ? "Only 1 fdc controller is supported"
                              : d->info.drive.bus      ? "Only 1 fdc bus is supported"
                              : d->info.drive.target   ? "target must be 0 for controller fdc"
                              : d->info.drive.unit > 1 ? "unit must be 0 or 1 for controller fdc"
                                                       : NULL;
            if (why) {
                vrt_error_set(error, d->info.drive.target ? VIR_ERR_CONFIG_UNSUPPORTED : VIR_ERR_INTERNAL_ERROR, "%s",
                              why);
                return false;
            }
        }
    }
    {
        /* the SCSI hostdevs' controllers up to the highest index they
         * use, of the model of that one's controller when it has one (a
         * full controller's next gets its model), as libvirt adds them */
        int max = -1;
        g_autofree char *model = NULL;

        for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++) {
            const VrtDomainSubsysHostdevDef *h = def->subsys_hostdevs->pdata[i];

            if (h->type == VRT_SUBSYS_HOSTDEV_SCSI && h->info.type == VRT_DEVICE_ADDRESS_DRIVE &&
                (int)h->info.drive.controller > max) {
                max = (int)h->info.drive.controller;
                c = find_controller(def, VRT_DOMAIN_CONTROLLER_SCSI, h->info.drive.controller);
                if (c && c->model) {
                    g_free(model);
                    model = g_strdup(c->model);
                }
            }
        }
        for (int i = 0; i <= max; i++)
            add_controller(def, VRT_DOMAIN_CONTROLLER_SCSI, (guint)i, model);
    }
    /* a SCSI controller without a model is libvirt's default for QEMU on
     * x86: lsilogic (qemuDomainGetSCSIControllerModel) */
    for (guint i = 0; i < def->controllers->len; i++) {
        c = def->controllers->pdata[i];
        if (c->type == VRT_DOMAIN_CONTROLLER_SCSI && !c->model)
            c->model = g_strdup("lsilogic");
    }
    /* the controller each virtio channel names (0 when it names none), as
     * libvirt adds them; a guestfwd channel is QEMU's user network's */
    need_vserial = false;
    for (guint i = 0; i < def->channels->len; i++) {
        const VrtDomainChrDef *ch = def->channels->pdata[i];
        if (ch->guestfwd_addr)
            continue;
        if (ch->info.type == VRT_DEVICE_ADDRESS_VIRTIO_SERIAL)
            add_controller(def, VRT_DOMAIN_CONTROLLER_VIRTIO_SERIAL, ch->info.vserial.controller, NULL);
        else
            need_vserial = true;
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        VrtDomainChrDef *con = def->consoles->pdata[i];
        if (g_strcmp0(con->target_type, "virtio") == 0)
            need_vserial = true;
    }
    if (need_vserial)
        add_controller(def, VRT_DOMAIN_CONTROLLER_VIRTIO_SERIAL, 0, NULL);
    if (!def->memballoon) {
        def->memballoon = g_new0(VrtDomainMemballoonDef, 1);
        def->memballoon->model = g_strdup("virtio");
    }
    return true;
}

static void
assign_vserial(VrtDomainDef *def)
{
    guint next = 1;
    GPtrArray *lists[] = { def->consoles, def->channels };

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            VrtDomainChrDef *c = lists[l]->pdata[i];
            if (c->info.type == VRT_DEVICE_ADDRESS_VIRTIO_SERIAL && c->info.vserial.port >= next)
                next = c->info.vserial.port + 1;
        }
    }
    for (guint i = 0; i < def->channels->len; i++) {
        VrtDomainChrDef *c = def->channels->pdata[i];
        if (c->info.type != VRT_DEVICE_ADDRESS_NONE || c->guestfwd_addr)
            continue;
        c->info.type = VRT_DEVICE_ADDRESS_VIRTIO_SERIAL;
        memset(&c->info.vserial, 0, sizeof(c->info.vserial));
        c->info.vserial.port = next++;
    }
}

/* ---- aliases ------------------------------------------------------- */

/* 1 + the highest N used as prefixN among aliases, so a hotplugged device
 * never reuses the name of one QEMU may still know. */
static guint
next_alias_index(const VrtDomainDef *def, const char *prefix)
{
    g_autoptr(GArray) refs = collect_refs(def);
    gsize plen = strlen(prefix);
    guint next = 0;
    GPtrArray *chrs[] = { def->serials, def->consoles, def->channels, def->parallels };

    for (guint i = 0; i < refs->len + def->serials->len + def->consoles->len + def->channels->len + def->parallels->len;
         i++) {
        const char *alias = NULL;
        guint64 n;
        if (i < refs->len) {
            alias = g_array_index(refs, DevRef, i).info->alias;
        } else {
            guint k = i - refs->len;
            for (guint l = 0; l < G_N_ELEMENTS(chrs); l++) {
                if (k < chrs[l]->len) {
                    alias = ((VrtDomainChrDef *)chrs[l]->pdata[k])->info.alias;
                    break;
                }
                k -= chrs[l]->len;
            }
        }
        if (alias && g_str_has_prefix(alias, prefix) &&
            g_ascii_string_to_unsigned(alias + plen, 10, 0, 100000, &n, NULL) && n + 1 > next)
            next = (guint)n + 1;
    }
    for (guint i = 0; i < def->nets->len; i++) {
        const char *alias = ((VrtDomainNetDef *)def->nets->pdata[i])->info.alias;
        guint64 n;
        if (alias && g_str_has_prefix(alias, prefix) &&
            g_ascii_string_to_unsigned(alias + plen, 10, 0, 100000, &n, NULL) && n + 1 > next)
            next = (guint)n + 1;
    }
    return next;
}

static void
alias_next(const VrtDomainDef *def, VrtDomainDeviceInfo *info, const char *prefix)
{
    if (info->alias)
        return;
    info->alias = g_strdup_printf("%s%u", prefix, next_alias_index(def, prefix));
}

/* libvirt's alias: a SCSI disk on an lsilogic controller has no target
 * in it (bus, then unit) */
static char *
disk_alias(const VrtDomainDef *def, const VrtDomainDiskDef *d)
{
    const VrtDriveAddress *a = &d->info.drive;

    switch (d->bus) {
    case VRT_DOMAIN_DISK_BUS_VIRTIO: {
        int idx = disk_index(d->target_dev);
        return g_strdup_printf("virtio-disk%d", idx < 0 ? 0 : idx);
    }
    case VRT_DOMAIN_DISK_BUS_SATA: return g_strdup_printf("sata%u-%u-%u", a->controller, a->bus, a->unit);
    case VRT_DOMAIN_DISK_BUS_SCSI: {
        const VrtDomainControllerDef *c = find_controller(def, VRT_DOMAIN_CONTROLLER_SCSI, a->controller);

        if (c && g_strcmp0(c->model, "lsilogic") == 0)
            return g_strdup_printf("scsi%u-%u-%u", a->controller, a->bus, a->unit);
        return g_strdup_printf("scsi%u-%u-%u-%u", a->controller, a->bus, a->target, a->unit);
    }
    case VRT_DOMAIN_DISK_BUS_IDE: return g_strdup_printf("ide%u-%u-%u", a->controller, a->bus, a->unit);
    case VRT_DOMAIN_DISK_BUS_FDC: return g_strdup_printf("fdc%u-%u-%u", a->controller, a->bus, a->unit);
    case VRT_DOMAIN_DISK_BUS_USB: {
        int idx = disk_index(d->target_dev);
        return g_strdup_printf("usb-disk%d", idx < 0 ? 0 : idx);
    }
    case VRT_DOMAIN_DISK_BUS_SD: {
        int idx = disk_index(d->target_dev);
        return g_strdup_printf("sd-disk%d", idx < 0 ? 0 : idx);
    }
    }
    return NULL;
}

static char *
controller_alias(const VrtDomainDef *def, const VrtDomainControllerDef *c)
{
    switch (c->type) {
    case VRT_DOMAIN_CONTROLLER_PCI:
        if (g_str_equal(c->model, "pcie-root"))
            return g_strdup("pcie.0");
        return g_strdup_printf("pci.%u", c->index);
    case VRT_DOMAIN_CONTROLLER_USB: return c->index == 0 ? g_strdup("usb") : g_strdup_printf("usb%u", c->index);
    case VRT_DOMAIN_CONTROLLER_SATA:
        /* q35's built-in AHCI is called "ide" by QEMU */
        if (c->index == 0 && vrt_domain_def_is_q35(def))
            return g_strdup("ide");
        return g_strdup_printf("sata%u", c->index);
    case VRT_DOMAIN_CONTROLLER_IDE: return c->index == 0 ? g_strdup("ide") : g_strdup_printf("ide%u", c->index);
    case VRT_DOMAIN_CONTROLLER_SCSI: return g_strdup_printf("scsi%u", c->index);
    case VRT_DOMAIN_CONTROLLER_VIRTIO_SERIAL: return g_strdup_printf("virtio-serial%u", c->index);
    case VRT_DOMAIN_CONTROLLER_FDC: return g_strdup_printf("fdc%u", c->index);
    case VRT_DOMAIN_CONTROLLER_CCID: return g_strdup_printf("ccid%u", c->index);
    }
    return NULL;
}

static void
assign_net_alias(const VrtDomainDef *def, VrtDomainNetDef *n)
{
    /* a hostdev-backed interface is a vfio-pci device: named like one */
    alias_next(def, &n->info, vrt_domain_net_get_actual_type(n) == VRT_DOMAIN_NET_TYPE_HOSTDEV ? "hostdev" : "net");
}

static void
assign_aliases(VrtDomainDef *def)
{
    for (guint i = 0; i < def->disks->len; i++) {
        VrtDomainDiskDef *d = def->disks->pdata[i];
        if (!d->info.alias)
            d->info.alias = disk_alias(def, d);
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (!c->info.alias)
            c->info.alias = controller_alias(def, c);
    }
    for (guint i = 0; i < def->nets->len; i++)
        assign_net_alias(def, def->nets->pdata[i]);
    for (guint i = 0; i < def->hostdevs->len; i++) {
        VrtDomainHostdevDef *h = def->hostdevs->pdata[i];
        if (!h->parent_net)
            alias_next(def, h->info, "hostdev");
    }
    for (guint i = 0; def->subsys_hostdevs && i < def->subsys_hostdevs->len; i++)
        alias_next(def, &((VrtDomainSubsysHostdevDef *)def->subsys_hostdevs->pdata[i])->info, "hostdev");
    for (guint i = 0; i < def->serials->len; i++) {
        VrtDomainChrDef *s = def->serials->pdata[i];
        if (!s->info.alias)
            s->info.alias = g_strdup_printf("serial%d", s->target_port < 0 ? (int)i : s->target_port);
    }
    for (guint i = 0; i < def->parallels->len; i++) {
        VrtDomainChrDef *p = def->parallels->pdata[i];
        if (!p->info.alias)
            p->info.alias = g_strdup_printf("parallel%d", p->target_port < 0 ? (int)i : p->target_port);
    }
    for (guint i = 0; i < def->consoles->len; i++) {
        VrtDomainChrDef *c = def->consoles->pdata[i];
        if (!c->info.alias)
            c->info.alias = g_strdup_printf("console%u", i);
    }
    for (guint i = 0; i < def->channels->len; i++)
        alias_next(def, &((VrtDomainChrDef *)def->channels->pdata[i])->info, "channel");
    for (guint i = 0; i < def->inputs->len; i++)
        alias_next(def, &((VrtDomainInputDef *)def->inputs->pdata[i])->info, "input");
    for (guint i = 0; i < def->videos->len; i++)
        alias_next(def, &((VrtDomainVideoDef *)def->videos->pdata[i])->info, "video");
    for (guint i = 0; i < def->rngs->len; i++)
        alias_next(def, &((VrtDomainRngDef *)def->rngs->pdata[i])->info, "rng");
    if (def->memballoon && !def->memballoon->info.alias)
        def->memballoon->info.alias = g_strdup("balloon0");
    if (def->watchdog && !def->watchdog->info.alias)
        def->watchdog->info.alias = g_strdup("watchdog0");
    if (def->vsock && !def->vsock->info.alias)
        def->vsock->info.alias = g_strdup("vsock0");
    vrt_usb_devices_assign_aliases(def);
    /* libvirt names a filesystem by its place among them, fsN */
    for (guint i = 0; def->filesystems && i < def->filesystems->len; i++) {
        VrtDomainFsDef *fs = def->filesystems->pdata[i];
        if (!fs->info.alias)
            fs->info.alias = g_strdup_printf("fs%u", i);
    }
    /* libvirt names a shmem by its place among them */
    for (guint i = 0; def->shmems && i < def->shmems->len; i++) {
        VrtDomainShmemDef *s = def->shmems->pdata[i];
        if (!s->info.alias)
            s->info.alias = g_strdup_printf("shmem%u", i);
    }
    /* libvirt names a hub, as a sound card, by its place among them */
    for (guint i = 0; def->hubs && i < def->hubs->len; i++) {
        VrtDomainHubDef *h = def->hubs->pdata[i];
        if (!h->info.alias)
            h->info.alias = g_strdup_printf("hub%u", i);
    }
    /* libvirt names a sound card by its place among them */
    for (guint i = 0; def->sounds && i < def->sounds->len; i++) {
        VrtDomainSoundDef *s = def->sounds->pdata[i];
        if (!s->info.alias)
            s->info.alias = g_strdup_printf("sound%u", i);
    }
}

/* ---- MACs ---------------------------------------------------------- */

static void
assign_mac(const VrtDomainDef *def, VrtDomainNetDef *net)
{
    if (net->mac_set)
        return;
    do {
        net->mac[0] = MAC_PREFIX_0;
        net->mac[1] = MAC_PREFIX_1;
        net->mac[2] = MAC_PREFIX_2;
        for (guint i = 3; i < 6; i++)
            net->mac[i] = (guint8)g_random_int_range(0, 256);
    } while (vrt_domain_def_find_net_by_mac(def, net->mac));
    net->mac_set = true;
}

/* Every device on a USB port, in libvirt's order: USB disks, USB
 * inputs, USB sound cards, USB host devices, then redirected devices. */
static GPtrArray *
usb_device_infos(VrtDomainDef *def)
{
    GPtrArray *infos = g_ptr_array_new();

    for (guint i = 0; i < def->disks->len; i++) {
        VrtDomainDiskDef *d = def->disks->pdata[i];
        if (d->bus == VRT_DOMAIN_DISK_BUS_USB)
            g_ptr_array_add(infos, &d->info);
    }

    for (guint i = 0; i < def->inputs->len; i++) {
        VrtDomainInputDef *in = def->inputs->pdata[i];
        if (g_str_equal(in->bus, "usb"))
            g_ptr_array_add(infos, &in->info);
    }
    for (guint i = 0; def->sounds && i < def->sounds->len; i++) {
        VrtDomainSoundDef *s = def->sounds->pdata[i];
        if (g_str_equal(s->model, "usb"))
            g_ptr_array_add(infos, &s->info);
    }
    /* libvirt's order goes on with hostdevs, ..., and ends with redirdevs */
    vrt_usb_devices_add_infos(def, infos, false);
    vrt_usb_devices_add_infos(def, infos, true);
    return infos;
}

static bool
assign_usb(VrtDomainDef *def, GError **error)
{
    VrtDomainControllerDef *usb = find_controller(def, VRT_DOMAIN_CONTROLLER_USB, 0);
    g_autoptr(GPtrArray) infos = usb_device_infos(def);

    return vrt_domain_assign_usb_ports(def, infos, usb && g_strcmp0(usb->model, "none") != 0, error);
}

bool
vrt_domain_def_assign_addresses(VrtDomainDef *def, GError **error)
{
    if (!vrt_domain_def_validate(def, error) || !vrt_domain_def_validate_addresses(def, error))
        return false;
    vrt_domain_def_fill_defaults(def);
    for (guint i = 0; i < def->disks->len; i++)
        assign_drive(def->disks->pdata[i]);
    if (!vrt_domain_def_validate_addresses(def, error) || !assign_scsi_hostdevs(def, error) ||
        !add_implicit_controllers(def, error))
        return false;
    vrt_smartcards_assign(def);
    assign_vserial(def);
    if (!assign_usb(def, error) || !assign_pci(def, error))
        return false;
    for (guint i = 0; i < def->nets->len; i++)
        assign_mac(def, def->nets->pdata[i]);
    assign_aliases(def);
    return true;
}

/* ---- hotplug ------------------------------------------------------- */

static PciNeed
device_need(const VrtDomainDef *def, const VrtDomainDeviceDef *dev, VrtDomainDeviceInfo **info)
{
    switch (dev->type) {
    case VRT_DOMAIN_DEVICE_NET: {
        const VrtDomainNetDef *n = dev->data.net;
        *info = &dev->data.net->info;
        if (n->model && (g_str_equal(n->model, "e1000") || g_str_equal(n->model, "rtl8139")))
            return NEED_PCI;
        return NEED_PCIE;
    }
    case VRT_DOMAIN_DEVICE_HOSTDEV: *info = dev->data.hostdev->info; return NEED_PCIE;
    case VRT_DOMAIN_DEVICE_DISK:
        *info = &dev->data.disk->info;
        return dev->data.disk->bus == VRT_DOMAIN_DISK_BUS_VIRTIO ? NEED_PCIE : NEED_NONE;
    case VRT_DOMAIN_DEVICE_RNG: *info = &dev->data.rng->info; return NEED_PCIE;
    case VRT_DOMAIN_DEVICE_FILESYSTEM: *info = &dev->data.fs->info; return NEED_PCIE;
    case VRT_DOMAIN_DEVICE_CONTROLLER:
        *info = &dev->data.controller->info;
        return controller_need(def, dev->data.controller);
    case VRT_DOMAIN_DEVICE_INPUT:
        *info = &dev->data.input->info;
        return g_str_equal(dev->data.input->bus, "virtio") ? NEED_PCIE : NEED_NONE;
    default: *info = NULL; return NEED_NONE;
    }
}

bool
vrt_domain_def_assign_device_address(VrtDomainDef *def, VrtDomainDeviceDef *dev, GError **error)
{
    VrtDomainDeviceInfo *info = NULL;
    PciNeed need = device_need(def, dev, &info);

    if (dev->type == VRT_DOMAIN_DEVICE_NET) {
        VrtDomainNetDef *n = dev->data.net;

        /* a MAC already in use is allowed, as in libvirt (a teaming pair) */
        assign_mac(def, n);
        assign_net_alias(def, n);
    } else if (dev->type == VRT_DOMAIN_DEVICE_HOSTDEV) {
        alias_next(def, dev->data.hostdev->info, "hostdev");
    } else if (dev->type == VRT_DOMAIN_DEVICE_DISK) {
        VrtDomainDiskDef *d = dev->data.disk;
        if (vrt_domain_def_find_disk_by_target(def, d->target_dev)) {
            vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "target %s already exists", d->target_dev);
            return false;
        }
        assign_drive(d);
        if (!drive_controller_check(d, error))
            return false;
        if (!d->info.alias)
            d->info.alias = disk_alias(def, d);
    } else if (dev->type == VRT_DOMAIN_DEVICE_RNG) {
        alias_next(def, &dev->data.rng->info, "rng");
    } else if (dev->type == VRT_DOMAIN_DEVICE_INPUT) {
        alias_next(def, &dev->data.input->info, "input");
    } else if (dev->type != VRT_DOMAIN_DEVICE_CONTROLLER) {
        vrt_error_set(error, VIR_ERR_OPERATION_UNSUPPORTED, "hotplug of this device type is not supported");
        return false;
    }
    if (info && need != NEED_NONE) {
        g_autoptr(GArray) refs = collect_refs(def);
        g_autofree PciMap *m = g_new0(PciMap, 1);
        DevRef r = { .info = info, .need = need, .what = (char *)"new device" };

        if (!pci_map_fill(def, refs, m, error))
            return false;
        if (info->type == VRT_DEVICE_ADDRESS_PCI) {
            if (info->pci.bus != 0 && !find_controller(def, VRT_DOMAIN_CONTROLLER_PCI, info->pci.bus)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "PCI bus 0x%02x has no controller", info->pci.bus);
                return false;
            }
            return pci_reserve(m, &info->pci, "new device", error);
        }
        return place_device(def, m, &r, false, error);
    }
    return true;
}
