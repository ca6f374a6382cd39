/*
 * The PCI topology controllers beyond root ports and bridges: PCIe switches
 * (pcie-switch-upstream-port, pcie-switch-downstream-port) and the expander
 * buses (pci-expander-bus on pc, pcie-expander-bus on q35), and the
 * <target> every PCI controller may carry (chassisNr, chassis, port, busNr,
 * hotplug, <node>). Read, checked and filled as libvirt 9.0's QEMU driver
 * does: which option each model takes (its error texts), the model name
 * each model is given (the QEMU device), pci-bridge's chassisNr, a
 * downstream port's chassis and port, an expander bus's busNr counted down
 * from 254, and which controller each may be plugged into. Where these
 * controllers are placed is domain_addr.c's.
 */
#include "conf/domain/domain_pci_topology.h"

#include "conf/domain/domain_memory.h"
#include "conf/domain/domain_priv.h"
#include "util/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHASSIS_NR_MAX 255
#define CHASSIS_MAX 255
#define PORT_MAX 255
#define BUS_NR_MAX 254
#define BUS_NR_NONE 256 /* above every busNr: the first expander gets 254 */

/* model -> the QEMU device libvirt names it with (<model name=>) */
static const struct {
    const char *model;
    const char *name;
} model_names[] = {
    { "pci-bridge", "pci-bridge" },
    { "dmi-to-pci-bridge", "i82801b11-bridge" },
    { "pcie-to-pci-bridge", "pcie-pci-bridge" },
    { "pcie-switch-upstream-port", "x3130-upstream" },
    { "pcie-switch-downstream-port", "xio3130-downstream" },
    { "pci-expander-bus", "pxb" },
    { "pcie-expander-bus", "pxb-pcie" },
};

const char *
vrt_pci_ctrl_default_model_name(const char *model)
{
    for (guint i = 0; i < G_N_ELEMENTS(model_names); i++) {
        if (g_strcmp0(model, model_names[i].model) == 0)
            return model_names[i].name;
    }
    if (g_strcmp0(model, "pcie-root-port") == 0)
        return "pcie-root-port";
    return NULL;
}

bool
vrt_pci_ctrl_is(const VrtDomainControllerDef *c, const char *model)
{
    return c->type == VRT_DOMAIN_CONTROLLER_PCI && g_strcmp0(c->model, model) == 0;
}

static bool
is_expander(const VrtDomainControllerDef *c)
{
    return vrt_pci_ctrl_is(c, "pci-expander-bus") || vrt_pci_ctrl_is(c, "pcie-expander-bus");
}

static bool
has_port(const VrtDomainControllerDef *c)
{
    return vrt_pci_ctrl_is(c, "pcie-root-port") || vrt_pci_ctrl_is(c, "pcie-switch-downstream-port");
}

bool
vrt_pci_ctrl_target_parse(xmlNodePtr node, VrtDomainControllerDef *c, GError **error)
{
    guint val = 0;
    bool present = false;

    if (!vrt_xml_check_attrs(node, error, "chassisNr", "chassis", "port", "busNr", "hotplug", NULL))
        return false;
    if (!vrt_xml_prop_uint(node, "chassisNr", G_MAXINT, &val, &present, error))
        return false;
    if (present && val == 0) {
        /* 0 means unset here: refused as libvirt's range check refuses it */
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "PCI controller chassisNr '0' out of range - must be 1-%d",
                      CHASSIS_NR_MAX);
        return false;
    }
    if (present)
        c->chassis_nr = val;
    if (!vrt_xml_prop_uint(node, "chassis", G_MAXINT, &val, &present, error))
        return false;
    if (present)
        c->chassis = val;
    if (!vrt_xml_prop_uint(node, "port", G_MAXINT, &val, &present, error))
        return false;
    if (present)
        c->port = val;
    if (!vrt_xml_prop_uint(node, "busNr", G_MAXINT, &val, &present, error))
        return false;
    if (present && val == 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "PCI controller busNr '0' out of range - must be 1-%d",
                      BUS_NR_MAX);
        return false;
    }
    if (present)
        c->bus_nr = val;
    if (!vrt_xml_prop_tristate(node, "hotplug", true, &c->hotplug, error))
        return false;
    VRT_XML_FOREACH_CHILD(ch, node)
    {
        g_autofree char *text = NULL;
        char *end = NULL;
        long n;

        if (!vrt_xml_is(ch, "node"))
            return vrt_xml_unsupported(ch, error);
        if (!vrt_xml_check_attrs(ch, error, NULL))
            return false;
        text = g_strstrip(vrt_xml_text(ch));
        errno = 0;
        n = strtol(text, &end, 10);
        if (!*text || *end || errno || n < 0 || n > G_MAXINT) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid NUMA node in target");
            return false;
        }
        c->numa_node = (guint)n;
        c->numa_node_set = true;
    }
    return true;
}

bool
vrt_pci_ctrl_has_target(const VrtDomainControllerDef *c)
{
    return c->chassis_nr || c->chassis >= 0 || c->port >= 0 || c->bus_nr || c->hotplug || c->numa_node_set;
}

void
vrt_pci_ctrl_target_format(VrtFmt *f, const VrtDomainControllerDef *c)
{
    g_autoptr(GString) t = g_string_new(NULL);

    if (!vrt_pci_ctrl_has_target(c))
        return;
    /* libvirt's order: chassisNr, chassis, port, busNr, hotplug */
    if (c->chassis_nr)
        g_string_append_printf(t, " chassisNr='%u'", c->chassis_nr);
    if (c->chassis >= 0)
        g_string_append_printf(t, " chassis='%d'", c->chassis);
    if (c->port >= 0)
        g_string_append_printf(t, " port='0x%x'", c->port);
    if (c->bus_nr)
        g_string_append_printf(t, " busNr='%u'", c->bus_nr);
    if (c->hotplug)
        g_string_append_printf(t, " hotplug='%s'", c->hotplug == VRT_TRISTATE_YES ? "on" : "off");
    if (!c->numa_node_set) {
        vrt_fmt_line(f, "<target%s/>", t->str);
        return;
    }
    vrt_fmt_line(f, "<target%s>", t->str);
    f->indent++;
    vrt_fmt_line(f, "<node>%u</node>", c->numa_node);
    f->indent--;
    vrt_fmt_line(f, "</target>");
}

static bool
invalid_option(const VrtDomainControllerDef *c, const char *option, GError **error)
{
    const char *name = c->model_name ? c->model_name : vrt_pci_ctrl_default_model_name(c->model);

    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                  "Option '%s' is not valid for PCI controller with index '%u', model '%s' and modelName '%s'", option,
                  c->index, c->model, name ? name : "");
    return false;
}

/* libvirt's QEMU validation of one PCI controller's options */
static bool
check_options(const VrtDomainControllerDef *c, GError **error)
{
    const char *def_name = vrt_pci_ctrl_default_model_name(c->model);
    bool root = vrt_pci_ctrl_is(c, "pci-root") || vrt_pci_ctrl_is(c, "pcie-root");

    if (c->model_name && def_name && !g_str_equal(c->model_name, def_name) &&
        !(vrt_pci_ctrl_is(c, "pcie-root-port") && g_str_equal(c->model_name, "ioh3420"))) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "Option 'modelName' has invalid value for PCI controller with index '%u', model '%s' and "
                      "modelName '%s'",
                      c->index, c->model, c->model_name);
        return false;
    }
    if (c->model_name && root)
        return invalid_option(c, "modelName", error);
    if (c->chassis_nr > CHASSIS_NR_MAX) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "PCI controller chassisNr '%u' out of range - must be 1-%d",
                      c->chassis_nr, CHASSIS_NR_MAX);
        return false;
    }
    if (c->chassis > CHASSIS_MAX) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "PCI controller chassis '%d' out of range - must be 0-%d",
                      c->chassis, CHASSIS_MAX);
        return false;
    }
    if (c->port > PORT_MAX) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "PCI controller port '%d' out of range - must be 0-%d",
                      c->port, PORT_MAX);
        return false;
    }
    if (c->bus_nr > BUS_NR_MAX) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "PCI controller busNr '%u' out of range - must be 1-%d",
                      c->bus_nr, BUS_NR_MAX);
        return false;
    }
    if (c->numa_node_set && c->index == 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "The PCI controller with index=0 can't be associated with a NUMA node");
        return false;
    }
    if (c->bus_nr && !is_expander(c))
        return invalid_option(c, "busNr", error);
    if (c->numa_node_set && !is_expander(c))
        return invalid_option(c, "numaNode", error);
    if (c->chassis_nr && !vrt_pci_ctrl_is(c, "pci-bridge"))
        return invalid_option(c, "chassisNr", error);
    if (c->chassis >= 0 && !has_port(c))
        return invalid_option(c, "chassis", error);
    if (c->port >= 0 && !has_port(c))
        return invalid_option(c, "port", error);
    /* pci-root's hotplug is PIIX4's ACPI hotplug of the root bus */
    if (c->hotplug && !has_port(c) && !vrt_pci_ctrl_is(c, "pci-root"))
        return invalid_option(c, "hotplug", error);
    return true;
}

/* A controller with an address of its own must sit on a bus that takes it,
 * with libvirt's words for one that does not. */
static bool
check_parent(const VrtDomainDef *def, const VrtDomainControllerDef *c, GError **error)
{
    const VrtDomainControllerDef *parent = NULL;
    bool ok = true;

    if (c->info.type != VRT_DEVICE_ADDRESS_PCI)
        return true;
    for (guint i = 0; i < def->controllers->len; i++) {
        const VrtDomainControllerDef *o = def->controllers->pdata[i];
        if (o->type == VRT_DOMAIN_CONTROLLER_PCI && o->index == c->info.pci.bus)
            parent = o;
    }
    if (!parent)
        return true; /* a missing bus is domain_addr.c's error */
    if (is_expander(c))
        ok = c->info.pci.bus == 0;
    else if (vrt_pci_ctrl_is(c, "pcie-switch-upstream-port"))
        ok = has_port(parent);
    else if (vrt_pci_ctrl_is(c, "pcie-switch-downstream-port"))
        ok = vrt_pci_ctrl_is(parent, "pcie-switch-upstream-port");
    else if (vrt_pci_ctrl_is(c, "dmi-to-pci-bridge")) /* only a PCIe root bus takes it */
        ok = vrt_pci_ctrl_is(parent, "pcie-root") || vrt_pci_ctrl_is(parent, "pcie-expander-bus");
    if (!ok) {
        g_autofree char *a = vrt_pci_addr_format(&c->info.pci);
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "The device at PCI address %s cannot be plugged into the PCI controller with index='%u'. It "
                      "requires a controller that accepts a %s.",
                      a, parent->index, c->model);
        return false;
    }
    return true;
}

bool
vrt_pci_topology_validate(const VrtDomainDef *def, GError **error)
{
    bool q35 = vrt_domain_def_is_q35(def);
    guint ncells = def->mem && def->mem->cells ? def->mem->cells->len : 0;

    for (guint i = 0; i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = def->controllers->pdata[i];

        if (c->type != VRT_DOMAIN_CONTROLLER_PCI || !c->model)
            continue;
        if (!check_options(c, error))
            return false;
        if (vrt_pci_ctrl_is(c, "pci-expander-bus") && q35) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "pci-expander-bus controllers are only supported on 440fx-based machinetypes");
            return false;
        }
        if (vrt_pci_ctrl_is(c, "pcie-expander-bus") && !q35) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                          "pcie-expander-bus controllers are not supported with this machine type");
            return false;
        }
        if (is_expander(c) && c->numa_node_set && c->numa_node >= ncells) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "%s with index %u is configured for a NUMA node (%u) not present in the domain's "
                          "<cpu><numa> array (%u)",
                          c->model, c->index, c->numa_node, ncells);
            return false;
        }
        if (!check_parent(def, c, error))
            return false;
    }
    return true;
}

/* libvirt's qemuDomainAddressFindNewBusNr: two below the lowest busNr in
 * use, so the buses behind each expander have numbers to count up into */
static int
new_bus_nr(const VrtDomainDef *def)
{
    guint lowest = BUS_NR_NONE;

    for (guint i = 0; i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == VRT_DOMAIN_CONTROLLER_PCI && c->bus_nr && c->bus_nr < lowest)
            lowest = c->bus_nr;
    }
    return lowest <= 2 ? -1 : (int)lowest - 2;
}

bool
vrt_pci_topology_fill(VrtDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        const char *name;

        if (c->type != VRT_DOMAIN_CONTROLLER_PCI || !c->model || vrt_pci_ctrl_is(c, "pcie-root-port"))
            continue; /* root ports: domain_addr.c's fill_root_port */
        name = vrt_pci_ctrl_default_model_name(c->model);
        if (name && !c->model_name)
            c->model_name = g_strdup(name);
        if (vrt_pci_ctrl_is(c, "pci-bridge") && !c->chassis_nr)
            c->chassis_nr = c->index;
        if (vrt_pci_ctrl_is(c, "pcie-switch-downstream-port")) {
            if (c->chassis < 0)
                c->chassis = c->index;
            if (c->port < 0 && c->info.type == VRT_DEVICE_ADDRESS_PCI)
                c->port = c->info.pci.slot;
        }
        if (is_expander(c) && !c->bus_nr) {
            int nr = new_bus_nr(def);
            if (nr < 0) {
                vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                              "No free busNr lower than current lowest busNr is available to auto-assign to bus "
                              "%u. Must be manually assigned",
                              c->info.pci.bus);
                return false;
            }
            c->bus_nr = nr;
        }
    }
    return true;
}
