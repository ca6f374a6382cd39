/*
 * QEMU confined as libvirt confines it: the unprivileged user and group
 * QEMU runs as (qemu.conf's user, group), the DAC labels of the files a
 * domain uses (chowned to that user at start, the original owner
 * remembered in extended attributes and given back at stop), the seccomp
 * sandbox and a private mount namespace with a minimal /dev. See
 * qemu_security.c for what is labelled and how.
 */
#pragma once

#include "conf/domain/domain_conf.h"

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

/* <root>/etc/vrt/qemu.conf, libvirt's qemu.conf keys of confinement. */
typedef struct {
    char *user; /* "libvirt-qemu" (Debian's); "root": QEMU runs as root */
    char *group;
    bool dynamic_ownership; /* chown the domain's files to user:group */
    bool remember_owner; /* keep the original owner in xattrs, give it back at stop */
    bool seccomp_sandbox; /* -sandbox on,... */
    bool namespaces; /* "mount" in namespaces = [...]: private mount namespace */
    /* security_driver: "apparmor" named (alone or in a list), "none" or a
     * list without it, or unset (AppArmor where the host has it) */
    bool apparmor_wanted; /* named */
    bool apparmor_off; /* left out */
    char *security_driver_other; /* a driver named that vrt does not have ("selinux"), NULL */
    bool apparmor; /* resolved by the driver: AppArmor confines QEMU */
} VrtQemuSecConf;

/* Reads path (a missing file: libvirt's Debian defaults). Errors:
 * VIR_ERR_CONF_SYNTAX naming the file and line. */
bool vrt_qemu_sec_conf_load(VrtQemuSecConf *conf, const char *path, GError **error);
void vrt_qemu_sec_conf_clear(VrtQemuSecConf *conf);

/* What one start needs: the identity, the device nodes of its /dev, the
 * files labelled (given back when freed unless committed). */
typedef struct _VrtQemuConfine VrtQemuConfine;

/* A device node of a domain's host devices, as the host seam names it:
 * ns_path is where QEMU sees it ("/dev/vfio/N", "/dev/sg0"), host_path
 * the host's node (a simulated host's file); label: QEMU's user gets it
 * as the domain's files (a group node), not the shared container
 * /dev/vfio/vfio; readonly: the cgroup lets QEMU only read it (a
 * <readonly/> SCSI LUN). */
typedef struct {
    char *ns_path;
    char *host_path;
    bool label;
    bool readonly;
} VrtQemuDevNode;
void vrt_qemu_dev_node_free(VrtQemuDevNode *n);

/* Resolves the user (VIR_ERR_INTERNAL_ERROR naming a user or group that
 * does not exist: never a silent run as root), labels def's files for it
 * (and the host device nodes of dev_nodes, VrtQemuDevNode, NULL: none),
 * prepares run_dir (owned by QEMU's user, with the mount namespace's /dev
 * staged in run_dir/dev, holding dev_nodes each as the host has it) and
 * the pidfile QEMU writes. */
VrtQemuConfine *vrt_qemu_confine_prepare(const VrtQemuSecConf *conf, VrtDomainDef *def, const char *run_dir,
                                         const char *pidfile, const char *dev_kvm, const GPtrArray *dev_nodes,
                                         GError **error);
/* <seclabel>: def's models must be "none" or "dac" (libvirt's
 * VIR_ERR_CONFIG_UNSUPPORTED "Security driver model '%s' is not available"
 * on a host without SELinux and AppArmor); a static DAC label
 * ("+UID:+GID") is the identity QEMU runs as; type='none' or relabel='no'
 * leave every file's owner alone; def (the live definition) gets the
 * DAC label libvirt writes in live XML (label and imagelabel). */
/* The labels now belong to the running domain: the stop gives them back. */
void vrt_qemu_confine_commit(VrtQemuConfine *c);
bool vrt_qemu_confine_sandbox(const VrtQemuConfine *c);
/* A file vrtd made for this QEMU alone (a LUKS passphrase for -object
 * secret, removed once QEMU runs) given to QEMU's user, its mode kept:
 * no owner is remembered, the file goes away with its use. A no-op when
 * QEMU runs as vrtd's user. Errors: VIR_ERR_SYSTEM_ERROR naming the file. */
bool vrt_qemu_confine_give(const VrtQemuConfine *c, const char *path, GError **error);
/* QEMU runs as another user than vrtd's: vrtd opens its file chardevs. */
bool vrt_qemu_confine_drops(const VrtQemuConfine *c);
void vrt_qemu_confine_free(VrtQemuConfine *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtQemuConfine, vrt_qemu_confine_free)

/* In QEMU's process between fork and exec (async-signal-safe: system calls
 * only): the private mount namespace and its /dev, no new privileges, the
 * user's groups, gid and uid. NULL, or what failed (a static string). */
const char *vrt_qemu_confine_child(const VrtQemuConfine *c);

/* Whether the DAC model relabels a device with these <seclabel>s (not
 * when one says model='dac' relabel='no'), and def's files at all (not
 * with a domain DAC label of type none or relabel='no'). */
bool vrt_qemu_security_relabels_dev(const GPtrArray *seclabels);
bool vrt_qemu_security_relabels_def(const VrtDomainDef *def);

/* Gives back the labels of the files def uses (a stopped domain's live
 * definition) and of the labelled dev_nodes (its host devices' group
 * nodes; NULL: none): each file's remembered owner once no running domain
 * uses it. */
void vrt_qemu_security_restore(const VrtQemuSecConf *conf, const VrtDomainDef *def, const GPtrArray *dev_nodes);

/* For a running domain (a disk hotplugged, a snapshot's overlay): labels
 * path, and the qcow2 backing chain under it, for QEMU's user as a start
 * does, remembering the owners. A no-op without dynamic ownership or when
 * QEMU runs as root. Errors: as a start's (the files labelled so far given
 * back). */
bool vrt_qemu_security_label_path(const VrtQemuSecConf *conf, const char *path, GError **error);
/* The same for a device's file with its <seclabel>s: a DAC <label>
 * ("+UID:+GID") is the owner its own file gets (libvirt's per-device
 * label); errors also: a label that does not parse (VIR_ERR_INVALID_ARG). */
bool vrt_qemu_security_label_dev_path(const VrtQemuSecConf *conf, const char *path, const GPtrArray *seclabels,
                                      GError **error);
/* For a running domain: makes path (a file vrtd wrote for QEMU, such as a
 * hot-plugged disk's passphrase) QEMU's user's, as a start gives its
 * files; a no-op when QEMU runs as root or vrtd is not root. */
bool vrt_qemu_security_give_path(const VrtQemuSecConf *conf, const char *path, GError **error);
/* Gives back the labels of path and its backing chain (a disk unplugged,
 * a failed snapshot's overlay). */
void vrt_qemu_security_restore_path(const VrtQemuSecConf *conf, const char *path);

/* One file of a running domain that is not an image (a VFIO group node):
 * labelled for QEMU's user as a start labels, its owner remembered; given
 * back. No-ops where nothing is relabelled (root QEMU, def's DAC label
 * type none or relabel='no'). */
bool vrt_qemu_security_label_file(const VrtQemuSecConf *conf, const VrtDomainDef *def, const char *path,
                                  GError **error);
void vrt_qemu_security_restore_file(const VrtQemuSecConf *conf, const VrtDomainDef *def, const char *path);

/* A running QEMU's private /dev, as libvirt extends it at hotplug (a
 * child process enters the mount namespace of pid): ns_path ("/dev/vfio/N")
 * made there as host_path is (a device node with its numbers, owner and
 * mode; a plain file, a simulated host's, bound in), its directory made
 * when missing; or removed. No-ops when QEMU shares vrtd's namespace or
 * has the host's directory bound in. Errors: VIR_ERR_SYSTEM_ERROR. */
bool vrt_qemu_ns_add_node(pid_t pid, const char *ns_path, const char *host_path, GError **error);
bool vrt_qemu_ns_remove_node(pid_t pid, const char *ns_path, GError **error);

/* "+UID:+GID" QEMU runs as by default: qemu.conf's user and group (vrtd's
 * own when vrtd is unprivileged); NULL when they do not exist. */
char *vrt_qemu_security_baselabel(const VrtQemuSecConf *conf);

/* Gives QEMU's user search permission on dir and its parents below root. */
void vrt_qemu_security_reachable(const VrtQemuSecConf *conf, const char *root, const char *dir);

/* Logs (once a process, at the first driver's creation) whether QEMU gets an AppArmor
 * profile and, when it does not, why (the host has no AppArmor, or
 * qemu.conf's security_driver leaves it out). */
void vrt_qemu_security_log_apparmor(const VrtQemuSecConf *conf);

/* QEMU enters AppArmor profile profile at its exec (written to
 * /proc/self/attr/exec by vrt_qemu_confine_child, after every other
 * step); false when the name is too long. */
bool vrt_qemu_confine_set_apparmor(VrtQemuConfine *c, const char *profile);

/* The backing file a qcow2 image's header names (relative names resolved
 * against the image's directory), or NULL: none, not qcow2, or a json:
 * or protocol backing that is no file here. */
char *vrt_qemu_security_qcow2_backing(const char *path);
