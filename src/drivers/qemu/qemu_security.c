/*
 * QEMU confined as libvirt confines it (see qemu_security.h).
 *
 * Labels. With dynamic_ownership, every file a domain's QEMU opens by
 * path (file and block disks with their qcow2 backing chains, the kernel
 * and initrd, file chardevs) is chowned to QEMU's user:group at start; its
 * mode is left alone, as libvirt's DAC driver does, so a root 0600 image
 * becomes libvirt-qemu 0600. The original owner is remembered on the file
 * itself, in the extended attribute trusted.vrt.security.dac ("uid:gid"),
 * with a reference count in trusted.vrt.security.ref_dac: libvirt's scheme
 * (its attributes are trusted.libvirt.security.*; vrt's own names keep a
 * libvirtd on the same host from reading vrt's counts). Being on the file,
 * the memory survives a kill -9 of vrtd: the next vrtd gives the owner back
 * when it finds the domain's QEMU gone, or at the domain's later stop, from
 * the live definition in its status file. A file used by two running
 * domains (<shareable/>, a shared read-only base) counts two and gets its
 * owner back when the second stops. On a file system without trusted
 * xattrs the file is chowned without memory and left so at stop.
 *
 * The domain's run directory (channel sockets QEMU creates) is owned by
 * QEMU's user; the pidfile QEMU writes is made for it before exec. Parent
 * directories are not relabelled (libvirt does not either): QEMU's user
 * must be able to reach an image's directory.
 *
 * The mount namespace: QEMU's process unshares its mount namespace, makes
 * every mount a slave of the host's, and mounts a tmpfs on run_dir/dev
 * holding only null, zero, full, random, urandom, ptmx, the host's devpts
 * bound on pts, kvm for a KVM domain, net/tun, and for a domain with host
 * devices /dev/vfio/vfio and the node of each VFIO group it uses (made as
 * the host has it, after its label: libvirt's one node per group, not the
 * host's whole /dev/vfio); that tmpfs is then moved onto /dev. A VF
 * hotplug makes its group's node in a running QEMU's /dev
 * (vrt_qemu_ns_add_node, from qemu_vfio_confine.c).
 */
#include "drivers/qemu/qemu_security.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define XATTR_OWNER "trusted.vrt.security.dac"
#define XATTR_REF "trusted.vrt.security.ref_dac"
#define MAX_NODES 64
#define MAX_GROUPS 64
#define BACKING_DEPTH_MAX 16

typedef struct {
    char path[256]; /* under the staging directory */
    mode_t mode; /* S_IFCHR | permissions; S_IFDIR: a directory; S_IFREG: src bound */
    dev_t rdev;
    bool own; /* given uid:gid (a host device's node, as the host's) */
    uid_t uid;
    gid_t gid;
    char src[256]; /* S_IFREG: the host's file bound there (a simulated host's node) */
} Node;

struct _VrtQemuConfine {
    VrtQemuSecConf conf; /* borrowed strings: the driver's */
    bool drop; /* to uid/gid with groups */
    uid_t uid;
    gid_t gid;
    gid_t groups[MAX_GROUPS];
    int ngroups;
    /* the owner given to the domain's files: QEMU's user, or a static
     * <seclabel model='dac'>'s <imagelabel> */
    uid_t img_uid;
    gid_t img_gid;
    bool ns;
    char stage[256];
    char pts_src[32], pts_dst[256];
    Node nodes[MAX_NODES];
    guint nnodes;
    GPtrArray *labelled; /* char*: given back at free unless committed */
    bool committed;
    /* RLIMIT_MEMLOCK QEMU needs once it lost CAP_IPC_LOCK: libvirt's
     * figures (unlimited for <locked/>, guest memory + 1 GiB for VFIO);
     * 0: the inherited limit */
    rlim_t memlock;
    /* "exec libvirt-UUID": the AppArmor profile QEMU enters at its exec;
     * empty: none */
    char aa_exec[64];
};

/* ---- qemu.conf ---- */

static void
conf_defaults(VrtQemuSecConf *conf)
{
    conf->user = g_strdup("libvirt-qemu");
    conf->group = g_strdup("libvirt-qemu");
    conf->dynamic_ownership = true;
    conf->remember_owner = true;
    conf->seccomp_sandbox = true;
    conf->namespaces = true;
}

void
vrt_qemu_sec_conf_clear(VrtQemuSecConf *conf)
{
    g_clear_pointer(&conf->user, g_free);
    g_clear_pointer(&conf->group, g_free);
    g_clear_pointer(&conf->security_driver_other, g_free);
}

/* security_driver = "NAME" or [ "NAME", ... ]: libvirt's security drivers
 * for QEMU. "apparmor" asks for AppArmor (the driver refuses to start
 * where the host has none, as libvirtd does); "none" or a list without it
 * leaves AppArmor out; "dac" is always there; another name is kept for
 * the driver's refusal. */
static bool
parse_security_driver(VrtQemuSecConf *conf, char *value)
{
    size_t n = strlen(value);
    g_auto(GStrv) items = NULL;

    if (n >= 2 && value[0] == '[' && value[n - 1] == ']') {
        value[n - 1] = '\0';
        items = g_strsplit(value + 1, ",", -1);
    } else {
        items = g_new0(char *, 2);
        items[0] = g_strdup(value);
    }
    conf->apparmor_wanted = false;
    conf->apparmor_off = true;
    g_clear_pointer(&conf->security_driver_other, g_free);
    for (guint i = 0; items[i]; i++) {
        char *item = g_strstrip(items[i]);
        size_t m = strlen(item);

        if (!m && !items[1])
            break;
        if (m < 2 || item[0] != '"' || item[m - 1] != '"')
            return false;
        item[m - 1] = '\0';
        item++;
        if (g_str_equal(item, "apparmor")) {
            conf->apparmor_wanted = true;
            conf->apparmor_off = false;
        } else if (!g_str_equal(item, "none") && !g_str_equal(item, "dac") && !conf->security_driver_other) {
            conf->security_driver_other = g_strdup(item);
        }
    }
    return true;
}

static bool
conf_error(GError **error, const char *path, guint line, const char *what)
{
    vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "%s:%u: %s", path, line, what);
    return false;
}

/* The subset of libvirt's configuration syntax these keys use: one
 * `key = value` a line, "strings", integers, a list of strings; # comments. */
bool
vrt_qemu_sec_conf_load(VrtQemuSecConf *conf, const char *path, GError **error)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) err = NULL;

    conf_defaults(conf);
    if (!g_file_get_contents(path, &text, NULL, &err)) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return true;
        vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "cannot read %s: %s", path, err->message);
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        char *eq, *key, *value;
        char *hash = strchr(line, '#');

        if (hash && (!strchr(line, '"') || hash < strchr(line, '"')))
            *hash = '\0';
        g_strstrip(line);
        if (!*line)
            continue;
        eq = strchr(line, '=');
        if (!eq)
            return conf_error(error, path, i + 1, "expected 'key = value'");
        *eq = '\0';
        key = g_strstrip(line);
        value = g_strstrip(eq + 1);
        if (g_str_equal(key, "user") || g_str_equal(key, "group")) {
            size_t n = strlen(value);

            if (n < 2 || value[0] != '"' || value[n - 1] != '"')
                return conf_error(error, path, i + 1, "expected a string");
            value[n - 1] = '\0';
            if (g_str_equal(key, "user")) {
                g_free(conf->user);
                conf->user = g_strdup(value + 1);
            } else {
                g_free(conf->group);
                conf->group = g_strdup(value + 1);
            }
        } else if (g_str_equal(key, "dynamic_ownership") || g_str_equal(key, "remember_owner") ||
                   g_str_equal(key, "seccomp_sandbox")) {
            bool *dst = g_str_equal(key, "dynamic_ownership") ? &conf->dynamic_ownership
                        : g_str_equal(key, "remember_owner")  ? &conf->remember_owner
                                                              : &conf->seccomp_sandbox;
            /* libvirt: seccomp_sandbox -1 is "QEMU's default", which is off */
            if (!g_str_equal(value, "0") && !g_str_equal(value, "1") && !g_str_equal(value, "-1"))
                return conf_error(error, path, i + 1, "expected 0 or 1");
            *dst = g_str_equal(value, "1");
        } else if (g_str_equal(key, "security_driver")) {
            if (!parse_security_driver(conf, value))
                return conf_error(error, path, i + 1, "expected a string or a list of strings");
        } else if (g_str_equal(key, "namespaces")) {
            if (value[0] != '[' || value[strlen(value) - 1] != ']')
                return conf_error(error, path, i + 1, "expected a list of strings");
            conf->namespaces = strstr(value, "\"mount\"") != NULL;
        }
        /* Other qemu.conf keys are libvirt's and not vrt's: ignored. */
    }
    return true;
}

/* ---- labels ---- */

char *
vrt_qemu_security_qcow2_backing(const char *path)
{
    guint8 hdr[20];
    g_autofree char *name = NULL;
    guint64 off;
    guint32 len;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool ok;

    if (fd < 0)
        return NULL;
    ok = pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) && memcmp(hdr, "QFI\xfb", 4) == 0;
    if (ok) {
        memcpy(&off, hdr + 8, 8);
        memcpy(&len, hdr + 16, 4);
        off = GUINT64_FROM_BE(off);
        len = GUINT32_FROM_BE(len);
        ok = off && len && len < 4096;
    }
    if (ok) {
        name = g_malloc0(len + 1);
        ok = pread(fd, name, len, (off_t)off) == (ssize_t)len;
    }
    close(fd);
    if (!ok || strchr(name, ':')) /* json: and protocol backings are not files here */
        return NULL;
    if (g_path_is_absolute(name))
        return g_steal_pointer(&name);
    {
        g_autofree char *dir = g_path_get_dirname(path);

        return g_build_filename(dir, name, NULL);
    }
}

static void
add_path(GPtrArray *paths, const char *path)
{
    if (path && *path && !g_ptr_array_find_with_equal_func(paths, path, g_str_equal, NULL))
        g_ptr_array_add(paths, g_strdup(path));
}

/* A file of the domain and the owner a device's own DAC <label> gives it
 * (libvirt's per-device label); own false: the domain's image label. */
typedef struct {
    char *path;
    bool own;
    uid_t uid;
    gid_t gid;
} LabelPath;

static void
label_path_free(gpointer p)
{
    LabelPath *l = p;

    g_free(l->path);
    g_free(l);
}

/* path and the qcow2 backing chain under it. */
static void
add_chain(GPtrArray *paths, const char *path)
{
    g_autofree char *cur = g_strdup(path);

    for (guint depth = 0; cur && depth < BACKING_DEPTH_MAX; depth++) {
        char *next = vrt_qemu_security_qcow2_backing(cur);

        add_path(paths, cur);
        g_free(cur);
        cur = next;
    }
}

/* ---- <seclabel> ---- */

bool
vrt_qemu_security_relabels_dev(const GPtrArray *seclabels)
{
    const VrtSecDevLabelDef *l = vrt_dev_seclabel_get(seclabels, "dac");

    return !l || l->relabel;
}

bool
vrt_qemu_security_relabels_def(const VrtDomainDef *def)
{
    const VrtSecLabelDef *l = vrt_domain_def_get_seclabel(def, "dac");

    return !l || l->relabel;
}

/* The models this host has, as libvirt's security manager: "none" and
 * "dac", and "apparmor" where AppArmor confines QEMU. libvirt accepts
 * any model at define and refuses the others at start, with this error. */
static bool
check_model(const VrtQemuSecConf *conf, const char *model, GError **error)
{
    if (!model || g_str_equal(model, "none") || g_str_equal(model, "dac"))
        return true;
    if (conf->apparmor && g_str_equal(model, "apparmor"))
        return true;
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Security driver model '%s' is not available", model);
    return false;
}

static bool
check_dev_models(const VrtQemuSecConf *conf, const GPtrArray *labels, GError **error)
{
    for (guint i = 0; labels && i < labels->len; i++) {
        if (!check_model(conf, ((const VrtSecDevLabelDef *)labels->pdata[i])->model, error))
            return false;
    }
    return true;
}

static bool
check_models(const VrtQemuSecConf *conf, const VrtDomainDef *def, GError **error)
{
    GPtrArray *chrs[] = { def->serials, def->consoles, def->channels, def->parallels };

    for (guint i = 0; def->seclabels && i < def->seclabels->len; i++) {
        if (!check_model(conf, ((const VrtSecLabelDef *)def->seclabels->pdata[i])->model, error))
            return false;
    }
    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        if (!check_dev_models(conf, ((const VrtDomainDiskDef *)def->disks->pdata[i])->seclabels, error))
            return false;
    }
    for (guint l = 0; l < G_N_ELEMENTS(chrs); l++) {
        for (guint i = 0; chrs[l] && i < chrs[l]->len; i++) {
            if (!check_dev_models(conf, ((const VrtDomainChrDef *)chrs[l]->pdata[i])->seclabels, error))
                return false;
        }
    }
    return true;
}

/* One side of a DAC label: "+N" is the number N, a name is looked up
 * (a number that names nobody is taken as is), as libvirt does. */
static bool
parse_id(const char *s, bool user, guint *out)
{
    char buf[16384];
    guint64 v;

    if (*s == '+')
        return g_ascii_string_to_unsigned(s + 1, 10, 0, G_MAXUINT32 - 1, &v, NULL) && (*out = (guint)v, true);
    if (user) {
        struct passwd pw, *pwp = NULL;

        if (getpwnam_r(s, &pw, buf, sizeof(buf), &pwp) == 0 && pwp) {
            *out = pw.pw_uid;
            return true;
        }
    } else {
        struct group gr, *grp = NULL;

        if (getgrnam_r(s, &gr, buf, sizeof(buf), &grp) == 0 && grp) {
            *out = gr.gr_gid;
            return true;
        }
    }
    return g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT32 - 1, &v, NULL) && (*out = (guint)v, true);
}

/* "user:group" of a DAC label ("+64055:+64055", "qemu:kvm"). */
static bool
parse_ownership(const char *label, uid_t *uid, gid_t *gid, GError **error)
{
    g_auto(GStrv) parts = label ? g_strsplit(label, ":", 2) : NULL;
    guint u, g;

    if (!parts || !parts[0] || !parts[1]) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Failed to parse uid and gid from '%s'", label ? label : "");
        return false;
    }
    if (!parse_id(parts[0], true, &u)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Failed to parse user '%s'", parts[0]);
        return false;
    }
    if (!parse_id(parts[1], false, &g)) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "Failed to parse group '%s'", parts[1]);
        return false;
    }
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return true;
}

/* The live definition's DAC label, as libvirt's DAC driver generates it
 * at start: an implicit dynamic label when the definition has none, the
 * identity QEMU runs as in a dynamic one's <label> and, when files are
 * relabelled, the owner they get in <imagelabel>. */
static void
fill_live_label(VrtDomainDef *def, uid_t uid, gid_t gid)
{
    VrtSecLabelDef *l = (VrtSecLabelDef *)vrt_domain_def_get_seclabel(def, "dac");

    if (!l) {
        l = vrt_domain_def_add_seclabel(def, "dac");
        l->type = VRT_SECLABEL_DYNAMIC;
        l->relabel = true;
        l->implicit = true;
    }
    if (l->type == VRT_SECLABEL_DYNAMIC) {
        g_free(l->label);
        l->label = g_strdup_printf("+%u:+%u", (unsigned)uid, (unsigned)gid);
    }
    if (l->type != VRT_SECLABEL_NONE && l->relabel && !l->imagelabel)
        l->imagelabel = g_strdup(l->label);
}

/* Adds path to the list with the owner a device's DAC <seclabel> gives
 * it: its <label> ("+UID:+GID" or names), as libvirt's DAC driver sets
 * a disk's or chardev's own label; none: the domain's. The first entry
 * of a path wins. Errors: a label that does not parse (libvirt's). */
static bool
add_label_path(GPtrArray *list, const char *path, const GPtrArray *seclabels, GError **error)
{
    const VrtSecDevLabelDef *l = vrt_dev_seclabel_get(seclabels, "dac");
    LabelPath *lp;

    if (!path || !*path)
        return true;
    for (guint i = 0; i < list->len; i++) {
        if (g_str_equal(((LabelPath *)list->pdata[i])->path, path))
            return true;
    }
    lp = g_new0(LabelPath, 1);
    lp->path = g_strdup(path);
    g_ptr_array_add(list, lp);
    if (l && l->relabel && l->label) {
        lp->own = true;
        return parse_ownership(l->label, &lp->uid, &lp->gid, error);
    }
    return true;
}

/* Every file def's QEMU opens by path, disks' backing chains included
 * (LabelPath: a device's own label applies to its top file alone, as in
 * libvirt, where each layer of a chain has its own), then the labelled
 * device nodes of dev_nodes (VrtQemuDevNode). NULL on error. */
static GPtrArray *
label_paths(const VrtDomainDef *def, const GPtrArray *dev_nodes, GError **error)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(label_path_free);
    GPtrArray *chrs[] = { def->serials, def->consoles, def->channels, def->parallels };

    for (guint i = 0; def->disks && i < def->disks->len; i++) {
        VrtDomainDiskDef *disk = g_ptr_array_index(def->disks, i);
        g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func(g_free);

        if (disk->type == VRT_DOMAIN_DISK_TYPE_VOLUME && !disk->src)
            continue;
        if (!vrt_qemu_security_relabels_dev(disk->seclabels))
            continue;
        add_chain(chain, disk->src);
        for (guint k = 0; k < chain->len; k++) {
            /* a restore (error NULL) gives back what it can */
            if (!add_label_path(list, chain->pdata[k], k == 0 ? disk->seclabels : NULL, error) && error)
                return NULL;
        }
    }
    add_label_path(list, def->os.kernel, NULL, NULL);
    add_label_path(list, def->os.initrd, NULL, NULL);
    /* the UEFI variable store QEMU writes (the code image is read-only,
     * world-readable where distributions install it: not relabelled) */
    add_label_path(list, def->os.fw.nvram, NULL, NULL);
    for (guint l = 0; l < G_N_ELEMENTS(chrs); l++) {
        for (guint i = 0; chrs[l] && i < chrs[l]->len; i++) {
            VrtDomainChrDef *chr = g_ptr_array_index(chrs[l], i);

            /* a file QEMU writes, a host device node (type 'dev') it
             * opens: both QEMU's user's, as libvirt's DAC driver does */
            if ((chr->type == VRT_DOMAIN_CHR_TYPE_FILE || chr->type == VRT_DOMAIN_CHR_TYPE_DEV) &&
                vrt_qemu_security_relabels_dev(chr->seclabels) &&
                !add_label_path(list, chr->path, chr->seclabels, error) && error)
                return NULL;
        }
    }
    for (guint i = 0; dev_nodes && i < dev_nodes->len; i++) {
        const VrtQemuDevNode *n = dev_nodes->pdata[i];

        if (n->label)
            add_label_path(list, n->host_path, NULL, NULL);
    }
    return g_steal_pointer(&list);
}

static guint
get_ref(const char *path)
{
    char buf[32];
    ssize_t n = getxattr(path, XATTR_REF, buf, sizeof(buf) - 1);

    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return (guint)g_ascii_strtoull(buf, NULL, 10);
}

static bool
set_ref(const char *path, guint ref)
{
    char buf[32];
    int n = g_snprintf(buf, sizeof(buf), "%u", ref);

    return setxattr(path, XATTR_REF, buf, n, 0) == 0;
}

/* Chowns path to uid:gid, remembering its owner (or counting one more
 * user of an owner remembered already). A file that does not exist yet
 * (a chardev log QEMU creates) is left to QEMU. */
static bool
label_one(const char *path, uid_t uid, gid_t gid, bool remember, GError **error)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        if (errno == ENOENT)
            return true;
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "unable to stat: %s", path);
        return false;
    }
    if (remember) {
        guint ref = get_ref(path);

        if (ref > 0) {
            set_ref(path, ref + 1);
        } else {
            char owner[64];
            int n = g_snprintf(owner, sizeof(owner), "%u:%u", (unsigned)st.st_uid, (unsigned)st.st_gid);

            if (setxattr(path, XATTR_OWNER, owner, n, 0) == 0)
                set_ref(path, 1);
            else if (errno != ENOTSUP && errno != EOPNOTSUPP)
                g_debug("cannot remember the owner of %s: %s", path, g_strerror(errno));
        }
    }
    if ((st.st_uid != uid || st.st_gid != gid) && chown(path, uid, gid) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "unable to set user and group to '%u:%u' on '%s'",
                            (unsigned)uid, (unsigned)gid, path);
        return false;
    }
    return true;
}

/* One user fewer; the last gives the remembered owner back. */
static void
restore_one(const char *path)
{
    char owner[64];
    ssize_t n;
    guint ref = get_ref(path);
    unsigned u, g;

    if (ref == 0)
        return;
    if (ref > 1) {
        set_ref(path, ref - 1);
        return;
    }
    n = getxattr(path, XATTR_OWNER, owner, sizeof(owner) - 1);
    if (n > 0) {
        owner[n] = '\0';
        if (sscanf(owner, "%u:%u", &u, &g) == 2 && chown(path, (uid_t)u, (gid_t)g) < 0)
            g_warning("cannot give %s back to %u:%u: %s", path, u, g, g_strerror(errno));
    }
    removexattr(path, XATTR_OWNER);
    removexattr(path, XATTR_REF);
}

void
vrt_qemu_dev_node_free(VrtQemuDevNode *n)
{
    if (!n)
        return;
    g_free(n->ns_path);
    g_free(n->host_path);
    g_free(n);
}

void
vrt_qemu_security_restore(const VrtQemuSecConf *conf, const VrtDomainDef *def, const GPtrArray *dev_nodes)
{
    g_autoptr(GPtrArray) paths = NULL;

    if (!conf->dynamic_ownership || !conf->remember_owner || geteuid() != 0 || !vrt_qemu_security_relabels_def(def))
        return;
    {
        const VrtSecLabelDef *dac = vrt_domain_def_get_seclabel(def, "dac");

        /* QEMU as root labels nothing, unless a static label named its owner */
        if (g_strcmp0(conf->user, "root") == 0 && !(dac && dac->type == VRT_SECLABEL_STATIC))
            return;
    }
    paths = label_paths(def, dev_nodes, NULL);
    for (guint i = 0; paths && i < paths->len; i++)
        restore_one(((LabelPath *)g_ptr_array_index(paths, i))->path);
}

/* ---- identity ---- */

static bool
resolve_identity(VrtQemuConfine *c, GError **error)
{
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    char buf[16384];
    int n = MAX_GROUPS;

    if (getpwnam_r(c->conf.user, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                      "cannot run QEMU as user '%s' (qemu.conf's user): no such user on this host", c->conf.user);
        return false;
    }
    c->uid = pw.pw_uid;
    if (getgrnam_r(c->conf.group, &gr, buf, sizeof(buf), &grp) != 0 || !grp) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR,
                      "cannot run QEMU with group '%s' (qemu.conf's group): no such group on this host", c->conf.group);
        return false;
    }
    c->gid = gr.gr_gid;
    /* The user's own groups (kvm on Debian), as libvirt gives QEMU. */
    if (getgrouplist(c->conf.user, c->gid, c->groups, &n) < 0)
        n = MAX_GROUPS;
    c->ngroups = n;
    return true;
}

char *
vrt_qemu_security_baselabel(const VrtQemuSecConf *conf)
{
    VrtQemuConfine c = { .conf = *conf };

    if (geteuid() != 0)
        return g_strdup_printf("+%u:+%u", (unsigned)geteuid(), (unsigned)getegid());
    if (!resolve_identity(&c, NULL))
        return NULL;
    return g_strdup_printf("+%u:+%u", (unsigned)c.uid, (unsigned)c.gid);
}

/* ---- a running domain's new files ---- */

/* Whether conf has vrtd relabel files, and QEMU's uid/gid then. */
static bool
relabels(const VrtQemuSecConf *conf, uid_t *uid, gid_t *gid, GError **error)
{
    if (!conf->dynamic_ownership || g_strcmp0(conf->user, "root") == 0 || geteuid() != 0)
        return false;
    VrtQemuConfine c = { .conf = *conf };
    if (!resolve_identity(&c, error))
        return false;
    *uid = c.uid;
    *gid = c.gid;
    return true;
}

bool
vrt_qemu_security_label_path(const VrtQemuSecConf *conf, const char *path, GError **error)
{
    return vrt_qemu_security_label_dev_path(conf, path, NULL, error);
}

bool
vrt_qemu_security_label_dev_path(const VrtQemuSecConf *conf, const char *path, const GPtrArray *seclabels,
                                 GError **error)
{
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) top = g_ptr_array_new_with_free_func(label_path_free);
    g_autoptr(GError) err = NULL;
    uid_t uid;
    gid_t gid;

    if (!relabels(conf, &uid, &gid, &err)) {
        if (!err)
            return true;
        g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    /* the device's own DAC <label> for its top file, as at start */
    if (!add_label_path(top, path, seclabels, error))
        return false;
    add_chain(paths, path);
    for (guint i = 0; i < paths->len; i++) {
        const LabelPath *lp = i == 0 && top->len ? top->pdata[0] : NULL;

        if (!label_one(g_ptr_array_index(paths, i), lp && lp->own ? lp->uid : uid, lp && lp->own ? lp->gid : gid,
                       conf->remember_owner, error)) {
            for (guint j = 0; conf->remember_owner && j < i; j++)
                restore_one(g_ptr_array_index(paths, j));
            return false;
        }
    }
    return true;
}

bool
vrt_qemu_security_give_path(const VrtQemuSecConf *conf, const char *path, GError **error)
{
    VrtQemuConfine c = { .conf = *conf };

    if (g_strcmp0(conf->user, "root") == 0 || geteuid() != 0)
        return true;
    if (!resolve_identity(&c, error))
        return false;
    c.drop = true;
    return vrt_qemu_confine_give(&c, path, error);
}

void
vrt_qemu_security_restore_path(const VrtQemuSecConf *conf, const char *path)
{
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);

    if (!conf->dynamic_ownership || !conf->remember_owner || g_strcmp0(conf->user, "root") == 0 || geteuid() != 0)
        return;
    add_chain(paths, path);
    for (guint i = 0; i < paths->len; i++)
        restore_one(g_ptr_array_index(paths, i));
}

bool
vrt_qemu_security_label_file(const VrtQemuSecConf *conf, const VrtDomainDef *def, const char *path, GError **error)
{
    g_autoptr(GError) err = NULL;
    uid_t uid;
    gid_t gid;

    if (!vrt_qemu_security_relabels_def(def))
        return true;
    if (!relabels(conf, &uid, &gid, &err)) {
        if (!err)
            return true;
        g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    return label_one(path, uid, gid, conf->remember_owner, error);
}

void
vrt_qemu_security_restore_file(const VrtQemuSecConf *conf, const VrtDomainDef *def, const char *path)
{
    if (!conf->dynamic_ownership || !conf->remember_owner || g_strcmp0(conf->user, "root") == 0 || geteuid() != 0 ||
        !vrt_qemu_security_relabels_def(def))
        return;
    restore_one(path);
}

/* ---- a running QEMU's /dev ---- */

/* What the child that enters QEMU's mount namespace does: every step a
 * system call (the child of a threaded daemon may call nothing else). */
typedef struct {
    int ns_fd; /* QEMU's /proc/PID/ns/mnt */
    bool add;
    char dir[64]; /* /dev/vfio */
    char node[64]; /* /dev/vfio/N */
    mode_t mode; /* S_IFCHR: mknod with rdev; S_IFREG: bind src_fd */
    dev_t rdev;
    uid_t uid;
    gid_t gid;
    char src[256]; /* the host file bound in (a simulated host's node) */
} NsNode;

static const char *const ns_errors[] = {
    NULL,
    "cannot enter QEMU's mount namespace",
    "QEMU's /dev has no room for the node",
    "cannot create the node in QEMU's /dev",
    "cannot give the node in QEMU's /dev to QEMU's user",
    "cannot bind the host's node in QEMU's /dev",
    "cannot remove the node from QEMU's /dev",
};

static int
ns_child(const NsNode *n)
{
    struct stat dev_st, dir_st;

    if (setns(n->ns_fd, CLONE_NEWNS) < 0)
        return 1;
    if (stat("/dev", &dev_st) < 0)
        return 2;
    if (n->add && mkdir(n->dir, 0755) < 0 && errno != EEXIST)
        return 3;
    if (stat(n->dir, &dir_st) < 0)
        return n->add ? 3 : 0;
    /* a QEMU started by an older vrtd may have the host's /dev/vfio bound
     * in: the node is the host's own, never created or removed from here */
    if (dir_st.st_dev != dev_st.st_dev)
        return 0;
    if (!n->add) {
        umount2(n->node, MNT_DETACH);
        if (unlink(n->node) < 0 && errno != ENOENT)
            return 6;
        return 0;
    }
    if (S_ISCHR(n->mode)) {
        if (mknod(n->node, n->mode, n->rdev) < 0 && errno != EEXIST)
            return 3;
    } else {
        /* there already (bound for the group): not bound twice, as mknod
         * leaves a node that exists */
        int fd = open(n->node, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, n->mode & 07777);

        if (fd < 0)
            return errno == EEXIST ? 0 : 3;
        close(fd);
        if (mount(n->src, n->node, NULL, MS_BIND, NULL) < 0)
            return 5;
    }
    if (chown(n->node, n->uid, n->gid) < 0 || chmod(n->node, n->mode & 07777) < 0)
        return 4;
    return 0;
}

static bool
ns_run(NsNode *n, pid_t qemu, GError **error)
{
    g_autofree char *ns_path = g_strdup_printf("/proc/%d/ns/mnt", (int)qemu);
    char own[64] = "", theirs[64] = "";
    pid_t child;
    int status = 0;

    /* QEMU in vrtd's own mount namespace (namespaces = []) sees the host's /dev */
    if (readlink("/proc/self/ns/mnt", own, sizeof(own) - 1) < 0 || readlink(ns_path, theirs, sizeof(theirs) - 1) < 0 ||
        g_str_equal(own, theirs))
        return true;
    n->ns_fd = open(ns_path, O_RDONLY | O_CLOEXEC);
    if (n->ns_fd < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open %s", ns_path);
        return false;
    }
    child = fork();
    if (child == 0)
        _exit(ns_child(n));
    close(n->ns_fd);
    if (child < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot fork to enter QEMU's mount namespace");
        return false;
    }
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;

        vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "%s (%s)",
                      code < (int)G_N_ELEMENTS(ns_errors) && ns_errors[code] ? ns_errors[code] : "failed", n->node);
        return false;
    }
    return true;
}

bool
vrt_qemu_ns_add_node(pid_t qemu, const char *ns_path, const char *host_path, GError **error)
{
    NsNode n = { .add = true };
    struct stat st;

    if (stat(host_path, &st) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "unable to stat: %s", host_path);
        return false;
    }
    g_strlcpy(n.node, ns_path, sizeof(n.node));
    {
        g_autofree char *dir = g_path_get_dirname(ns_path);

        g_strlcpy(n.dir, dir, sizeof(n.dir));
    }
    n.mode = st.st_mode;
    n.rdev = st.st_rdev;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    if (!S_ISCHR(st.st_mode)) {
        /* not a device (a simulated host's): the host's file bound in. A
         * mount of vrtd's namespace cannot be bound into another, but
         * QEMU's namespace holds copies of vrtd's mounts outside /dev:
         * the same path reaches the file there */
        if (g_str_has_prefix(host_path, "/dev/") || strlen(host_path) >= sizeof(n.src)) {
            vrt_error_set(error, VIR_ERR_SYSTEM_ERROR, "%s is not a device node", host_path);
            return false;
        }
        g_strlcpy(n.src, host_path, sizeof(n.src));
        n.mode = S_IFREG | (st.st_mode & 07777);
    }
    return ns_run(&n, qemu, error);
}

bool
vrt_qemu_ns_remove_node(pid_t qemu, const char *ns_path, GError **error)
{
    NsNode n = { .add = false };
    g_autofree char *dir = g_path_get_dirname(ns_path);

    g_strlcpy(n.node, ns_path, sizeof(n.node));
    g_strlcpy(n.dir, dir, sizeof(n.dir));
    return ns_run(&n, qemu, error);
}

/* ---- the mount namespace's /dev ---- */

static bool
add_node(VrtQemuConfine *c, const char *name, const char *host_path, mode_t perms)
{
    struct stat st;
    Node *n;

    if (c->nnodes >= MAX_NODES)
        return false;
    n = &c->nodes[c->nnodes];
    if (!host_path) {
        n->mode = S_IFDIR | perms;
        n->rdev = 0;
    } else {
        if (stat(host_path, &st) < 0 || !S_ISCHR(st.st_mode))
            return false;
        n->mode = S_IFCHR | perms;
        n->rdev = st.st_rdev;
    }
    g_snprintf(n->path, sizeof(n->path), "%s/%s", c->stage, name);
    c->nnodes++;
    return true;
}

static bool
plan_dev(VrtQemuConfine *c, const VrtDomainDef *def, const char *run_dir, const char *dev_kvm, GError **error)
{
    static const char *const basic[] = { "null", "zero", "full", "random", "urandom" };

    if (g_snprintf(c->stage, sizeof(c->stage), "%s/dev", run_dir) >= (int)sizeof(c->stage)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "run directory '%s' is too long", run_dir);
        return false;
    }
    if (mkdir(c->stage, 0700) < 0 && errno != EEXIST) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot create %s", c->stage);
        return false;
    }
    for (guint i = 0; i < G_N_ELEMENTS(basic); i++) {
        g_autofree char *host = g_strconcat("/dev/", basic[i], NULL);

        add_node(c, basic[i], host, 0666);
    }
    /* ptmx opens the devpts instance mounted beside it: the host's, bound. */
    add_node(c, "ptmx", "/dev/ptmx", 0666);
    add_node(c, "pts", NULL, 0755);
    g_strlcpy(c->pts_src, "/dev/pts", sizeof(c->pts_src));
    g_snprintf(c->pts_dst, sizeof(c->pts_dst), "%s/pts", c->stage);
    if (def->virt_type == VRT_DOMAIN_VIRT_KVM && dev_kvm)
        add_node(c, "kvm", dev_kvm, 0666);
    if (g_file_test("/dev/net/tun", G_FILE_TEST_EXISTS)) {
        add_node(c, "net", NULL, 0755);
        add_node(c, "net/tun", "/dev/net/tun", 0666);
    }
    return true;
}

/* The host devices' nodes (/dev/vfio/vfio and /dev/vfio/N of each group
 * the domain uses), as libvirt makes them rather than the host's whole
 * /dev/vfio: a device node with the host's numbers, owner and mode; a
 * simulated host's plain file bound in. A node the host does not have
 * is left out (QEMU's open says so). */
static bool
plan_dev_nodes(VrtQemuConfine *c, const GPtrArray *dev_nodes, GError **error)
{
    bool dir_made = false;

    for (guint i = 0; dev_nodes && i < dev_nodes->len; i++) {
        const VrtQemuDevNode *dn = dev_nodes->pdata[i];
        g_autofree char *dir = g_path_get_dirname(dn->ns_path);
        struct stat st;
        Node *n;

        if (!g_str_has_prefix(dn->ns_path, "/dev/") || stat(dn->host_path, &st) < 0)
            continue;
        if (c->nnodes + 2 > MAX_NODES || strlen(dn->host_path) >= sizeof(c->nodes[0].src)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "too many device nodes for QEMU's /dev (at %s)", dn->ns_path);
            return false;
        }
        if (!dir_made && !g_str_equal(dir, "/dev")) {
            /* one level below /dev (vfio/) */
            n = &c->nodes[c->nnodes++];
            *n = (Node){ .mode = S_IFDIR | 0755 };
            g_snprintf(n->path, sizeof(n->path), "%s/%s", c->stage, dir + strlen("/dev/"));
            dir_made = true;
        }
        n = &c->nodes[c->nnodes++];
        *n = (Node){ .own = true, .uid = st.st_uid, .gid = st.st_gid };
        if (S_ISCHR(st.st_mode)) {
            n->mode = S_IFCHR | (st.st_mode & 07777);
            n->rdev = st.st_rdev;
        } else {
            n->mode = S_IFREG | (st.st_mode & 07777);
            g_strlcpy(n->src, dn->host_path, sizeof(n->src));
        }
        g_snprintf(n->path, sizeof(n->path), "%s/%s", c->stage, dn->ns_path + strlen("/dev/"));
    }
    return true;
}

/* The host device nodes of def's type 'dev' character devices directly
 * in /dev (/dev/ttyS0, /dev/parport0), made in QEMU's private /dev as the
 * host has them (after their labelling), as libvirt's namespace code does;
 * a node elsewhere is not made (QEMU's open says so). */
static bool
plan_chr_nodes(VrtQemuConfine *c, const VrtDomainDef *def, GError **error)
{
    GPtrArray *chrs[] = { def->serials, def->consoles, def->parallels, def->channels };
    g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_qemu_dev_node_free);

    for (guint l = 0; l < G_N_ELEMENTS(chrs); l++) {
        for (guint i = 0; chrs[l] && i < chrs[l]->len; i++) {
            const VrtDomainChrDef *chr = g_ptr_array_index(chrs[l], i);
            g_autofree char *dir = NULL;
            VrtQemuDevNode *n;
            gboolean seen = FALSE;

            if (chr->type != VRT_DOMAIN_CHR_TYPE_DEV || !chr->path)
                continue;
            dir = g_path_get_dirname(chr->path);
            if (!g_str_equal(dir, "/dev"))
                continue;
            /* a console is often the first serial again: one node */
            for (guint k = 0; k < nodes->len && !seen; k++)
                seen = g_str_equal(((VrtQemuDevNode *)nodes->pdata[k])->ns_path, chr->path);
            if (seen)
                continue;
            n = g_new0(VrtQemuDevNode, 1);
            n->ns_path = g_strdup(chr->path);
            n->host_path = g_strdup(chr->path);
            g_ptr_array_add(nodes, n);
        }
    }
    return plan_dev_nodes(c, nodes, error);
}

/* Whether QEMU's identity can search dir and each directory above it: a
 * private root in a 0700 directory (mkdtemp's) is not reachable by
 * libvirt-qemu, and QEMU would fail later on its pidfile with a bare
 * "Permission denied". Errors: VIR_ERR_OPERATION_FAILED naming the
 * directory, its mode and owner. */
static bool
check_reachable(const VrtQemuConfine *c, const char *dir, GError **error)
{
    g_autofree char *cur = g_strdup(dir);

    while (cur) {
        struct stat st;
        mode_t need = 0001;
        char *up;

        if (stat(cur, &st) == 0) {
            if (st.st_uid == c->uid)
                need = 0100;
            else if (st.st_gid == c->gid)
                need = 0010;
            else
                for (int i = 0; i < c->ngroups; i++)
                    if (c->groups[i] == st.st_gid)
                        need = 0010;
            if (!(st.st_mode & need)) {
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED,
                              "QEMU runs as user '%s', which cannot reach '%s' (mode %04o, owner %u:%u): give it "
                              "search permission, or set user in qemu.conf",
                              c->conf.user, cur, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
                              (unsigned)st.st_gid);
                return false;
            }
        }
        if (g_str_equal(cur, "/"))
            break;
        up = g_path_get_dirname(cur);
        g_free(cur);
        cur = up;
    }
    return true;
}

/* ---- a start ---- */

VrtQemuConfine *
vrt_qemu_confine_prepare(const VrtQemuSecConf *conf, VrtDomainDef *def, const char *run_dir, const char *pidfile,
                         const char *dev_kvm, const GPtrArray *dev_nodes, GError **error)
{
    g_autoptr(VrtQemuConfine) c = g_new0(VrtQemuConfine, 1);
    const VrtSecLabelDef *dac;

    c->conf = *conf;
    c->labelled = g_ptr_array_new_with_free_func(g_free);
    if (!check_models(conf, def, error))
        return NULL;
    dac = vrt_domain_def_get_seclabel(def, "dac");
    /* An unprivileged vrtd (a test, a session) cannot change QEMU's
     * identity, mounts or files' owners: QEMU runs as vrtd's user, as
     * libvirt's session daemon runs it, with the sandbox alone. */
    if (geteuid() != 0) {
        c->conf.dynamic_ownership = false;
        c->conf.remember_owner = false;
        fill_live_label(def, geteuid(), getegid());
        return g_steal_pointer(&c);
    }
    c->drop = g_strcmp0(conf->user, "root") != 0;
    if (c->drop && !resolve_identity(c, error))
        return NULL;
    /* A static DAC label names QEMU's user and group (the configured
     * user's supplementary groups kept, as libvirt keeps them). */
    if (dac && dac->type == VRT_SECLABEL_STATIC) {
        if (!parse_ownership(dac->label, &c->uid, &c->gid, error))
            return NULL;
        c->drop = c->uid != 0 || c->gid != 0;
    }
    c->img_uid = c->uid;
    c->img_gid = c->gid;
    if (dac && dac->type == VRT_SECLABEL_STATIC && dac->relabel &&
        !parse_ownership(dac->imagelabel ? dac->imagelabel : dac->label, &c->img_uid, &c->img_gid, error))
        return NULL;
    /* type='none' and relabel='no': the files keep their owners */
    if (!vrt_qemu_security_relabels_def(def))
        c->conf.dynamic_ownership = false;
    fill_live_label(def, c->drop ? c->uid : 0, c->drop ? c->gid : 0);
    if (c->drop) {
        /* run_dir itself is QEMU's below; what leads to it must be open */
        g_autofree char *above = g_path_get_dirname(run_dir);
        g_autofree char *piddir = pidfile ? g_path_get_dirname(pidfile) : NULL;

        if (!check_reachable(c, above, error) || (piddir && !check_reachable(c, piddir, error)))
            return NULL;
    }
    if (conf->namespaces && !plan_dev(c, def, run_dir, dev_kvm, error))
        return NULL;
    c->ns = conf->namespaces;
    if (!c->drop)
        return c->ns && (!plan_dev_nodes(c, dev_nodes, error) || !plan_chr_nodes(c, def, error)) ? NULL
                                                                                                 : g_steal_pointer(&c);
    if (def->mem && def->mem->locked)
        c->memlock = RLIM_INFINITY;
    else if (def->hostdevs && def->hostdevs->len > 0)
        c->memlock = (rlim_t)def->memory_kib * 1024 + (1ULL << 30);
    if (chown(run_dir, c->uid, c->gid) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "unable to set user and group on '%s'", run_dir);
        return NULL;
    }
    if (pidfile) {
        int fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

        if (fd < 0 || fchown(fd, c->uid, c->gid) < 0) {
            vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot prepare pidfile '%s'", pidfile);
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        close(fd);
    }
    if (c->conf.dynamic_ownership) {
        g_autoptr(GPtrArray) paths = label_paths(def, dev_nodes, error);

        for (guint i = 0; paths && i < paths->len; i++) {
            const LabelPath *lp = g_ptr_array_index(paths, i);

            if (!label_one(lp->path, lp->own ? lp->uid : c->img_uid, lp->own ? lp->gid : c->img_gid,
                           conf->remember_owner, error))
                return NULL;
            g_ptr_array_add(c->labelled, g_strdup(lp->path));
        }
        if (!paths)
            return NULL;
    }
    /* the host devices' nodes of the private /dev, as the host has them
     * now that they are labelled */
    if (c->ns && (!plan_dev_nodes(c, dev_nodes, error) || !plan_chr_nodes(c, def, error)))
        return NULL;
    return g_steal_pointer(&c);
}

void
vrt_qemu_confine_commit(VrtQemuConfine *c)
{
    c->committed = true;
}

bool
vrt_qemu_confine_give(const VrtQemuConfine *c, const char *path, GError **error)
{
    if (!c->drop)
        return true;
    if (chown(path, c->uid, c->gid) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "unable to set user and group to '%u:%u' on '%s'",
                            (unsigned)c->uid, (unsigned)c->gid, path);
        return false;
    }
    return true;
}

bool
vrt_qemu_confine_drops(const VrtQemuConfine *c)
{
    return c->drop;
}

bool
vrt_qemu_confine_sandbox(const VrtQemuConfine *c)
{
    return c->conf.seccomp_sandbox;
}

void
vrt_qemu_confine_free(VrtQemuConfine *c)
{
    if (!c)
        return;
    if (!c->committed && c->conf.remember_owner) {
        for (guint i = 0; i < c->labelled->len; i++)
            restore_one(g_ptr_array_index(c->labelled, i));
    }
    g_ptr_array_unref(c->labelled);
    g_free(c);
}

const char *
vrt_qemu_confine_child(const VrtQemuConfine *c)
{
    if (c->ns) {
        if (unshare(CLONE_NEWNS) < 0)
            return "cannot unshare the mount namespace";
        /* Host mounts still reach QEMU (a CD inserted later), none of its
         * leave the namespace. */
        if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
            return "cannot make the mounts slaves";
        if (mount("devfs", c->stage, "tmpfs", MS_NOSUID, "mode=755,size=65536") < 0)
            return "cannot mount the tmpfs for /dev";
        umask(0);
        for (guint i = 0; i < c->nnodes; i++) {
            const Node *n = &c->nodes[i];

            if (S_ISDIR(n->mode) ? mkdir(n->path, n->mode & 07777) < 0 : mknod(n->path, n->mode, n->rdev) < 0)
                return "cannot create a node of /dev";
            if (n->own && chown(n->path, n->uid, n->gid) < 0)
                return "cannot give a node of /dev its owner";
            /* a simulated host's node: the host's file seen through it */
            if (S_ISREG(n->mode) && mount(n->src, n->path, NULL, MS_BIND, NULL) < 0)
                return "cannot bind a host device's node in /dev";
        }
        umask(077);
        if (mount(c->pts_src, c->pts_dst, NULL, MS_BIND, NULL) < 0)
            return "cannot bind /dev/pts";
        if (mount(c->stage, "/dev", NULL, MS_MOVE, NULL) < 0)
            return "cannot move the tmpfs onto /dev";
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return "cannot set no_new_privs";
    if (c->drop) {
        /* Raised while still root: the user's own limit cannot be. */
        if (c->memlock) {
            struct rlimit lim = { c->memlock, c->memlock };

            if (setrlimit(RLIMIT_MEMLOCK, &lim) < 0)
                return "cannot raise the locked memory limit (RLIMIT_MEMLOCK) QEMU's user needs for <locked/> or VFIO memory";
        }
        if (setgroups((size_t)c->ngroups, c->groups) < 0)
            return "cannot set the supplementary groups";
        if (setgid(c->gid) < 0)
            return "cannot set the group";
        if (setuid(c->uid) < 0)
            return "cannot set the user";
    }
    /* Last, as libvirt sets the child's label: the profile takes effect at
     * the exec (the kernel's newer attribute file, or the older one). */
    if (c->aa_exec[0]) {
        size_t n = strlen(c->aa_exec);
        int fd = open("/proc/self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC);

        if (fd < 0)
            fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return "cannot open /proc/self/attr/exec for QEMU's AppArmor profile";
        if (write(fd, c->aa_exec, n) != (ssize_t)n) {
            close(fd);
            return "cannot set QEMU's AppArmor profile for its exec";
        }
        close(fd);
    }
    return NULL;
}

bool
vrt_qemu_confine_set_apparmor(VrtQemuConfine *c, const char *profile)
{
    int n = g_snprintf(c->aa_exec, sizeof(c->aa_exec), "exec %s", profile);

    if (n < 0 || (size_t)n >= sizeof(c->aa_exec)) {
        c->aa_exec[0] = '\0';
        return false;
    }
    return true;
}

void
vrt_qemu_security_reachable(const VrtQemuSecConf *conf, const char *root, const char *dir)
{
    g_autofree char *cur = g_strdup(dir);

    if (g_strcmp0(conf->user, "root") == 0)
        return;
    /* Search permission (no listing) for QEMU's user down to the domains'
     * run directories, as /run/libvirt/qemu has: the directories vrt made
     * under its root, not the root itself. */
    while (cur && strlen(cur) > strlen(root) && !g_str_equal(cur, "/")) {
        struct stat st;
        char *up;

        if (stat(cur, &st) == 0 && (st.st_mode & 0011) != 0011 && chmod(cur, (st.st_mode & 07777) | 0011) < 0)
            g_warning("cannot make %s reachable for QEMU's user: %s", cur, g_strerror(errno));
        up = g_path_get_dirname(cur);
        g_free(cur);
        cur = up;
    }
}

void
vrt_qemu_security_log_apparmor(const VrtQemuSecConf *conf)
{
    if (conf->apparmor)
        g_info("QEMU runs under an AppArmor profile of its domain (libvirt-UUID)");
    else if (conf->apparmor_off)
        g_info("security_driver in qemu.conf leaves AppArmor out: QEMU gets no AppArmor profile");
    else
        g_info("AppArmor is not enabled on this host: QEMU gets no AppArmor profile");
}
