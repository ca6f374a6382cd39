/*
 * Internal declarations shared by the files of the domain XML layer
 * (parser, formatter, address assignment, device lists). Not for use
 * outside src/conf/domain.
 */
#pragma once

#include "conf/domain/domain_conf.h"
#include "util/xml.h"

/* the highest <controller index=...> a definition may use */
#define VRT_DOMAIN_CONTROLLER_MAX_INDEX 255

extern const char *const vrt_lifecycle_names[];
extern const char *const vrt_net_type_names[];
extern const char *const vrt_virt_type_names[];
extern const char *const vrt_disk_bus_names[];
extern const char *const vrt_disk_device_names[];
extern const char *const vrt_disk_type_names[];
extern const char *const vrt_disk_format_names[];
extern const char *const vrt_cpu_mode_names[];
extern const char *const vrt_boot_dev_names[];
extern const char *const vrt_controller_type_names[];
extern const char *const vrt_chr_type_names[];
extern const char *const vrt_chr_device_names[];
extern const char *const vrt_graphics_type_names[];
extern const char *const vrt_clock_offset_names[];

/* ---- shared parse pieces (domain_parse_dev.c) ---------------------- */

typedef struct {
    guint flags;
    bool q35;
} VrtParseCtx;

/* Handles <alias>, <address>, <boot> children of a device; returns 1 when
 * child was one of them, 0 when not, -1 on error. */
int vrt_parse_info_child(const VrtParseCtx *ctx, xmlNodePtr child, VrtDomainDeviceInfo *info, bool allow_boot,
                         GError **error);
bool vrt_parse_pci_address(xmlNodePtr node, VrtPciAddr *addr, GError **error);
/* Parses one device element into dev (type chosen by element name);
 * def is filled (for consoles mirroring serials) only when given. */
bool vrt_parse_device(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDeviceDef *dev, GError **error);
/* <teaming type= persistent=> of an interface or a hostdev, read as
 * libvirt reads it: without either attribute it is no pair (NONE); any
 * type but persistent or transient is refused. *persistent is replaced. */
bool vrt_parse_teaming(xmlNodePtr node, VrtDomainNetTeaming *type, char **persistent, GError **error);
/* libvirt's checks of a hostdev's <teaming> (type NONE: none given): the
 * transient half only, persistent= required, a PCI hostdev only (pci). */
bool vrt_hostdev_teaming_validate(VrtDomainNetTeaming type, const char *persistent, bool pci, GError **error);
/* The <teaming> of a hostdev that is not PCI, read as libvirt reads it so
 * that it is refused with libvirt's words (one without a pair passes). */
bool vrt_hostdev_teaming_check_non_pci(xmlNodePtr node, GError **error);

/* ---- a disk's <driver> tuning (domain_disk_driver.c) --------------- */

bool vrt_parse_disk_driver_tuning(xmlNodePtr node, VrtDomainDiskDriverTuning *t, GError **error);
bool vrt_disk_driver_tuning_present(const VrtDomainDiskDriverTuning *t);
/* Appends the attributes that are set, in libvirt's order. */
void vrt_format_disk_driver_tuning(GString *attrs, const VrtDomainDiskDriverTuning *t);
/* <disk type='network'>: its <source> and an <auth> of the disk or the
 * source (domain_disk_source.c) */
bool vrt_parse_disk_net_source(xmlNodePtr node, VrtDomainDiskDef *disk, GError **error);
bool vrt_parse_disk_net_auth(xmlNodePtr node, VrtDomainDiskDef *disk, bool in_disk, GError **error);
bool vrt_disk_net_source_check(const VrtDomainDiskDef *disk, GError **error);

/* ---- the firmware part of <os> (domain_parse_os.c) ------------------ */

bool vrt_parse_os_firmware_attr(xmlNodePtr os, VrtDomainOsFirmwareDef *fw, GError **error);
bool vrt_parse_os_loader(xmlNodePtr node, VrtDomainOsFirmwareDef *fw, GError **error);
bool vrt_parse_os_nvram(xmlNodePtr node, VrtDomainOsFirmwareDef *fw, GError **error);
/* have_loader: a <loader> element was written */
bool vrt_validate_os_firmware(const VrtDomainOsFirmwareDef *fw, bool have_loader, GError **error);
bool vrt_parse_os_firmware_features(xmlNodePtr node, VrtDomainOsFirmwareDef *fw, GError **error);
/* Secure Boot's needs of the machine (q35, x86_64, SMM), on the whole def */
bool vrt_validate_os_secure(const VrtDomainDef *def, GError **error);

/* ---- NUMA cells and memory backing (domain_memory.c) ---------------- */

bool vrt_parse_numa(xmlNodePtr node, VrtDomainDef *def, GError **error);
bool vrt_parse_memory_backing(xmlNodePtr node, VrtDomainDef *def, GError **error);
/* After the whole definition is read: the memory is the cells' sum, each
 * cell's vCPUs exist and belong to it alone. */
bool vrt_domain_mem_post_parse(VrtDomainDef *def, GError **error);
/* <maxMemory> and <devices><memory> (domain_memory_dev.c) */
VrtDomainMemDef *vrt_domain_mem_get(VrtDomainDef *def);
bool vrt_parse_idmap(xmlNodePtr node, VrtDomainDef *def, GError **error);
bool vrt_parse_max_memory(xmlNodePtr node, VrtDomainDef *def, GError **error);
bool vrt_parse_memory_device(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error);

/* ---- I/O threads (domain_iothreads.c) ------------------------------ */

bool vrt_parse_iothreads(xmlNodePtr node, VrtDomainDef *def, GError **error);
bool vrt_parse_iothreadids(xmlNodePtr node, VrtDomainDef *def, GError **error);
/* The count covers the ids named; a disk's iothread is a virtio disk's
 * and one of the domain's. */
bool vrt_domain_iothreads_post_parse(VrtDomainDef *def, GError **error);

/* ---- the guest IOMMU (domain_iommu.c) ------------------------------- */

bool vrt_parse_iommu(xmlNodePtr node, VrtDomainDef *def, GError **error);
/* domain_features.c: a <features> child beyond acpi/pae/vmport */
bool vrt_parse_feature_ext(xmlNodePtr node, VrtDomainDef *def, GError **error);
bool vrt_domain_features_post_parse(const VrtDomainDef *def, GError **error);
/* <tpm> and <filesystem> (domain_tpm.c) */
bool vrt_parse_audio(xmlNodePtr node, VrtDomainDef *def, GError **error);
bool vrt_parse_tpm(xmlNodePtr node, VrtDomainDef *def, GError **error);
bool vrt_parse_filesystem(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error);
/* One <filesystem> (device XML too); NULL with *error when refused. */
VrtDomainFsDef *vrt_parse_fs_def(const VrtParseCtx *ctx, xmlNodePtr node, GError **error);
/* <sound>, <panic> (domain_devices_misc.c): true with *handled set when
 * node is one of them and was read into def; *handled false otherwise. */
bool vrt_parse_misc_device(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, bool *handled, GError **error);
/* <sysinfo> and <os><smbios> (domain_sysinfo.c); the post-parse takes
 * the system uuid as the domain's when it has none, else checks them */
bool vrt_parse_sysinfo(xmlNodePtr node, VrtDomainDef *def, GError **error);
bool vrt_parse_os_smbios(xmlNodePtr node, VrtDomainDef *def, GError **error);
bool vrt_domain_sysinfo_post_parse(VrtDomainDef *def, bool *have_uuid, GError **error);
/* <shmem> (domain_shmem.c) */
bool vrt_parse_shmem(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error);
/* <vsock> (domain_vsock.c) */
bool vrt_parse_vsock(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error);
/* USB hostdevs, <redirdev>, <redirfilter> (domain_usbdev.c): true with
 * *handled set when node is one of them and was read into def. */
bool vrt_parse_usb_device(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, bool *handled, GError **error);
/* The chardev of a redirdev or a passthrough smartcard (r->type set):
 * <source> and <protocol> read (1), not one of them (0), error (-1);
 * then the checks of the whole, and its writing. */
int vrt_usb_chr_parse_child(xmlNodePtr c, VrtDomainRedirdevDef *r, GError **error);
bool vrt_usb_chr_check(const VrtDomainRedirdevDef *r, GError **error);
/* <hostdev type='scsi_host|mdev'> (domain_hostdev_subsys.c): read into
 * def->subsys_hostdevs; handled false for any other hostdev */
bool vrt_parse_subsys_hostdev(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, bool *handled,
                              GError **error);
/* libvirt's checks of them against the rest of the domain */
bool vrt_subsys_hostdevs_validate(const VrtDomainDef *def, GError **error);
/* <smartcard> (domain_smartcard.c) */
bool vrt_parse_smartcard(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error);
/* Each smartcard without an address gets the next slot of ccid
 * controller 0, and each ccid controller a smartcard names is added. */
void vrt_smartcards_assign(VrtDomainDef *def);
/* A USB host device listed twice (libvirt's check) */
bool vrt_validate_usb_devices(const VrtDomainDef *def, GError **error);
/* The USB hostdevs' infos (redirdevs false) or the redirdevs' (true), for
 * the USB port assignment */
void vrt_usb_devices_add_infos(VrtDomainDef *def, GPtrArray *infos, bool redirdevs);
void vrt_usb_devices_assign_aliases(VrtDomainDef *def);
/* <hub type='usb'> (domain_hub.c) */
bool vrt_parse_hub(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error);
/* The USB ports of def's hubs and of infos (VrtDomainDeviceInfo*, every
 * other USB device in libvirt's order), assigned as libvirt assigns them,
 * with hubs added when the ports run out; has_usb false when the domain
 * has no USB controller (then any USB device is refused). */
bool vrt_domain_assign_usb_ports(VrtDomainDef *def, GPtrArray *infos, bool has_usb, GError **error);

/* ---- libvirt's QEMU namespace (domain_qemu_ns.c) -------------------- */

bool vrt_domain_qemu_ns_is(xmlNodePtr node);
bool vrt_parse_qemu_commandline(xmlNodePtr node, VrtDomainDef *def, GError **error);

/* A scaled size (unit=, KiB by default) into KiB rounded up, as
 * libvirt's virParseScaledValue reads <memory> and <pcihole64>. */
bool vrt_parse_scaled_kib(xmlNodePtr node, guint64 *kib, GError **error);
/* The same in bytes, bytes without a unit (libvirt's scale 1: <shmem><size>) */
bool vrt_parse_scaled_bytes(xmlNodePtr node, guint64 *bytes, GError **error);
/* ---- <seclabel> (domain_seclabel.c) -------------------------------- */

/* A domain's <seclabel> (there may be one per model). */
bool vrt_parse_seclabel(xmlNodePtr node, guint flags, VrtDomainDef *def, GError **error);
/* domain_launch_security.c */
bool vrt_parse_launch_security(xmlNodePtr node, VrtDomainDef *def, GError **error);
void vrt_domain_launch_security_free(VrtDomainLaunchSecurity *sec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainLaunchSecurity, vrt_domain_launch_security_free)
/* After every element: models of labels written without one. */
bool vrt_seclabels_post_parse(VrtDomainDef *def, guint flags, GError **error);
/* A <seclabel> inside a device's <source>, appended to *labels. */
bool vrt_parse_dev_seclabel(xmlNodePtr node, guint flags, GPtrArray **labels, GError **error);

/* ---- formatting (domain_format*.c) --------------------------------- */

typedef struct {
    GString *buf;
    guint indent;
    guint flags;
} VrtFmt;

void vrt_fmt_line(VrtFmt *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* <cputune><vcpusched>/<iothreadsched> (domain_thread_sched.c): one element
 * into tune; the threads checked against the definition once whole (with
 * its I/O thread ids); written after <iothreadpin> as libvirt writes them. */
bool vrt_domain_thread_sched_parse(xmlNodePtr node, struct _VrtDomainTuneDef *tune, GError **error);
bool vrt_domain_thread_sched_post_parse(VrtDomainDef *def, const GArray *iothread_ids, GError **error);
void vrt_domain_thread_sched_format(VrtFmt *f, const struct _VrtDomainTuneDef *tune);
/* A PCI controller's <target> (attributes and <node>): read into c, and
 * written as libvirt writes it, nothing when there is none
 * (domain_pci_topology.c). */
bool vrt_pci_ctrl_target_parse(xmlNodePtr node, VrtDomainControllerDef *c, GError **error);
void vrt_pci_ctrl_target_format(VrtFmt *f, const VrtDomainControllerDef *c);
bool vrt_format_device(VrtFmt *f, const VrtDomainDeviceDef *dev, GError **error);
void vrt_format_net(VrtFmt *f, const VrtDomainNetDef *net);
void vrt_format_hostdev(VrtFmt *f, const VrtDomainHostdevDef *h);
void vrt_format_disk(VrtFmt *f, const VrtDomainDiskDef *disk);
void vrt_format_disk_net_source(VrtFmt *f, const VrtDiskNetSource *src);
void vrt_format_disk_net_auth(VrtFmt *f, const VrtDiskNetSource *src);
void vrt_format_controller(VrtFmt *f, const VrtDomainControllerDef *c);
void vrt_format_chr(VrtFmt *f, const VrtDomainChrDef *chr);
void vrt_format_input(VrtFmt *f, const VrtDomainInputDef *in);
void vrt_format_graphics(VrtFmt *f, const VrtDomainGraphicsDef *g);
void vrt_format_video(VrtFmt *f, const VrtDomainVideoDef *v);
void vrt_format_memballoon(VrtFmt *f, const VrtDomainMemballoonDef *b);
void vrt_format_rng(VrtFmt *f, const VrtDomainRngDef *r);
void vrt_format_watchdog(VrtFmt *f, const VrtDomainWatchdogDef *w);
void vrt_format_os_firmware_attr(GString *attrs, const VrtDomainOsFirmwareDef *fw);
void vrt_format_os_loader(VrtFmt *f, const VrtDomainOsFirmwareDef *fw);
void vrt_format_numa(VrtFmt *f, const VrtDomainMemDef *mem);
void vrt_format_idmap(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_max_memory(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_memory_devices(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_iothreads(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_qemu_commandline(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_iommu(VrtFmt *f, const VrtDomainIommuDef *iommu);
/* domain_features.c: <apic>, then hyperv..pmu (before vmport), then smm..tcg */
void vrt_format_apic(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_features_mid(VrtFmt *f, const VrtDomainFeaturesDef *feat);
void vrt_format_features_tail(VrtFmt *f, const VrtDomainFeaturesDef *feat);
bool vrt_domain_features_any(const VrtDomainFeaturesDef *feat);
void vrt_format_audio(VrtFmt *f, const VrtDomainAudioDef *a);
void vrt_format_tpms(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_filesystems(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_filesystem(VrtFmt *f, const VrtDomainFsDef *fs);
void vrt_format_sounds(VrtFmt *f, const VrtDomainDef *def);
/* a video <model>'s <acceleration> and <resolution> (domain_devices_misc.c) */
bool vrt_parse_video_model_children(xmlNodePtr model, VrtDomainVideoDef *v, GError **error);
void vrt_format_video_model_children(VrtFmt *f, const VrtDomainVideoDef *v);
/* <graphics type='sdl|egl-headless|dbus'> (domain_devices_misc.c) */
bool vrt_parse_graphics_local(xmlNodePtr node, VrtDomainGraphicsDef *g, GError **error);
void vrt_format_graphics_local(VrtFmt *f, const VrtDomainGraphicsDef *g);
/* <graphics type='vnc|spice'> (domain_graphics_spice.c) */
bool vrt_parse_graphics_remote(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainGraphicsDef *g, GError **error);
void vrt_format_graphics_remote(VrtFmt *f, const VrtDomainGraphicsDef *g);
bool vrt_validate_graphics_audio(const VrtDomainDef *def, GError **error);
/* chardev backends, <log> and guestfwd targets (domain_chr_spice.c):
 * a child of a chardev, 1 when it was its, 0 when not, -1 on error */
int vrt_parse_chr_child_extra(xmlNodePtr c, VrtDomainChrDef *chr, guint *n_sources, guint *n_logs, GError **error);
bool vrt_parse_chr_guestfwd_target(xmlNodePtr c, VrtDomainChrDef *chr, GError **error);
void vrt_format_chr_extra_source(VrtFmt *f, const VrtDomainChrDef *chr);
void vrt_format_chr_log(VrtFmt *f, const VrtDomainChrDef *chr);
/* <input type='passthrough|evdev'>'s <source> (domain_input_evdev.c) */
bool vrt_parse_input_source(xmlNodePtr src, VrtDomainInputDef *in, GError **error);
void vrt_format_input_source(VrtFmt *f, const VrtDomainInputDef *in);
/* egl-headless pairs only with VNC and SPICE (libvirt's QEMU validation);
 * a sound card's <audio id=> names an <audio>. */
bool vrt_validate_misc_devices(const VrtDomainDef *def, GError **error);
void vrt_format_panics(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_hubs(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_usb_hostdevs(VrtFmt *f, const VrtDomainDef *def);
void vrt_usb_chr_format_source(VrtFmt *f, const VrtDomainRedirdevDef *r);
void vrt_format_smartcards(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_subsys_hostdevs(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_redirdevs(VrtFmt *f, const VrtDomainDef *def); /* and <redirfilter> */
void vrt_format_shmems(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_sysinfos(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_vsock(VrtFmt *f, const VrtDomainDef *def);
/* A device's boot order, alias and address, as every device ends
 * (domain_format_dev.c), and whether it writes anything. */
void vrt_format_device_info(VrtFmt *f, const VrtDomainDeviceInfo *info);
bool vrt_device_info_has_content(const VrtFmt *f, const VrtDomainDeviceInfo *info);
void vrt_format_memory_backing(VrtFmt *f, const VrtDomainMemDef *mem);
void vrt_format_seclabels(VrtFmt *f, const VrtDomainDef *def);
void vrt_format_launch_security(VrtFmt *f, const VrtDomainDef *def); /* domain_launch_security.c */
/* Whether a device's labels write anything in this view (its <source>
 * then gets children). */
bool vrt_dev_seclabels_shown(const VrtFmt *f, const GPtrArray *labels);
void vrt_format_dev_seclabels(VrtFmt *f, const GPtrArray *labels);

/* True when an alias is shown in this view: runtime aliases only in live
 * and status views, user aliases ("ua-") always. */
bool vrt_alias_visible(const char *alias, guint flags);

/* ---- defaults libvirt fills after parsing (domain_defaults.c) ------- */

/* Adds what libvirt's QEMU driver adds to a parsed definition (implicit
 * inputs, audio, video and CPU defaults, disk driver); idempotent. */
void vrt_domain_def_fill_defaults(VrtDomainDef *def);
/* Inserts a controller where libvirt's insertion puts it (by type and
 * index, a USB master before its companions). */
void vrt_domain_controller_insert(VrtDomainDef *def, VrtDomainControllerDef *c);

/* libvirt's checks of a whole definition (domain_validate.c): duplicate
 * host devices, xHCI port limits, USB companions without a master, shared
 * qcow2 disks; false with libvirt's error. */
bool vrt_domain_def_validate(const VrtDomainDef *def, GError **error);
