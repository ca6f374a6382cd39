/*
 * libvirt's domain XML as C structs: parsing (with validation), formatting
 * (inactive, live and status views), copying, address and alias assignment,
 * device XML for attach/detach, and the bookkeeping that keeps an interface
 * and the host device standing in for it (SR-IOV) linked in both lists.
 * This layer knows nothing of QEMU processes: the qemu driver fills the
 * runtime parts (id, aliases, actual network data) and asks for formats.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/bandwidth.h"
#include "conf/domain/domain_disk_driver.h"
#include "conf/domain/domain_disk_source.h"
#include "conf/domain/domain_features.h"
#include "conf/domain/domain_memory.h"
#include "conf/domain/domain_net_driver.h"
#include "conf/domain/domain_disk_geometry.h"
#include "conf/domain/domain_disk_ident.h"
#include "conf/domain/domain_disk_iotune.h"
#include "conf/domain/domain_disk_startup.h"
#include "conf/domain/domain_net_ethernet.h"
#include "conf/domain/domain_net_socket.h"
#include "conf/domain/domain_net_vport.h"
#include "conf/domain/domain_os.h"
#include "conf/domain/domain_virtio.h"
#include "util/mac.h"
#include "util/pciaddr.h"
#include "util/tristate.h"
#include "util/uuid.h"

/* ---- flags for parse and format ------------------------------------- */

/* Format: the persistent view (no id, no runtime aliases other than
 * user aliases "ua-*", no actual network data, no live pty paths, no
 * autoport graphics port). Parse: same as 0 (runtime data is ignored). */
#define VRT_DOMAIN_XML_INACTIVE (1u << 0)
/* Format: include secrets (graphics passwords). */
#define VRT_DOMAIN_XML_SECURE (1u << 1)
/* Format: everything the daemon needs to rebuild its state (live view plus
 * <actual> network data, port uuids, the interface<->hostdev link).
 * Parse: read all of that back (runtime data is otherwise ignored).
 * Status XML is not meant to validate against domain.rng (<actual>). */
#define VRT_DOMAIN_XML_STATUS (1u << 2)

/* ---- enums ------------------------------------------------------------ */

typedef enum {
    VRT_DOMAIN_VIRT_QEMU = 0,
    VRT_DOMAIN_VIRT_KVM,
} VrtDomainVirtType;

typedef enum {
    VRT_DOMAIN_LIFECYCLE_DESTROY = 0,
    VRT_DOMAIN_LIFECYCLE_RESTART,
    VRT_DOMAIN_LIFECYCLE_PRESERVE,
    VRT_DOMAIN_LIFECYCLE_RENAME_RESTART,
    VRT_DOMAIN_LIFECYCLE_COREDUMP_DESTROY,
    VRT_DOMAIN_LIFECYCLE_COREDUMP_RESTART,
} VrtDomainLifecycleAction;

typedef enum {
    VRT_DOMAIN_BOOT_HD = 0,
    VRT_DOMAIN_BOOT_CDROM,
    VRT_DOMAIN_BOOT_NETWORK,
    VRT_DOMAIN_BOOT_FD,
} VrtDomainBootDev;

/* Bits of VrtDomainDef.features */
typedef enum {
    VRT_DOMAIN_FEATURE_ACPI = 1u << 0,
    VRT_DOMAIN_FEATURE_APIC = 1u << 1,
    VRT_DOMAIN_FEATURE_PAE = 1u << 2,
} VrtDomainFeature;

typedef enum {
    VRT_DOMAIN_CPU_MODE_NONE = 0, /* no <cpu> element */
    VRT_DOMAIN_CPU_MODE_HOST_PASSTHROUGH,
    VRT_DOMAIN_CPU_MODE_HOST_MODEL,
    VRT_DOMAIN_CPU_MODE_MAXIMUM,
    VRT_DOMAIN_CPU_MODE_CUSTOM, /* a named model (e.g. qemu64) and/or topology */
} VrtDomainCpuMode;

/* <cpu><feature policy= name=/> */
typedef struct {
    char *policy; /* "force", "require", "optional", "disable", "forbid" */
    char *name;
} VrtDomainCpuFeature;

/* One direction (<input>/<output>) of an <audio> backend: the common
 * settings, and those of the ALSA and OSS backends (0/NULL/DEFAULT: not
 * written). */
typedef struct {
    VrtTristate mixing_engine;
    VrtTristate fixed_settings;
    guint voices;
    guint buffer_length;
    guint frequency; /* <settings>, only with fixedSettings='yes' */
    guint channels;
    char *format; /* "u8", "s8", "u16", "s16", "u32", "s32", "f32" */
    char *dev; /* alsa, oss */
    guint buffer_count; /* oss, sdl, coreaudio */
    VrtTristate try_poll; /* oss */
    char *name, *stream_name; /* pulseaudio */
    guint latency; /* pulseaudio */
    char *server_name, *client_name, *connect_ports; /* jack */
    VrtTristate exact_name; /* jack */
} VrtDomainAudioIO;

/* <audio id= type=>: libvirt 9 adds one ('none', or 'spice' with spice
 * graphics) to every qemu domain; each becomes a QEMU -audiodev
 * (domain_audio.c reads and writes it). */
typedef struct {
    guint id; /* 1..255 */
    char *type; /* "none", "alsa", "oss", "file", "spice", "pulseaudio", "sdl", "jack", "coreaudio" */
    guint timer_period; /* microseconds, 0: QEMU's default */
    VrtDomainAudioIO input;
    VrtDomainAudioIO output;
    VrtTristate try_mmap; /* oss */
    VrtTristate exclusive; /* oss */
    bool dsp_policy_set; /* oss */
    int dsp_policy;
    char *path; /* file: the WAV file QEMU writes */
    char *server_name; /* pulseaudio: serverName= */
    char *sdl_driver; /* sdl: driver= ("esd", "alsa", "arts", "pulseaudio") */
} VrtDomainAudioDef;

typedef enum {
    VRT_DOMAIN_CLOCK_UTC = 0,
    VRT_DOMAIN_CLOCK_LOCALTIME,
    VRT_DOMAIN_CLOCK_VARIABLE, /* adjustment seconds from basis */
    VRT_DOMAIN_CLOCK_TIMEZONE, /* the named zone's local time */
    VRT_DOMAIN_CLOCK_ABSOLUTE, /* from start (seconds since the epoch) at each start */
} VrtDomainClockOffset;

typedef enum {
    VRT_DEVICE_ADDRESS_NONE = 0,
    VRT_DEVICE_ADDRESS_PCI,
    VRT_DEVICE_ADDRESS_DRIVE,
    VRT_DEVICE_ADDRESS_VIRTIO_SERIAL,
    VRT_DEVICE_ADDRESS_USB,
} VrtDeviceAddressType;

/* ---- addresses and per-device info --------------------------------- */

typedef struct {
    guint controller;
    guint bus;
    guint target;
    guint unit;
} VrtDriveAddress;

typedef struct {
    guint controller;
    guint bus;
    guint port;
} VrtVirtioSerialAddress;

typedef struct {
    guint bus;
    char *port; /* "1" or "1.2" */
} VrtUsbAddress;

/* What every device carries. The address is present when
 * type != VRT_DEVICE_ADDRESS_NONE and then the member of that type holds it
 * (the PCI address is "present" when type == VRT_DEVICE_ADDRESS_PCI). */
typedef struct {
    char *alias; /* "net0", "ua-foo", ...; NULL when unassigned */
    VrtDeviceAddressType type;
    VrtPciAddr pci;
    VrtDriveAddress drive;
    VrtVirtioSerialAddress vserial;
    VrtUsbAddress usb;
    guint boot_order; /* <boot order='N'/>, 0 = none */
    VrtDeviceRom rom; /* <rom>: interfaces and PCI host devices only */
} VrtDomainDeviceInfo;

/* ---- devices --------------------------------------------------------- */

typedef enum {
    VRT_DOMAIN_DISK_TYPE_FILE = 0,
    VRT_DOMAIN_DISK_TYPE_BLOCK,
    VRT_DOMAIN_DISK_TYPE_VOLUME, /* <source pool= volume=>: a storage pool's volume */
    VRT_DOMAIN_DISK_TYPE_NETWORK, /* <source protocol=...>: net below (domain_disk_source.h) */
} VrtDomainDiskType;

typedef enum {
    VRT_DOMAIN_DISK_DEVICE_DISK = 0,
    VRT_DOMAIN_DISK_DEVICE_CDROM,
    VRT_DOMAIN_DISK_DEVICE_FLOPPY, /* on the fdc bus: QEMU's floppy device */
} VrtDomainDiskDevice;

typedef enum {
    VRT_DOMAIN_DISK_BUS_VIRTIO = 0,
    VRT_DOMAIN_DISK_BUS_SATA,
    VRT_DOMAIN_DISK_BUS_SCSI,
    VRT_DOMAIN_DISK_BUS_IDE,
    VRT_DOMAIN_DISK_BUS_FDC, /* the ISA floppy controller, 2 units */
    VRT_DOMAIN_DISK_BUS_USB, /* QEMU's usb-storage on a port of USB controller 0 */
    VRT_DOMAIN_DISK_BUS_SD, /* an SD card: no x86 machine has the slot (refused at start) */
} VrtDomainDiskBus;

typedef enum {
    VRT_DOMAIN_DISK_FORMAT_NONE = 0, /* no <driver type=...> */
    VRT_DOMAIN_DISK_FORMAT_RAW,
    VRT_DOMAIN_DISK_FORMAT_QCOW2,
} VrtDomainDiskFormat;

/* <seclabel> of a domain (domain_seclabel.c): libvirt's security label
 * of one security model ("dac", "none", "selinux", "apparmor"). */
typedef enum {
    VRT_SECLABEL_DYNAMIC = 0,
    VRT_SECLABEL_STATIC,
    VRT_SECLABEL_NONE,
} VrtSecLabelType;

typedef struct {
    char *model; /* NULL only while parsing */
    VrtSecLabelType type;
    bool relabel;
    char *label; /* dac: "+UID:+GID" or "user:group" */
    char *imagelabel; /* live: the owner given to images */
    char *baselabel;
    bool implicit; /* added by the driver at start, not written by the user */
} VrtSecLabelDef;

/* <seclabel> inside a disk's or a character device's <source>. */
typedef struct {
    char *model; /* NULL: every model */
    bool relabel; /* false: this file keeps its owner */
    bool labelskip; /* live only */
    char *label;
} VrtSecDevLabelDef;

typedef struct {
    VrtDomainDiskType type;
    VrtDomainDiskDevice device;
    VrtDomainDiskFormat format;
    char *driver_name; /* "qemu" or NULL */
    char *cache; /* driver cache=, NULL = default */
    char *src; /* file/block path; NULL: empty cdrom; volume: its file once resolved (runtime) */
    char *src_pool; /* volume: <source pool=> */
    char *src_volume; /* volume: <source volume=> */
    char *target_dev; /* "vda", "sda", ... (required) */
    VrtDomainDiskBus bus;
    bool readonly;
    bool shareable;
    char *serial;
    /* <encryption format='luks'><secret type='passphrase' uuid=.../>: the
     * image is a LUKS-encrypted qcow2 whose passphrase is that secret's value. */
    char *encryption_format; /* "luks" or NULL */
    char *encryption_secret; /* the secret's UUID as written, NULL when none */
    VrtDomainDeviceInfo info;
    VrtDomainDiskDriverTuning tuning; /* <driver error_policy= io= discard= ...> (domain_disk_driver.c) */
    VrtDiskNetSource *net; /* type NETWORK: protocol, hosts, auth; NULL otherwise */
    GPtrArray *seclabels; /* VrtSecDevLabelDef* of <source>; NULL = none */
    VrtDiskIdent ident; /* tray, rotation_rate, <wwn>, <vendor>, <product> (domain_disk_ident.c) */
    VrtDiskIotune iotune; /* <iotune> (domain_disk_iotune.c) */
    VrtDiskGeometry geometry; /* <geometry>, <blockio> (domain_disk_geometry.c) */
    VrtDiskStartupPolicy startup_policy; /* <source startupPolicy=> (domain_disk_startup.c) */
} VrtDomainDiskDef;

typedef enum {
    VRT_DOMAIN_CONTROLLER_PCI = 0,
    VRT_DOMAIN_CONTROLLER_USB,
    VRT_DOMAIN_CONTROLLER_SCSI,
    VRT_DOMAIN_CONTROLLER_SATA,
    VRT_DOMAIN_CONTROLLER_IDE,
    VRT_DOMAIN_CONTROLLER_VIRTIO_SERIAL,
    VRT_DOMAIN_CONTROLLER_FDC, /* the ISA floppy controller: built into pc, isa-fdc on q35 */
    VRT_DOMAIN_CONTROLLER_CCID, /* a USB smartcard reader, the <smartcard>s' bus (domain_smartcard.c) */
} VrtDomainControllerType;

typedef struct {
    VrtDomainControllerType type;
    guint index;
    /* model= as written: pci: "pci-root", "pcie-root", "pcie-root-port",
     * "pci-bridge", "dmi-to-pci-bridge", "pcie-to-pci-bridge",
     * "pcie-switch-upstream-port", "pcie-switch-downstream-port",
     * "pci-expander-bus", "pcie-expander-bus";
     * usb: "qemu-xhci", "nec-xhci", "piix3-uhci", "ich9-ehci1", "none", ...;
     * scsi: "virtio-scsi", "lsilogic", "lsisas1068", "lsisas1078". NULL when absent. */
    char *model;
    char *model_name; /* pci <model name='pcie-root-port'/> */
    int chassis; /* pci <target chassis=>, -1 = unset */
    int port; /* pci <target port=>, -1 = unset */
    /* pci <target chassisNr=> (pci-bridge) and busNr= (the expander
     * buses): both start at 1, so 0 = unset; <target hotplug=>, and the
     * expander bus's <target><node> when numa_node_set
     * (domain_pci_topology.c) */
    guint chassis_nr;
    guint bus_nr;
    VrtTristate hotplug;
    bool numa_node_set;
    guint numa_node;
    int ports; /* usb ports=, -1 = unset */
    /* usb <master startport=>: a USB1 companion (ich9-uhci1..3) of the
     * ich9-ehci1 with the same index, its ports from this one; -1 = none */
    int master_startport;
    /* <driver>: queues, cmd_per_lun, max_sectors, ioeventfd and iothread
     * (virtio-scsi only, 0 = unset) and the virtio transport options */
    guint driver_queues;
    /* pci-root/pcie-root <pcihole64>: the 64-bit PCI hole's size in KiB,
     * when pcihole64_set (QEMU's pci-hole64-size of the host bridge) */
    bool pcihole64_set;
    guint64 pcihole64_kib;
    /* virtio-serial vectors= (MSI-X vectors), when vectors_set */
    bool vectors_set;
    guint vectors;
    guint cmd_per_lun;
    guint max_sectors;
    VrtTristate ioeventfd;
    guint iothread;
    VrtVirtioOptions virtio;
    VrtDomainDeviceInfo info;
} VrtDomainControllerDef;

typedef enum {
    VRT_DOMAIN_NET_TYPE_USER = 0,
    VRT_DOMAIN_NET_TYPE_NETWORK,
    VRT_DOMAIN_NET_TYPE_BRIDGE,
    VRT_DOMAIN_NET_TYPE_ETHERNET,
    VRT_DOMAIN_NET_TYPE_HOSTDEV,
    /* QEMU's socket netdev: listen=, connect=, mcast=, udp= */
    VRT_DOMAIN_NET_TYPE_SERVER,
    VRT_DOMAIN_NET_TYPE_CLIENT,
    VRT_DOMAIN_NET_TYPE_MCAST,
    VRT_DOMAIN_NET_TYPE_UDP,
} VrtDomainNetType;

#define VRT_DOMAIN_NET_MAX_VLAN_TAGS 8
#define VRT_DOMAIN_NET_AUTO_IFNAME_PREFIX "vnet"

typedef struct _VrtDomainHostdevDef VrtDomainHostdevDef;
typedef struct _VrtDomainNetDef VrtDomainNetDef;

typedef enum {
    VRT_DOMAIN_NET_TEAMING_NONE = 0,
    VRT_DOMAIN_NET_TEAMING_PERSISTENT,
    VRT_DOMAIN_NET_TEAMING_TRANSIENT,
} VrtDomainNetTeaming;

/* What the network driver allocated for an interface of type 'network'
 * (a network port). Present when set == true. */
typedef struct {
    bool set;
    /* NETWORK: a bridge the network driver manages (NAT/route/open
     * networks, libvirt shows type='network' with bridge=); BRIDGE: a
     * host bridge (forward mode bridge); HOSTDEV: a VF from a pool. */
    VrtDomainNetType type;
    char *bridge; /* NETWORK/BRIDGE: bridge name */
    VrtPciAddr hostdev_addr; /* type HOSTDEV: the VF */
    bool managed; /* type HOSTDEV */
    guint vlan_tags[VRT_DOMAIN_NET_MAX_VLAN_TAGS];
    guint n_vlan_tags;
    /* the <bandwidth> in effect: the interface's own, else its portgroup's */
    VrtBandwidth bandwidth;
    /* <port isolated=> in effect: the interface's own, else its network's */
    VrtTristate port_isolated;
} VrtDomainNetActual;

struct _VrtDomainNetDef {
    VrtDomainNetType type;
    guint8 mac[6];
    bool mac_set; /* false until given or assigned */
    char *model; /* "virtio", "e1000", "e1000e", "rtl8139"; NULL */
    char *source_network; /* type NETWORK: network name */
    char *portgroup; /* type NETWORK: optional */
    char *source_bridge; /* type BRIDGE */
    /* <target dev=>: tap name. Names starting with "vnet" are the
     * driver's to generate: runtime only (dropped from definitions). */
    char *ifname;
    char *driver_name; /* <driver name='vhost|qemu'>, NULL */
    guint driver_queues; /* 0 = unset */
    VrtNetDriverOpts driver; /* the rest of <driver>, virtio models only */
    VrtTristate link_up; /* <link state='up|down'/> */
    guint mtu; /* 0 = unset */
    /* <vlan><tag id=/></vlan>; trunk when more than one or vlan_trunk */
    guint vlan_tags[VRT_DOMAIN_NET_MAX_VLAN_TAGS];
    guint n_vlan_tags;
    bool vlan_trunk;
    VrtBandwidth bandwidth; /* <bandwidth>, type NETWORK and BRIDGE */
    VrtTristate port_isolated; /* <port isolated=>: the tap's bridge port isolated */
    /* <teaming type= persistent=>: a failover pair, the virtio interface
     * (persistent, QEMU's failover=on) and the VF standing in for it while
     * the guest is not migrating (transient, failover_pair_id= the
     * persistent one's alias, teaming_persistent) */
    VrtDomainNetTeaming teaming;
    char *teaming_persistent;
    /* type HOSTDEV: managed= and the VF's PCI address */
    bool managed;
    VrtPciAddr hostdev_source;
    VrtNetSocketSource socket; /* types SERVER, CLIENT, MCAST, UDP */
    VrtNetHostSide host; /* <script>, <target managed='no'>, host <ip>/<route>, <backend> */
    VrtNetVport vport; /* <virtualport> (types NETWORK, BRIDGE, HOSTDEV) */
    /* type NETWORK, filled by the driver (port allocated). */
    VrtDomainNetActual actual;
    guint8 port_uuid[16]; /* network port uuid (status only) */
    bool port_uuid_set;
    /* When the (actual) type is HOSTDEV: the host device standing in for
     * this interface. Owned by the interface; also listed (not owned) in
     * VrtDomainDef.hostdevs; hostdev->parent_net points back here. */
    VrtDomainHostdevDef *hostdev;
    VrtDomainDeviceInfo info;
};

/* <hostdev mode='subsystem' type='pci'> (the other subsystem types are
 * VrtDomainUsbHostdevDef and VrtDomainSubsysHostdevDef). */
struct _VrtDomainHostdevDef {
    bool managed;
    VrtPciAddr source; /* host PCI address */
    char *driver_name; /* <driver name='vfio'/>, NULL */
    /* Always use info: it points at own_info for a standalone hostdev and
     * at parent_net->info for one that stands in for an interface (one
     * device, one alias, one guest address). */
    VrtDomainDeviceInfo *info;
    VrtDomainDeviceInfo own_info;
    VrtDomainNetDef *parent_net; /* back pointer, not owned; NULL if standalone */
    /* A standalone hostdev's own <teaming type='transient' persistent=>:
     * the VF standing in for the virtio interface of alias
     * teaming_persistent (QEMU's failover_pair_id). TRANSIENT or NONE; one
     * standing in for an interface has its parent_net's instead. */
    VrtDomainNetTeaming teaming;
    char *teaming_persistent;
};

typedef enum {
    VRT_DOMAIN_CHR_DEVICE_SERIAL = 0,
    VRT_DOMAIN_CHR_DEVICE_CONSOLE,
    VRT_DOMAIN_CHR_DEVICE_CHANNEL,
    VRT_DOMAIN_CHR_DEVICE_PARALLEL, /* QEMU's isa-parallel on its chardev */
} VrtDomainChrDeviceType;

typedef enum {
    VRT_DOMAIN_CHR_TYPE_PTY = 0,
    VRT_DOMAIN_CHR_TYPE_FILE,
    VRT_DOMAIN_CHR_TYPE_UNIX,
    VRT_DOMAIN_CHR_TYPE_TCP,
    VRT_DOMAIN_CHR_TYPE_UDP,
    VRT_DOMAIN_CHR_TYPE_NULL,
    VRT_DOMAIN_CHR_TYPE_STDIO,
    /* read and written, refused at start (domain_chr_spice.c) */
    VRT_DOMAIN_CHR_TYPE_VC,
    VRT_DOMAIN_CHR_TYPE_PIPE,
    VRT_DOMAIN_CHR_TYPE_SPICEVMC,
    VRT_DOMAIN_CHR_TYPE_SPICEPORT,
    VRT_DOMAIN_CHR_TYPE_QEMU_VDAGENT,
    VRT_DOMAIN_CHR_TYPE_DBUS,
    /* a host device node (<source path='/dev/ttyS0'/>): QEMU's serial
     * backend, or parallel for a parallel port */
    VRT_DOMAIN_CHR_TYPE_DEV,
} VrtDomainChrType;

typedef struct {
    VrtDomainChrDeviceType devtype;
    VrtDomainChrType type;
    /* file, dev: path; unix: socket path (a listening channel may leave it
     * NULL for the driver to choose); pty: the live pty (runtime, NULL
     * until the driver knows it) */
    char *path;
    bool listen; /* unix, tcp: mode='bind' (true) or 'connect' */
    VrtTristate append; /* file: append= */
    /* tcp: the address QEMU connects to or listens on; udp: the remote
     * end (<source mode='connect'>) */
    char *host;
    char *service;
    /* udp: the local end (<source mode='bind'>) */
    char *bind_host;
    char *bind_service;
    bool telnet; /* tcp: <protocol type='telnet'> (else 'raw') */
    VrtTristate tls; /* tcp: tls= (only 'no' is supported) */
    /* <target>: serial: type "isa-serial"/"pci-serial"/..., port;
     * console: type "serial"/"virtio", port; channel: type "virtio",
     * name (e.g. "org.qemu.guest_agent.0"). */
    char *target_type;
    int target_port; /* -1 = unset */
    char *target_name;
    char *target_model; /* serial <model name=> */
    VrtDomainDeviceInfo info;
    /* serial, console: <address type='isa' iobase= irq=> (instead of an
     * address of info; 0 = not given) */
    bool isa_addr;
    guint isa_iobase, isa_irq;
    GPtrArray *seclabels; /* VrtSecDevLabelDef* of <source>; NULL = none */
    /* domain_chr_spice.c */
    char *channel; /* spiceport, dbus: <source channel=> */
    VrtTristate vdagent_clipboard; /* qemu-vdagent: <clipboard copypaste=> */
    int vdagent_mouse; /* qemu-vdagent: <mouse mode=>: 0 none, 1 server, 2 client */
    char *log_file; /* <log file=>, NULL = none */
    VrtTristate log_append; /* <log append=> (on/off) */
    char *guestfwd_addr; /* channel <target type='guestfwd' address=> (IPv4); port in target_port */
} VrtDomainChrDef;

typedef struct {
    char *type; /* "tablet", "mouse", "keyboard", "passthrough", "evdev" */
    char *bus; /* "usb", "ps2", "virtio"; "none" for evdev (not written) */
    VrtVirtioOptions virtio; /* bus 'virtio' only */
    /* passthrough: <source evdev=>, evdev: <source dev= grab= grabToggle=
     * repeat=> (domain_input_evdev.c); refused at start */
    char *evdev;
    int grab, grab_toggle; /* indexes of libvirt's names, 0 = not given */
    VrtTristate repeat;
    VrtDomainDeviceInfo info;
} VrtDomainInputDef;

typedef enum {
    VRT_DOMAIN_GRAPHICS_VNC = 0,
    VRT_DOMAIN_GRAPHICS_SPICE,
    VRT_DOMAIN_GRAPHICS_SDL, /* read and written, refused at start (domain_devices_misc.c) */
    VRT_DOMAIN_GRAPHICS_EGL_HEADLESS, /* likewise */
    VRT_DOMAIN_GRAPHICS_DBUS, /* likewise */
} VrtDomainGraphicsType;

typedef struct {
    VrtDomainGraphicsType type;
    int port; /* -1 = autoport / unset */
    bool autoport;
    int tls_port; /* spice, -1 = unset */
    char *listen; /* listen address, NULL = default */
    char *passwd; /* only formatted with VRT_DOMAIN_XML_SECURE */
    char *keymap;
    /* <listen type='none'/>: no listener at all (VNC: QEMU's -vnc none,
     * reachable only through the monitor); no port, address or autoport */
    bool listen_none;
    /* sdl, egl-headless, dbus (domain_devices_misc.c) */
    char *display, *xauth; /* sdl */
    VrtTristate fullscreen; /* sdl */
    bool gl; /* a <gl> element */
    VrtTristate gl_enable; /* <gl enable=> (sdl, dbus) */
    char *gl_rendernode; /* <gl rendernode=> (egl-headless, dbus) */
    char *dbus_address; /* dbus: address= */
    VrtTristate dbus_p2p; /* dbus: p2p= */
    guint audio_id; /* vnc, dbus: <audio id=>, 0 = none */
    /* vnc and spice (domain_graphics_spice.c) */
    char *listen_network; /* <listen type='network' network=> */
    bool listen_socket; /* <listen type='socket'> */
    char *socket_path; /* its socket=, NULL = the driver's choice */
    int websocket; /* vnc: websocket= port, -1 = auto, 0 = none */
    int share_policy; /* vnc: sharePolicy=, index of its names, 0 = unset */
    VrtTristate power_control; /* vnc: powerControl= */
    /* spice: each an index of its names, 0 = not given (libvirt's any/default) */
    int default_mode;
    guint8 spice_channels[8]; /* mode of each <channel name=> */
    int image, jpeg, zlib, streaming, mouse_mode;
    VrtTristate playback, copypaste, filetransfer; /* playback is on/off */
} VrtDomainGraphicsDef;

typedef struct {
    char *model; /* "vga", "cirrus", "qxl", "virtio", "bochs", "none" */
    guint vram; /* KiB, 0 = unset */
    guint ram, vgamem; /* qxl only, KiB, 0 = unset */
    guint vram64; /* qxl only: the 64-bit BAR, KiB, 0 = unset */
    guint heads; /* 0 = unset */
    bool primary;
    VrtVirtioOptions virtio; /* model 'virtio' only */
    VrtDomainDeviceInfo info;
    /* <model><acceleration>, <resolution> (domain_devices_misc.c) */
    bool accel; /* an <acceleration> element */
    VrtTristate accel3d, accel2d;
    char *accel_rendernode;
    guint res_x, res_y; /* 0 = no <resolution> */
} VrtDomainVideoDef;

typedef struct {
    char *model; /* "virtio", "none" */
    VrtTristate autodeflate;
    VrtTristate free_page_reporting; /* freePageReporting= */
    guint stats_period; /* 0 = unset */
    VrtVirtioOptions virtio;
    VrtDomainDeviceInfo info;
} VrtDomainMemballoonDef;

typedef struct {
    char *model; /* "virtio" */
    char *backend_path; /* <backend model='random'>/dev/urandom</backend> */
    guint rate_bytes; /* 0 = unset */
    guint rate_period; /* 0 = unset */
    VrtVirtioOptions virtio;
    VrtDomainDeviceInfo info;
} VrtDomainRngDef;

typedef struct {
    char *model; /* "i6300esb", "ib700" (libvirt 9.0 has no itco) */
    char *action; /* "reset", "shutdown", "poweroff", "pause", "none", "dump", "inject-nmi"; NULL = default */
    VrtDomainDeviceInfo info;
} VrtDomainWatchdogDef;

/* ---- the domain ------------------------------------------------------ */

typedef struct {
    char *name; /* "rtc", "pit", "hpet", "kvmclock" */
    char *tickpolicy; /* NULL */
    VrtTristate present;
    char *track; /* rtc: "guest", "wall", "realtime"; NULL */
    guint64 frequency; /* <timer frequency=> in Hz (tsc: QEMU's tsc-frequency); 0 = none */
} VrtDomainTimerDef;

#define VRT_DOMAIN_MAX_BOOT_DEVS 4

typedef struct _VrtDomainDef {
    VrtDomainVirtType virt_type;
    int id; /* live id, -1 when not running; formatted
                              * as <domain id=> unless INACTIVE */
    char *name;
    guint8 uuid[16]; /* generated when absent */
    bool has_genid; /* <genid>: the VM generation ID, QEMU's vmgenid device */
    guint8 genid[16]; /* generated when <genid/> is empty, as libvirt */
    char *title;
    char *description;
    char *metadata; /* <metadata> kept verbatim (XML text), NULL */

    guint64 memory_kib; /* <memory> */
    VrtTristate dump_core; /* <memory dumpCore='on|off'> (QEMU's dump-guest-core; default off) */
    guint64 current_memory_kib; /* <currentMemory>; == memory_kib when absent */
    guint vcpus; /* <vcpu> */
    guint current_vcpus; /* <vcpu current=>; == vcpus when absent */
    char *vcpu_cpuset; /* <vcpu cpuset=>, canonical: the host CPUs of every unpinned vCPU and the emulator; NULL */

    struct {
        char *type; /* "hvm" (the only one accepted) */
        char *arch; /* "x86_64", "i686"; NULL = host default */
        char *machine; /* "q35", "pc", "pc-q35-7.2", ...; NULL */
        VrtDomainBootDev boot[VRT_DOMAIN_MAX_BOOT_DEVS];
        guint n_boot;
        VrtTristate bootmenu;
        int bootmenu_timeout; /* <bootmenu timeout=> ms, kept with enable='yes'; -1 = none */
        VrtTristate bios_useserial; /* <bios useserial=> */
        bool bios_reboot_set; /* <bios rebootTimeout=> given */
        int bios_reboot_timeout; /* ms, -1 = no reboot after a failed boot */
        char *kernel;
        char *initrd;
        char *cmdline;
        VrtDomainOsFirmwareDef fw; /* firmware=, <loader>, <nvram> (domain_os.h) */
    } os;

    guint features; /* VrtDomainFeature bits */
    VrtTristate vmport; /* <features><vmport state=> */
    VrtDomainFeaturesDef *feat; /* the other <features> (domain_features.h); NULL = none */

    struct {
        VrtDomainCpuMode mode;
        char *check; /* "none", "partial", "full", NULL */
        char *match; /* custom: "exact", "minimum", "strict", NULL */
        char *model; /* custom: QEMU/libvirt model name, NULL */
        char *fallback; /* <model fallback='allow|forbid'>, NULL */
        GPtrArray *features; /* VrtDomainCpuFeature* */
        VrtTristate migratable;
        guint sockets, dies, cores, threads; /* 0 = no <topology> */
        char *vendor_id; /* <model vendor_id=> (12 characters), custom and host-model; NULL */
        char *cache_mode; /* <cache mode=>: "emulate", "passthrough", "disable"; NULL = no <cache> */
        int cache_level; /* <cache level=> 1-3; -1 = not given */
        char *maxphys_mode; /* <maxphysaddr mode=>: "emulate", "passthrough"; NULL = none */
        int maxphys_bits; /* <maxphysaddr bits=>; -1 = not given */
    } cpu;

    struct {
        VrtDomainClockOffset offset;
        /* <timer name= tickpolicy= present=> */
        GPtrArray *timers; /* of VrtDomainTimerDef* */
        gint64 adjustment; /* variable: seconds */
        bool basis_localtime; /* variable: basis='localtime' */
        bool utc_reset; /* utc, localtime: adjustment='reset' */
        char *timezone; /* timezone: timezone= */
        guint64 start; /* absolute: start= */
    } clock;

    VrtDomainLifecycleAction on_poweroff; /* default destroy */
    VrtDomainLifecycleAction on_reboot; /* default restart */
    VrtDomainLifecycleAction on_crash; /* default destroy */

    struct {
        VrtTristate suspend_to_mem;
        VrtTristate suspend_to_disk;
    } pm;

    char *emulator;

    GPtrArray *disks; /* VrtDomainDiskDef* (owned) */
    GPtrArray *controllers; /* VrtDomainControllerDef* (owned) */
    GPtrArray *nets; /* VrtDomainNetDef* (owned) */
    GPtrArray *hostdevs; /* VrtDomainHostdevDef*: owned unless parent_net */
    GPtrArray *serials; /* VrtDomainChrDef* */
    GPtrArray *consoles; /* VrtDomainChrDef* */
    GPtrArray *parallels; /* VrtDomainChrDef*: <parallel> */
    GPtrArray *channels; /* VrtDomainChrDef* */
    GPtrArray *inputs; /* VrtDomainInputDef* */
    GPtrArray *graphics; /* VrtDomainGraphicsDef* */
    GPtrArray *audios; /* VrtDomainAudioDef* */
    GPtrArray *videos; /* VrtDomainVideoDef* */
    GPtrArray *rngs; /* VrtDomainRngDef* */
    VrtDomainMemballoonDef *memballoon; /* NULL = none written */
    VrtDomainWatchdogDef *watchdog; /* NULL = none */
    struct _VrtDomainTuneDef *tune; /* blkiotune, memtune, cputune, numatune (domain_tune.h); NULL = none */
    VrtDomainMemDef *mem; /* <cpu><numa>, <memoryBacking> (domain_memory.h); NULL = none */
    char *idmap; /* <idmap>'s entries as written (domain_idmap.c); NULL = none */
    guint iothreads; /* <iothreads>, 0 = none (domain_iothreads.c) */
    GArray *iothread_ids; /* guint: the ids <iothreadids> names; NULL = none */
    GPtrArray *qemu_args; /* <qemu:commandline><qemu:arg value=>: char*; NULL = none (domain_qemu_ns.c) */
    GPtrArray *qemu_env; /* <qemu:env>: name, value, name, value... (char*) */
    struct _VrtDomainIommuDef *iommu; /* <iommu model='intel'>, NULL = none (domain_iommu.c) */
    GPtrArray *tpms; /* VrtDomainTpmDef* (domain_tpm.c); NULL = none */
    GPtrArray *filesystems; /* VrtDomainFsDef* (domain_tpm.c); NULL = none */
    GPtrArray *seclabels; /* VrtSecLabelDef* (domain_seclabel.c); NULL = none */
    GPtrArray *sounds; /* VrtDomainSoundDef* (domain_devices_misc.c); NULL = none */
    GPtrArray *panics; /* VrtDomainPanicDef* (domain_devices_misc.c); NULL = none */
    struct VrtDomainLaunchSecurity *launch_security; /* <launchSecurity> (domain_launch_security.c); NULL */
    GPtrArray *hubs; /* VrtDomainHubDef* (domain_hub.c); NULL = none */
    GPtrArray *shmems; /* VrtDomainShmemDef* (domain_shmem.c); NULL = none */
    GPtrArray *sysinfos; /* VrtDomainSysinfoDef* (domain_sysinfo.c); NULL = none */
    char *smbios_mode; /* <os><smbios mode=>: emulate, host, sysinfo; NULL = none */
    struct _VrtDomainVsockDef *vsock; /* <vsock> (domain_vsock.c); NULL = none */
    GPtrArray *usb_hostdevs; /* VrtDomainUsbHostdevDef* (domain_usbdev.c); NULL = none */
    GPtrArray *redirdevs; /* VrtDomainRedirdevDef* (domain_usbdev.c); NULL = none */
    GArray *redirfilter; /* VrtDomainRedirFilterRule (domain_usbdev.c); NULL = none */
    GPtrArray *smartcards; /* VrtDomainSmartcardDef* (domain_smartcard.c); NULL = none */
    GPtrArray *subsys_hostdevs; /* VrtDomainSubsysHostdevDef* (domain_hostdev_subsys.c); NULL = none */
} VrtDomainDef;

/* <launchSecurity type='sev'> (AMD SEV): kept and written back; a start is
 * refused, this host having no SEV */
typedef struct VrtDomainLaunchSecurity {
    VrtTristate kernel_hashes;
    bool have_cbitpos, have_reduced_phys_bits;
    guint cbitpos, reduced_phys_bits, policy;
    char *dh_cert, *session; /* base64 as given; NULL */
} VrtDomainLaunchSecurity;

/* <tpm model=><backend type= version=> (domain_tpm.c) */
typedef struct {
    char *model; /* "tpm-crb", "tpm-tis" */
    char *backend; /* "emulator", "passthrough" */
    char *version; /* emulator: "2.0" (default), "1.2" */
    char *device_path; /* passthrough: <device path=> */
} VrtDomainTpmDef;
void vrt_domain_audio_free(VrtDomainAudioDef *a);
void vrt_domain_tpm_free(VrtDomainTpmDef *tpm);

/* <filesystem type='mount'>: virtio-9p (no driver, or <driver type='path'>)
 * or virtio-fs (<driver type='virtiofs'>) (domain_tpm.c) */
typedef struct {
    char *source_dir; /* <source dir=>, the host directory */
    char *target_dir; /* <target dir=>, the tag the guest mounts */
    bool readonly;
    char *driver; /* <driver type=>: NULL (9p by default), "path" (9p), "virtiofs" */
    char *accessmode; /* "passthrough" (the default, filled at parse), "mapped", "squash" */
    char *wrpolicy; /* <driver wrpolicy=>: NULL or "immediate" (9p) */
    char *multidevs; /* NULL (default), "remap", "forbid", "warn" (9p) */
    guint fmode, dmode; /* mapped 9p: modes of created files and directories, 0 = QEMU's */
    VrtDomainDeviceInfo info;
} VrtDomainFsDef;
/* Whether fs is a virtio-fs share (virtiofsd), else virtio-9p (QEMU itself). */
bool vrt_domain_fs_is_virtiofs(const VrtDomainFsDef *fs);
/* Appends fs (taken) to def's filesystems. */
void vrt_domain_def_fs_insert(VrtDomainDef *def, VrtDomainFsDef *fs);
/* The filesystem whose <target dir=> is target (libvirt's match), or -1. */
int vrt_domain_def_fs_index(const VrtDomainDef *def, const char *target);
void vrt_domain_fs_free(VrtDomainFsDef *fs);

/* <sound model=> with its <codec>s and <audio id=> (domain_devices_misc.c) */
typedef struct {
    char *model; /* "sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "ich7" */
    GPtrArray *codecs; /* char*: "duplex", "micro", "output" (ich6, ich9, ich7) */
    guint audio_id; /* <audio id=>, 0 = the first <audio> */
    VrtDomainDeviceInfo info;
} VrtDomainSoundDef;
void vrt_domain_sound_free(VrtDomainSoundDef *s);

/* <panic model=> (domain_devices_misc.c) */
typedef struct {
    char *model; /* "isa", "hyperv" */
    int iobase; /* isa: <address type='isa' iobase=>, -1 = none */
    VrtDomainDeviceInfo info;
} VrtDomainPanicDef;
void vrt_domain_panic_free(VrtDomainPanicDef *p);

/* <sysinfo type='smbios|fwcfg'> (domain_sysinfo.c). A smbios section is
 * a table parallel to its vrt_sysinfo_*_keys, "" where an entry is absent;
 * NULL when the section has no entry. fwcfg: three parallel tables, a
 * value or a file "" when absent. */
typedef struct {
    bool fwcfg;
    GStrv bios, system, chassis; /* vrt_sysinfo_bios_keys, _system_keys, _chassis_keys */
    GPtrArray *boards; /* GStrv per <baseBoard>, vrt_sysinfo_board_keys; NULL = none */
    GStrv oem; /* <oemStrings> entries; NULL = none */
    bool bios_seen, system_seen, chassis_seen, oem_seen; /* libvirt reads the first of each */
    GStrv fw_names, fw_values, fw_files;
} VrtDomainSysinfoDef;
void vrt_domain_sysinfo_free(VrtDomainSysinfoDef *s);
extern const char *const vrt_sysinfo_bios_keys[];
extern const char *const vrt_sysinfo_system_keys[];
extern const char *const vrt_sysinfo_board_keys[];
extern const char *const vrt_sysinfo_chassis_keys[];

/* <shmem name= role=> (domain_shmem.c): an ivshmem device */
typedef enum {
    VRT_SHMEM_IVSHMEM,
    VRT_SHMEM_IVSHMEM_PLAIN,
    VRT_SHMEM_IVSHMEM_DOORBELL
} VrtShmemModel;
typedef struct {
    char *name;
    char *role; /* "master", "peer"; NULL = default */
    VrtShmemModel model; /* <model type=>; absent: ivshmem, as libvirt */
    guint64 size; /* bytes; 0 = none (4 MiB filled in for all but doorbell) */
    bool server; /* <server> */
    char *server_path; /* <server path=>; NULL = libvirt's default */
    bool msi; /* <msi> (set for a server, as libvirt's QEMU driver) */
    guint vectors; /* <msi vectors=>, 0 = none */
    VrtTristate ioeventfd; /* <msi ioeventfd=> */
    VrtDomainDeviceInfo info;
} VrtDomainShmemDef;
void vrt_domain_shmem_free(VrtDomainShmemDef *s);
extern const char *const vrt_shmem_model_names[];

/* <vsock model='virtio'><cid auto= address=> (domain_vsock.c) */
typedef struct _VrtDomainVsockDef {
    VrtTristate auto_cid; /* <cid auto=>, as written */
    guint cid; /* <cid address=>, 0 = none (valid ones are >= 3) */
    VrtDomainDeviceInfo info;
} VrtDomainVsockDef;
void vrt_domain_vsock_free(VrtDomainVsockDef *v);

/* <hostdev mode='subsystem' type='usb'> (domain_usbdev.c): a host USB
 * device found by vendor/product or by bus/device (0 = not given). */
typedef struct {
    bool managed;
    char *startup_policy; /* <source startupPolicy=>, NULL = none */
    char *guest_reset; /* <source guestReset=>, NULL = none */
    guint vendor; /* 0 = not given (then product is not either) */
    guint product;
    guint bus;
    guint device;
    VrtDomainDeviceInfo info;
} VrtDomainUsbHostdevDef;

typedef enum {
    VRT_REDIRDEV_SPICEVMC = 0,
    VRT_REDIRDEV_TCP,
    VRT_REDIRDEV_UNIX,
} VrtDomainRedirdevType;
extern const char *const vrt_redirdev_type_names[];

/* <redirdev bus='usb'> (domain_usbdev.c) */
typedef struct {
    VrtDomainRedirdevType type;
    char *host; /* tcp */
    char *service; /* tcp */
    char *path; /* unix */
    bool bind; /* tcp, unix: <source mode='bind'> */
    bool telnet; /* tcp: <protocol type='telnet'> */
    VrtDomainDeviceInfo info;
} VrtDomainRedirdevDef;

/* <redirfilter><usbdev>: -1 = any */
typedef struct {
    int usb_class;
    int vendor;
    int product;
    int version; /* BCD, 0x0110 for 1.10 */
    bool allow;
} VrtDomainRedirFilterRule;

typedef enum {
    VRT_SMARTCARD_HOST = 0,
    VRT_SMARTCARD_HOST_CERTIFICATES,
    VRT_SMARTCARD_PASSTHROUGH,
} VrtDomainSmartcardMode;

typedef enum {
    VRT_SUBSYS_HOSTDEV_SCSI_HOST = 0, /* vhost-scsi: <source protocol='vhost' wwpn=> */
    VRT_SUBSYS_HOSTDEV_MDEV, /* a mediated device: <source><address uuid=> */
    VRT_SUBSYS_HOSTDEV_SCSI, /* a host SCSI LUN by adapter and address, or an iSCSI LUN */
} VrtDomainSubsysHostdevType;

/* <hostdev mode='subsystem' type='scsi_host|mdev'> (domain_hostdev_subsys.c),
 * apart from the PCI hostdevs the hostdev job manages */
typedef struct {
    VrtDomainSubsysHostdevType type;
    bool managed;
    int model; /* mdev: index in vfio-pci, vfio-ccw, vfio-ap; scsi_host: -1 or
                * index in default, virtio, virtio-transitional, virtio-non-transitional */
    VrtTristate display; /* mdev display= (on/off) */
    VrtTristate ramfb; /* mdev ramfb= (on/off) */
    char *uuid; /* mdev, canonical text */
    char *wwpn; /* scsi_host */
    /* scsi: sgio= (filtered/unfiltered, NULL = none), rawio=,
     * <readonly/>, <shareable/>; the host's LUN: <adapter name=> and
     * <address bus= target= unit=>, or (iscsi_name set) protocol='iscsi'
     * name= with one <host name= port=>, <auth> and <initiator><iqn> */
    char *sgio;
    VrtTristate rawio;
    bool readonly;
    bool shareable;
    char *adapter;
    guint scsi_bus;
    guint scsi_target;
    guint64 scsi_unit;
    char *iscsi_name;
    char *iscsi_host;
    char *iscsi_port; /* NULL = not written */
    char *auth_username; /* NULL: no <auth> */
    char *auth_secret_uuid;
    char *auth_secret_usage;
    char *initiator_iqn;
    VrtDomainDeviceInfo info;
} VrtDomainSubsysHostdevDef;
extern const char *const vrt_mdev_model_names[];
extern const char *const vrt_vhost_scsi_model_names[];
void vrt_domain_subsys_hostdev_free(VrtDomainSubsysHostdevDef *h);

/* The NSS database of a host-certificates smartcard without <database> */
#define VRT_SMARTCARD_DEFAULT_DATABASE "/etc/pki/nssdb"

/* <smartcard> (domain_smartcard.c) */
typedef struct {
    VrtDomainSmartcardMode mode;
    char *certificates[3]; /* host-certificates */
    char *database; /* host-certificates <database>, NULL = none */
    VrtDomainRedirdevDef *passthru; /* passthrough: its chardev (info unused) */
    bool has_ccid; /* <address type='ccid'> */
    guint ccid_controller;
    guint ccid_slot;
    VrtDomainDeviceInfo info; /* only read, to refuse another address type (no alias: libvirt's schema has none) */
} VrtDomainSmartcardDef;

void vrt_domain_smartcard_free(VrtDomainSmartcardDef *s);
void vrt_domain_usb_hostdev_free(VrtDomainUsbHostdevDef *h);
void vrt_domain_redirdev_free(VrtDomainRedirdevDef *r);

/* <hub type='usb'> (domain_hub.c): a usb-hub of 8 ports on a USB port */
typedef struct {
    VrtDomainDeviceInfo info;
} VrtDomainHubDef;
void vrt_domain_hub_free(VrtDomainHubDef *h);

/* Every I/O thread id of def: those <iothreadids> names, then the lowest
 * unused ones up to <iothreads> (domain_iothreads.c). */
GArray *vrt_domain_iothread_ids(const VrtDomainDef *def);

/* <iommu model='intel'><driver .../></iommu> */
typedef struct _VrtDomainIommuDef {
    VrtTristate intremap, caching_mode, eim, iotlb; /* on/off as written */
    guint aw_bits; /* 0 = not written */
} VrtDomainIommuDef;
void vrt_domain_iommu_free(VrtDomainIommuDef *iommu);

/* libvirt's QEMU namespace (<qemu:commandline>) */
#define VRT_DOMAIN_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
/* True when def passes arguments or environment of its own to QEMU. */
bool vrt_domain_has_qemu_ns(const VrtDomainDef *def);

/* ---- lifecycle of the structs -------------------------------------- */

VrtDomainDef *vrt_domain_def_new(void);
void vrt_domain_def_free(VrtDomainDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainDef, vrt_domain_def_free)

VrtDomainNetDef *vrt_domain_net_def_new(void);
/* Frees the interface and the hostdev it owns (caller must have removed
 * both from any domain's lists first). */
void vrt_domain_net_def_free(VrtDomainNetDef *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainNetDef, vrt_domain_net_def_free)

VrtDomainHostdevDef *vrt_domain_hostdev_def_new(void);
void vrt_domain_hostdev_def_free(VrtDomainHostdevDef *hostdev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainHostdevDef, vrt_domain_hostdev_def_free)

void vrt_domain_disk_def_free(VrtDomainDiskDef *disk);
/* <seclabel> (domain_seclabel.c) */
void vrt_seclabel_def_free(VrtSecLabelDef *l);
void vrt_sec_dev_label_def_free(VrtSecDevLabelDef *l);
/* The domain's label of model (libvirt's exact match), NULL when none. */
const VrtSecLabelDef *vrt_domain_def_get_seclabel(const VrtDomainDef *def, const char *model);
/* A disk's or chardev's label of model, NULL when none. */
const VrtSecDevLabelDef *vrt_dev_seclabel_get(const GPtrArray *labels, const char *model);
/* Appends an empty label of model (the driver's implicit one at start). */
VrtSecLabelDef *vrt_domain_def_add_seclabel(VrtDomainDef *def, const char *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainDiskDef, vrt_domain_disk_def_free)
void vrt_domain_controller_def_free(VrtDomainControllerDef *ctrl);
void vrt_domain_chr_def_free(VrtDomainChrDef *chr);
void vrt_domain_input_def_free(VrtDomainInputDef *input);
void vrt_domain_graphics_def_free(VrtDomainGraphicsDef *gfx);
void vrt_domain_video_def_free(VrtDomainVideoDef *video);
void vrt_domain_rng_def_free(VrtDomainRngDef *rng);
void vrt_domain_memballoon_def_free(VrtDomainMemballoonDef *balloon);
void vrt_domain_watchdog_def_free(VrtDomainWatchdogDef *wd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainControllerDef, vrt_domain_controller_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainChrDef, vrt_domain_chr_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainInputDef, vrt_domain_input_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainGraphicsDef, vrt_domain_graphics_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainVideoDef, vrt_domain_video_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainRngDef, vrt_domain_rng_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainMemballoonDef, vrt_domain_memballoon_def_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainWatchdogDef, vrt_domain_watchdog_def_free)

/* ---- parse / format / copy ----------------------------------------- */

/* Parses and validates a <domain> document. Errors: VIR_ERR_XML_ERROR
 * (malformed, with the parser's line), VIR_ERR_CONFIG_UNSUPPORTED (an
 * element or attribute vrt does not handle, named), VIR_ERR_NO_NAME,
 * VIR_ERR_OS_TYPE, VIR_ERR_INVALID_MAC, VIR_ERR_XML_DETAIL, ...
 * flags: VRT_DOMAIN_XML_STATUS reads runtime data back (id, aliases,
 * actual network data, pty paths); otherwise it is ignored. */
VrtDomainDef *vrt_domain_def_parse(const char *xml, guint flags, GError **error);

/* Formats def. flags: 0 = live view (id when def->id >= 0, aliases, an
 * interface of type network shows its actual data the way libvirt does,
 * a hostdev-backed interface appears once, as <interface>);
 * VRT_DOMAIN_XML_INACTIVE, VRT_DOMAIN_XML_SECURE, VRT_DOMAIN_XML_STATUS.
 * Output validates against domain.rng except with STATUS. */
char *vrt_domain_def_format(const VrtDomainDef *def, guint flags, GError **error);

/* Deep copy (runtime data included; the net<->hostdev links are rebuilt
 * inside the copy). */
VrtDomainDef *vrt_domain_def_copy(const VrtDomainDef *def, GError **error);

/* ---- title, description, metadata (domain_metadata.c) ---- */

/* virDomainMetadataType */
enum {
    VRT_DOMAIN_METADATA_DESCRIPTION = 0,
    VRT_DOMAIN_METADATA_TITLE = 1,
    VRT_DOMAIN_METADATA_ELEMENT = 2,
};
/* The description, title, or the <metadata> element in namespace uri
 * (without its prefix); VIR_ERR_NO_DOMAIN_METADATA when there is none. */
char *vrt_domain_def_get_metadata(const VrtDomainDef *def, int type, const char *uri, GError **error);
/* Sets (an empty or NULL text removes) the description or title, or puts
 * metadata (XML text) into <metadata> in namespace uri with prefix key,
 * replacing that namespace's element (NULL metadata removes it). */
bool vrt_domain_def_set_metadata(VrtDomainDef *def, int type, const char *metadata, const char *key, const char *uri,
                                 GError **error);

/* ---- addresses, aliases, MACs -------------------------------------- */

/* Gives every device without one a PCI/drive address, an alias and every
 * interface without one a MAC (52:54:00:xx:xx:xx). Existing addresses
 * are kept; new devices take free slots. q35 (os.machine "q35" or
 * "pc-q35-*"): endpoint devices (conventional PCI ones too, unlike libvirt's
 * pcie-to-pci-bridge) go on pcie-root-port controllers that are added as
 * needed (plus one spare for hotplug when any had to be added, as libvirt
 * does), the primary video at 00:01.0; pc: slots on bus 0, the primary
 * video at 00:02.0. Implicit devices are added as libvirt does: pci-root
 * or pcie-root, usb (piix3-uhci / qemu-xhci), sata on q35, ide on pc when
 * a disk uses it, virtio-serial for channels, a virtio memballoon. Fails with
 * VIR_ERR_XML_ERROR on duplicate addresses, VIR_ERR_INTERNAL_ERROR when
 * the buses are full. Aliases: net0, hostdev0, virtio-disk0, sata0-0-0,
 * scsi0-0-0-0, ide0-0-0, serial0, console0, channel0, input0, video0,
 * balloon0, rng0, watchdog0, pci.N, usb, scsi0, ... (user "ua-*" aliases
 * are kept). */
bool vrt_domain_def_assign_addresses(VrtDomainDef *def, GError **error);

/* Checks addresses for conflicts (duplicate PCI or drive address) without
 * assigning. Called by parse too. */
bool vrt_domain_def_validate_addresses(const VrtDomainDef *def, GError **error);

/* ---- device XML (attach / detach) --------------------------------- */

typedef enum {
    VRT_DOMAIN_DEVICE_DISK = 0,
    VRT_DOMAIN_DEVICE_NET,
    VRT_DOMAIN_DEVICE_HOSTDEV,
    VRT_DOMAIN_DEVICE_CONTROLLER,
    VRT_DOMAIN_DEVICE_CHR, /* serial, console or channel */
    VRT_DOMAIN_DEVICE_INPUT,
    VRT_DOMAIN_DEVICE_VIDEO,
    VRT_DOMAIN_DEVICE_RNG,
    VRT_DOMAIN_DEVICE_WATCHDOG,
    VRT_DOMAIN_DEVICE_MEMBALLOON,
    VRT_DOMAIN_DEVICE_GRAPHICS,
    VRT_DOMAIN_DEVICE_FILESYSTEM,
} VrtDomainDeviceType;

/* One device from device XML. Exactly the member for type is set; it is
 * owned by this struct until stolen (set it to NULL after taking it). */
typedef struct {
    VrtDomainDeviceType type;
    union {
        VrtDomainDiskDef *disk;
        VrtDomainNetDef *net; /* with net->hostdev when type hostdev */
        VrtDomainHostdevDef *hostdev;
        VrtDomainControllerDef *controller;
        VrtDomainChrDef *chr;
        VrtDomainInputDef *input;
        VrtDomainVideoDef *video;
        VrtDomainRngDef *rng;
        VrtDomainWatchdogDef *watchdog;
        VrtDomainMemballoonDef *memballoon;
        VrtDomainGraphicsDef *graphics;
        VrtDomainFsDef *fs;
    } data;
} VrtDomainDeviceDef;

void vrt_domain_device_def_free(VrtDomainDeviceDef *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainDeviceDef, vrt_domain_device_def_free)

/* Parses one device element (<disk>, <interface>, <hostdev>, ...). def
 * (may be NULL) gives context (e.g. machine type). flags as for
 * vrt_domain_def_parse. */
VrtDomainDeviceDef *vrt_domain_device_def_parse(const char *xml, const VrtDomainDef *def, guint flags, GError **error);

/* Formats one device as it would appear inside <devices>. */
char *vrt_domain_device_def_format(const VrtDomainDeviceDef *dev, guint flags, GError **error);

/* Assigns alias, address (and MAC) to a device about to be hotplugged into
 * def, avoiding everything def already uses. Does not insert it. For an
 * interface of type network, fill net->actual first: a hostdev-backed one
 * is named hostdevN, others netN. On q35
 * a device needing a free pcie-root-port fails (VIR_ERR_OPERATION_FAILED)
 * rather than adding a controller to a running domain. */
bool vrt_domain_def_assign_device_address(VrtDomainDef *def, VrtDomainDeviceDef *dev, GError **error);

/* ---- lookups ------------------------------------------------------- */

/* The first interface with this MAC (libvirt's virDomainNetFind): two may
 * share one (a teaming pair), see the two lookups below. */
VrtDomainNetDef *vrt_domain_def_find_net_by_mac(const VrtDomainDef *def, const guint8 mac[6]);
VrtDomainNetDef *vrt_domain_def_find_net_by_alias(const VrtDomainDef *def, const char *alias);
/* The interface match designates, as libvirt's virDomainNetFindIdx: the
 * one with match's MAC (when it has one), guest PCI address (when given)
 * and alias (when both have one). Several: VIR_ERR_OPERATION_FAILED
 * "multiple devices matching MAC address %s found"; none:
 * VIR_ERR_DEVICE_MISSING. Two interfaces may share a MAC (the halves of
 * a <teaming> pair), so a MAC alone may not be enough. */
VrtDomainNetDef *vrt_domain_def_find_net_match(const VrtDomainDef *def, const VrtDomainNetDef *match, GError **error);
/* The hostdev-backed interface with this MAC: of (actual) type hostdev,
 * or, in a definition without runtime state, of type network on network
 * (not a teaming pair's persistent half); with alias, only one without an
 * alias or with that one. The virtio half of a teaming pair sharing the
 * MAC is never returned. NULL when none. */
VrtDomainNetDef *vrt_domain_def_find_hostdev_net_by_mac(const VrtDomainDef *def, const guint8 mac[6],
                                                        const char *network, const char *alias);
/* The interface whose (actual) hostdev is the host PCI device addr. */
VrtDomainNetDef *vrt_domain_def_find_net_by_hostdev_source(const VrtDomainDef *def, const VrtPciAddr *addr);
VrtDomainHostdevDef *vrt_domain_def_find_hostdev_by_source(const VrtDomainDef *def, const VrtPciAddr *addr);
VrtDomainHostdevDef *vrt_domain_def_find_hostdev_by_alias(const VrtDomainDef *def, const char *alias);
VrtDomainDiskDef *vrt_domain_def_find_disk_by_target(const VrtDomainDef *def, const char *target_dev);
/* libvirt's virDomainDiskByName: the disk whose target is name, or, when
 * name is a path (a leading '/'), whose source it is. */
VrtDomainDiskDef *vrt_domain_def_find_disk_by_name(const VrtDomainDef *def, const char *name);

/* ---- keeping nets and hostdevs consistent -------------------------- */

/* The type that counts at runtime: actual.type when set, else type. */
VrtDomainNetType vrt_domain_net_get_actual_type(const VrtDomainNetDef *net);

/* For an interface whose (actual) type is HOSTDEV and that has no hostdev
 * yet: creates the linked hostdev from hostdev_source/managed (type
 * HOSTDEV) or actual.hostdev_addr/actual.managed (type NETWORK). Does not
 * touch any domain's lists. No-op (true) when already linked or not a
 * hostdev interface. */
bool vrt_domain_net_link_hostdev(VrtDomainNetDef *net, GError **error);

/* For an interface already in def->nets whose actual type just became
 * HOSTDEV (its network port was allocated): links the hostdev
 * (vrt_domain_net_link_hostdev) and lists it in def->hostdevs. No-op when
 * already done; false (VIR_ERR_INTERNAL_ERROR) if net is not in def. */
bool vrt_domain_def_net_link_hostdev(VrtDomainDef *def, VrtDomainNetDef *net, GError **error);

/* Appends net to def->nets (takes ownership) and its hostdev (if any) to
 * def->hostdevs. */
void vrt_domain_def_net_insert(VrtDomainDef *def, VrtDomainNetDef *net);
/* Removes net from def->nets and its hostdev from def->hostdevs; returns
 * it (caller owns it, hostdev included), NULL if net is not in def. */
VrtDomainNetDef *vrt_domain_def_net_remove(VrtDomainDef *def, VrtDomainNetDef *net);
/* Drops the linked hostdev of net from def->hostdevs and frees it (the
 * driver released the VF and cleared net->actual). */
void vrt_domain_def_net_unlink_hostdev(VrtDomainDef *def, VrtDomainNetDef *net);

/* Appends a standalone hostdev (takes ownership). */
void vrt_domain_def_hostdev_insert(VrtDomainDef *def, VrtDomainHostdevDef *hostdev);
/* Removes a standalone hostdev and returns it (caller owns it). A hostdev
 * that stands in for an interface is not removed (returns NULL): go
 * through vrt_domain_def_net_remove(def, hostdev->parent_net). */
VrtDomainHostdevDef *vrt_domain_def_hostdev_remove(VrtDomainDef *def, VrtDomainHostdevDef *hostdev);

/* Insert/remove for disks (remove returns ownership, NULL if absent). */
void vrt_domain_def_disk_insert(VrtDomainDef *def, VrtDomainDiskDef *disk);
VrtDomainDiskDef *vrt_domain_def_disk_remove(VrtDomainDef *def, VrtDomainDiskDef *disk);

/* ---- small helpers ------------------------------------------------- */

/* True for os.machine "q35" / "pc-q35-*". */
bool vrt_domain_def_is_q35(const VrtDomainDef *def);
/* Whether vrt builds and starts this machine type: the i440FX and Q35 PCs
 * ("pc", "q35", "pc-i440fx-*", "pc-q35-*"); a definition naming another
 * (microvm, isapc, xenfv...) is refused, and capabilities list only these. */
bool vrt_domain_machine_supported(const char *machine);
/* An ICH9 USB2 controller: the ich9-ehci1 or one of its ich9-uhci1..3
 * companions, which share an index (one USB bus) and a PCI slot. */
bool vrt_domain_controller_is_usb2(const VrtDomainControllerDef *c);

const char *vrt_domain_lifecycle_action_to_string(VrtDomainLifecycleAction action);
