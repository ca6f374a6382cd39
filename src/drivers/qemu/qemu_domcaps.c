/*
 * Domain capabilities (virConnectGetDomainCapabilities) and the CPU model
 * names (virConnectGetCPUModelNames) of the QEMU driver: what a domain of
 * one emulator, machine and domain type may ask for here. Every entry is
 * something vrt starts (the machine types of vrt_domain_machine_supported,
 * the device models the command line builds), with the emulator's own
 * answers for the rest (machine list, CPU models over QMP, /dev/kvm). A
 * client such as virt-install picks its defaults from this, so listing
 * more than vrt starts makes it build domains vrt then refuses.
 */
#include "conf/cpu/cpu_arch.h"
#include "conf/cpu/cpu_x86.h"
#include "conf/domain/capabilities.h"
#include "conf/domain/domain_conf.h"
#include "drivers/qemu/qemu_domain.h"
#include "drivers/qemu/qemu_driver.h"
#include "drivers/qemu/qemu_firmware.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const VrtQemuMachine *
find_machine(const VrtQemuCapsInfo *info, const char *name)
{
    for (guint i = 0; i < info->machines->len; i++) {
        const VrtQemuMachine *m = g_ptr_array_index(info->machines, i);

        if (g_str_equal(m->name, name))
            return m;
    }
    return NULL;
}

/* The machine a domain without one gets: QEMU's default when vrt starts
 * it, else the first one vrt starts. */
static const VrtQemuMachine *
default_machine(const VrtQemuCapsInfo *info)
{
    const VrtQemuMachine *first = NULL;

    for (guint i = 0; i < info->machines->len; i++) {
        const VrtQemuMachine *m = g_ptr_array_index(info->machines, i);

        if (!vrt_domain_machine_supported(m->name))
            continue;
        if (m->is_default)
            return m;
        if (!first)
            first = m;
    }
    return first;
}

/* The emulator for arch (NULL: the host's, which vrt's only emulator
 * serves); libvirt's errors for what vrt cannot serve. */
static const VrtQemuCapsInfo *
caps_for(VrtQemuDriver *drv, const char *emulator, const char *arch, GError **error)
{
    const VrtQemuCapsInfo *info;
    g_autofree char *i386 = NULL;

    if (arch && !vrt_arch_name_known(arch)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown architecture: %s", arch);
        return NULL;
    }
    /* i686 is qemu-system-i386's when it is installed, as libvirt picks it */
    if (arch && g_str_equal(arch, "i686") && !emulator && (i386 = g_find_program_in_path("qemu-system-i386")))
        emulator = i386;
    if (arch && !g_str_equal(arch, "x86_64") && !g_str_equal(arch, "i686") && !emulator) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "unable to find any emulator to serve '%s' architecture",
                      arch);
        return NULL;
    }
    if (emulator && access(emulator, F_OK) < 0) {
        /* libvirt's capabilities cache stats the binary it is named */
        g_autofree char *msg = g_strdup_printf("Cannot check QEMU binary %s: %s", emulator, g_strerror(errno));
        /* a system error's message has no prefix in libvirt */
        vrt_error_set_literal(error, VIR_ERR_SYSTEM_ERROR, msg);
        return NULL;
    }
    info = vrt_qemu_caps_get(drv->caps, emulator ? emulator : drv->emulator, error);
    if (!info)
        return NULL;
    if (arch && !g_str_equal(arch, info->arch) && !g_str_equal(arch, "i686")) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG,
                      "architecture from emulator '%s' doesn't match given architecture '%s'", info->arch, arch);
        return NULL;
    }
    return info;
}

static void
add_devices(VrtDomCaps *c, bool q35)
{
    VrtDomCapsItem *it;

    it = vrt_domcaps_add_item(c->devices, "disk", true);
    vrt_domcaps_item_enum(it, "diskDevice", "disk", "cdrom", NULL);
    if (q35)
        vrt_domcaps_item_enum(it, "bus", "scsi", "virtio", "usb", "sata", NULL);
    else
        vrt_domcaps_item_enum(it, "bus", "ide", "scsi", "virtio", "usb", "sata", NULL);
    it = vrt_domcaps_add_item(c->devices, "graphics", true);
    vrt_domcaps_item_enum(it, "type", "vnc", NULL);
    it = vrt_domcaps_add_item(c->devices, "video", true);
    vrt_domcaps_item_enum(it, "modelType", "vga", "cirrus", "qxl", "virtio", "none", "bochs", NULL);
    it = vrt_domcaps_add_item(c->devices, "hostdev", true);
    vrt_domcaps_item_enum(it, "mode", "subsystem", NULL);
    vrt_domcaps_item_enum(it, "startupPolicy", NULL);
    vrt_domcaps_item_enum(it, "subsysType", "pci", NULL);
    vrt_domcaps_item_enum(it, "capsType", NULL);
    vrt_domcaps_item_enum(it, "pciBackend", "default", "vfio", NULL);
    it = vrt_domcaps_add_item(c->devices, "rng", true);
    vrt_domcaps_item_enum(it, "model", "virtio", NULL);
    vrt_domcaps_item_enum(it, "backendModel", "random", NULL);
    /* virtio-9p (QEMU's local fsdev: "path"; not the "handle" driver
     * QEMU 4.0 removed) and virtio-fs through virtiofsd, the TPM through
     * swtpm (qemu_tpm.c): the emulator backend is listed when swtpm is
     * installed */
    it = vrt_domcaps_add_item(c->devices, "filesystem", true);
    vrt_domcaps_item_enum(it, "driverType", "path", "virtiofs", NULL);
    it = vrt_domcaps_add_item(c->devices, "tpm", true);
    vrt_domcaps_item_enum(it, "model", "tpm-tis", "tpm-crb", NULL);
    {
        g_autofree char *swtpm = g_find_program_in_path("swtpm");

        if (swtpm)
            vrt_domcaps_item_enum(it, "backendModel", "passthrough", "emulator", NULL);
        else
            vrt_domcaps_item_enum(it, "backendModel", "passthrough", NULL);
    }
    vrt_domcaps_item_enum(it, "backendVersion", "2.0", NULL);
    vrt_domcaps_add_item(c->devices, "redirdev", false);
    it = vrt_domcaps_add_item(c->devices, "channel", true);
    vrt_domcaps_item_enum(it, "type", "pty", "unix", NULL);
}

static void
add_features(VrtDomCaps *c)
{
    vrt_domcaps_add_item(c->features, "gic", false);
    vrt_domcaps_add_item(c->features, "vmcoreinfo", false);
    vrt_domcaps_add_item(c->features, "genid", false);
    vrt_domcaps_add_item(c->features, "backingStoreInput", false);
    vrt_domcaps_add_item(c->features, "backup", false);
    vrt_domcaps_add_item(c->features, "sev", false);
    vrt_domcaps_add_item(c->features, "sgx", false);
}

/* libvirt's domain types; a known one other than kvm asks for an accelerator QEMU lacks here */
static const char *const virt_types[] = { "none", "qemu",      "kqemu", "kvm",    "xen",    "lxc",
                                          "uml",  "openvz",    "test",  "vmware", "hyperv", "vbox",
                                          "phyp", "parallels", "bhyve", "vz",     "hvf",    NULL };

bool
vrt_qemu_driver_lookup_default(VrtQemuDriver *drv, const char *emulator, const char *arch, const char *machine,
                               const char *virttype, const VrtQemuCapsInfo **infop, const VrtQemuMachine **mp,
                               bool *kvmp, GError **error)
{
    const VrtQemuCapsInfo *info;
    const VrtQemuMachine *m;
    bool kvm_usable = vrt_qemu_caps_kvm_usable(drv->dev_kvm, NULL);
    bool kvm;

    if (virttype && !g_strv_contains(virt_types, virttype)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown virttype: %s", virttype);
        return false;
    }
    info = caps_for(drv, emulator, arch, error);
    if (!info)
        return false;
    kvm = virttype && !g_str_equal(virttype, "none") ? !g_str_equal(virttype, "qemu") : kvm_usable;
    if (kvm && !kvm_usable) {
        /* libvirt names the accelerator: kvm, hvf, or tcg for the rest */
        const char *accel = g_str_equal(virttype, "kvm") || g_str_equal(virttype, "hvf") ? virttype : "tcg";
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "the accel '%s' is not supported by '%s' on this host", accel,
                      info->emulator);
        return false;
    }
    if (machine) {
        g_autofree char *canonical = vrt_qemu_caps_canonical_machine(info, machine, NULL);

        m = canonical ? find_machine(info, canonical) : NULL;
        if (!m || !vrt_domain_machine_supported(m->name)) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "the machine '%s' is not supported by emulator '%s'",
                          canonical ? canonical : machine, info->emulator);
            return false;
        }
    } else if (!(m = default_machine(info))) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "emulator '%s' has no machine type vrt can start",
                      info->emulator);
        return false;
    }
    *infop = info;
    if (mp)
        *mp = m;
    *kvmp = kvm;
    return true;
}

VrtDomCaps *
vrt_qemu_driver_domain_capabilities(VrtQemuDriver *drv, const char *emulator, const char *arch, const char *machine,
                                    const char *virttype, GError **error)
{
    const VrtQemuCapsInfo *info;
    const VrtQemuMachine *m;
    g_autoptr(VrtDomCaps) c = NULL;
    const GPtrArray *models;
    bool kvm;

    if (!vrt_qemu_driver_lookup_default(drv, emulator, arch, machine, virttype, &info, &m, &kvm, error))
        return NULL;
    models = vrt_qemu_caps_get_cpu_models(drv->caps, info, kvm, error);
    if (!models)
        return NULL;

    c = vrt_domcaps_new();
    c->path = g_strdup(info->emulator);
    c->domain_type = g_strdup(kvm ? "kvm" : "qemu");
    c->machine = g_strdup(m->name);
    c->arch = g_strdup(arch ? arch : info->arch);
    c->max_vcpus = kvm ? MIN(m->max_cpus, info->max_vcpus) : m->max_cpus;
    c->iothreads = true; /* <iothreads> and a virtio disk's iothread= */
    /* OVMF from QEMU's firmware descriptors (qemu_firmware.c) */
    vrt_qemu_firmware_fill_domcaps(c, m->name, c->arch);
    /* Passing the host CPU through needs KVM; host-model runs QEMU's
     * "max" under TCG, so it starts either way. */
    c->host_passthrough = kvm;
    c->host_model = true;
    /* libvirt's host-model CPU as QEMU's expansion of its own CPU gives
     * it; without one the mode is listed bare */
    c->host_model_cpu = vrt_qemu_driver_host_model_cpu(drv, info, kvm, NULL);
    c->maximum = true;
    c->custom = true;
    /* As libvirt: only QEMU's models its CPU map knows, each with the
     * map's vendor ("unknown" when it names none), in QEMU's order */
    for (guint i = 0; i < models->len; i++) {
        const VrtQemuCpuModel *cm = g_ptr_array_index(models, i);
        const char *vendor = NULL;

        if (!vrt_cpux_model_known(cm->name, &vendor))
            continue;
        vrt_domcaps_add_cpu_model(c, cm->name, vendor ? vendor : "unknown", cm->usable ? "yes" : "no", cm->deprecated);
    }
    add_devices(c, g_str_has_prefix(m->name, "pc-q35"));
    add_features(c);
    return g_steal_pointer(&c);
}
