/*
 * The QEMU command line for a domain definition: safe defaults, the QMP
 * socket, and one -device per XML device with id= equal to its alias so
 * that QEMU's device list and the domain's lists can be compared.
 */
#pragma once

#include "conf/domain/domain_conf.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

typedef struct {
    const char *emulator; /* resolved binary path */
    const char *machine; /* canonical machine name ("pc-q35-7.2") */
    const char *monitor_path; /* QMP socket path */
    int monitor_fd; /* > 2: QEMU inherits the QMP socket, bound and listening at
                               * monitor_path, as this descriptor; else QEMU binds it */
    const char *pidfile; /* NULL: none */
    bool sandbox; /* QEMU's seccomp sandbox, libvirt's -sandbox options */
    /* interface alias -> the descriptor (its number, as text) of the tap
     * vrtd opened for it and QEMU inherits: that interface's netdev is
     * "tap" with fd=; NULL or an alias not in it: as without */
    GHashTable *tap_fds;
    /* file chardev path -> the descriptor (its number, as text) vrtd opened
     * it as and QEMU inherits: passed with -add-fd; a unix chardev's path in
     * bind mode -> the listening socket vrtd bound there, passed as fd=;
     * NULL or a path not in it: QEMU opens the path itself */
    GHashTable *file_fds;
    const char *incoming; /* -incoming's value: "defer" for a restore (qemu_save.c) or a migration's
                           * destination (qemu_migration.c); NULL: none */
    GHashTable *disk_secrets; /* target dev -> file holding its LUKS passphrase (0600, run dir); may be NULL */
    const char *module_dir; /* QEMU's loadable modules (audio backends); NULL: VRT_QEMU_MODULE_DIR */
    /* where <memoryBacking><source type='file'/> puts the guest's memory
     * files (one per backend, named by its id), libvirt's memory_backing_dir
     * for the domain; NULL: such a domain is refused */
    const char *memory_dir;
    /* scsi_host hostdev alias -> the descriptor (its number, as text) of
     * /dev/vhost-scsi vrtd opened for it and QEMU inherits; NULL or an
     * alias not in it: the start is refused as the host lacks vhost-scsi */
    GHashTable *vhost_scsi_fds;
    /* scsi hostdev alias -> the host's SCSI generic node of its LUN
     * ("/dev/sg3"), looked up at start; NULL or an alias not in it: the
     * start is refused */
    GHashTable *scsi_sg_paths;
} VrtQemuCommandOptions;

/* argv (NULL-terminated) for def, which must have aliases and addresses
 * assigned. Errors: VIR_ERR_CONFIG_UNSUPPORTED naming what cannot be run
 * (e.g. spice, an interface of type network without its allocated port). */
GStrv vrt_qemu_command_build(const VrtDomainDef *def, const VrtQemuCommandOptions *opts, GError **error);

/* value with each comma doubled, as QEMU's key=value options (-name,
 * -chardev, -vnc, ...) read a single comma as the end of the value. */
char *vrt_qemu_command_escape(const char *value);

/* -audiodev of one <audio> (qemu_audio.c): id "audio<id>". */
JsonObject *vrt_qemu_command_audiodev_props(const VrtDomainAudioDef *a);
/* id, bus/addr and bootindex of a -device from the device's info. */
void vrt_qemu_command_device_info(const VrtDomainDef *def, JsonObject *props, const VrtDomainDeviceInfo *info);
/* The -device objects (JsonObject*, appended to devices) of the sound
 * cards and their codecs, and of the ISA panic devices
 * (qemu_command_misc.c); a sound model QEMU lacks is refused by name. */
bool vrt_qemu_command_sound_devices(const VrtDomainDef *def, GPtrArray *devices, GError **error);
bool vrt_qemu_command_panic_devices(const VrtDomainDef *def, GPtrArray *devices);
/* The vhost-vsock-pci -device of def's <vsock> (NULL when the host has
 * no vhost_path, normally /dev/vhost-vsock, or no CID is given: refused
 * by name, VIR_ERR_CONFIG_UNSUPPORTED). */
JsonObject *vrt_qemu_command_vsock_device(const VrtDomainDef *def, const char *vhost_path, GError **error);
/* The usb-hub -device of each <hub> on its controller's bus and port. */
void vrt_qemu_command_hub_devices(const VrtDomainDef *def, GPtrArray *devices);
/* Refuses a USB <hostdev> or a <redirdev> by name (qemu_command_usbdev.c,
 * VIR_ERR_CONFIG_UNSUPPORTED). */
bool vrt_qemu_command_usbdev_refuse(const VrtDomainDef *def, GError **error);
/* Refuses a display other than VNC by name (VIR_ERR_CONFIG_UNSUPPORTED). */
bool vrt_qemu_command_graphics_refuse(const VrtDomainGraphicsDef *g, GError **error);
/* What of a VNC display QEMU cannot be given as vrtd runs it: a socket or
 * network listen, an automatic websocket port (qemu_command_misc.c) */
bool vrt_qemu_command_vnc_check(const VrtDomainGraphicsDef *g, GError **error);
/* QEMU's share= value of a VNC sharePolicy */
const char *vrt_qemu_command_vnc_share(const VrtDomainGraphicsDef *g);
/* A chardev vrtd reads but does not start (a SPICE, vc, pipe, vdagent or
 * dbus backend, a <log>, a guestfwd channel), refused by name */
bool vrt_qemu_command_chr_check(const VrtDomainChrDef *chr, GError **error);
/* Refuses a video <acceleration> QEMU here cannot give (virgl needs OpenGL
 * and a DRM render node; QEMU has no 2D acceleration switch). */
bool vrt_qemu_command_video_check(const VrtDomainVideoDef *v, GError **error);
/* Whether a Hyper-V <panic> asks for the hv-crash CPU flag. */
bool vrt_qemu_command_hyperv_panic(const VrtDomainDef *def);
/* Debian's QEMU module directory, where its loadable backends live. */
#define VRT_QEMU_MODULE_DIR "/usr/lib/x86_64-linux-gnu/qemu"
/* Whether QEMU has a's backend: pulseaudio, sdl, jack and coreaudio are
 * modules, looked for in module_dir (NULL: VRT_QEMU_MODULE_DIR); refused
 * with VIR_ERR_CONFIG_UNSUPPORTED naming the type when missing. */
bool vrt_qemu_command_audio_check(const VrtDomainAudioDef *a, const char *module_dir, GError **error);

/* The QEMU accelerator for a domain type: "kvm" or "tcg". */
const char *vrt_qemu_command_accel(const VrtDomainDef *def);

/* The name of the netdev backing an interface: "host" + alias. */
char *vrt_qemu_command_netdev_id(const VrtDomainNetDef *net);

/* netdev_add / device_add arguments for hotplugging an emulated interface
 * (user, bridge, ethernet, network with an actual bridge). */
JsonObject *vrt_qemu_command_netdev_props(const VrtDomainNetDef *net, GError **error);
/* The netdev of an interface backed by a tap vrtd opened: type "tap" with
 * fd (a number QEMU inherited, or the name a getfd gave it). */
JsonObject *vrt_qemu_command_netdev_props_tap_fd(const VrtDomainNetDef *net, const char *fd, GError **error);
JsonObject *vrt_qemu_command_net_device_props(const VrtDomainDef *def, const VrtDomainNetDef *net, GError **error);
/* vfio-pci of a standalone <hostdev type='pci'>, with failover_pair_id
 * when it is the transient half of a teaming pair. */
JsonObject *vrt_qemu_command_hostdev_device_props(const VrtDomainDef *def, const VrtDomainHostdevDef *h);
/* An interface with a <virtualport>: VIR_ERR_CONFIG_UNSUPPORTED naming it
 * (vrt sets up no such port); run before anything is prepared at start */
bool vrt_qemu_command_net_vport_check(const VrtDomainNetDef *net, GError **error);

/* What QEMU needs for one disk, for the command line and for hotplug
 * alike: the LUKS secret object (NULL: none), the block nodes in the
 * order they are created (storage "vrt-N-storage", format "vrt-N-format",
 * then libvirt's copy-on-read layer) and the device. */
typedef struct {
    JsonObject *secret;
    JsonObject *auth; /* a network disk's <auth> secret object, NULL: none */
    GPtrArray *blockdevs; /* JsonObject* */
    JsonObject *device;
} VrtQemuDiskProps;

/* Fills out (always: clear it with vrt_qemu_disk_props_clear) for disk of
 * def, its nodes numbered n. disk_secrets: as VrtQemuCommandOptions.
 * Errors: VIR_ERR_CONFIG_UNSUPPORTED naming what QEMU cannot be given. */
bool vrt_qemu_command_disk_props(const VrtDomainDef *def, const VrtDomainDiskDef *disk, guint n,
                                 GHashTable *disk_secrets, VrtQemuDiskProps *out, GError **error);
void vrt_qemu_disk_props_clear(VrtQemuDiskProps *p);
