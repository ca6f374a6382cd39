/*
 * The cgroup v2 device controller through a BPF_PROG_TYPE_CGROUP_DEVICE
 * program (see cgroup_devices.h). The program is a few instructions per
 * rule, written out here and loaded with the bpf() system call directly:
 * libbpf would be a new dependency for some twenty instructions.
 *
 * The program reads struct bpf_cgroup_dev_ctx (access_type: access << 16
 * | type; major; minor) and, for each rule in order: skips it when the
 * type differs, when the access asked has a bit the rule does not give,
 * or when a major or minor the rule names differs; otherwise returns 1
 * (allow). After the last rule it returns 0 (deny: the open fails with
 * EPERM).
 */
#include "host/cgroup_devices.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_ATTACHED 64

GArray *
vrt_cgroup_dev_rules_new(void)
{
    return g_array_new(FALSE, TRUE, sizeof(VrtCgroupDevRule));
}

void
vrt_cgroup_dev_rules_add(GArray *rules, char type, guint32 major, guint32 minor, guint access)
{
    VrtCgroupDevRule r = { .type = type, .major = major, .minor = minor, .access = access };

    for (guint i = 0; i < rules->len; i++) {
        VrtCgroupDevRule *o = &g_array_index(rules, VrtCgroupDevRule, i);

        if (o->type == type && o->major == major && o->minor == minor) {
            o->access |= access;
            return;
        }
    }
    g_array_append_val(rules, r);
}

bool
vrt_cgroup_dev_rules_add_path(GArray *rules, const char *path, guint access)
{
    struct stat st;

    if (!path || stat(path, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
        return false;
    vrt_cgroup_dev_rules_add(rules, S_ISCHR(st.st_mode) ? 'c' : 'b', major(st.st_rdev), minor(st.st_rdev), access);
    return true;
}

/* ---- the program ---- */

static struct bpf_insn
insn(guint8 code, guint8 dst, guint8 src, gint16 off, gint32 imm)
{
    struct bpf_insn i = { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };

    return i;
}

#define LDX_W(dst, off) insn(BPF_LDX | BPF_MEM | BPF_W, dst, 1, off, 0)
#define ALU32_IMM(op, dst, imm) insn(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src) insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static GArray *
build_program(const GArray *rules)
{
    GArray *p = g_array_new(FALSE, TRUE, sizeof(struct bpf_insn));
    struct bpf_insn head[] = {
        LDX_W(2, 0), ALU32_IMM(BPF_AND, 2, 0xffff), /* r2: type */
        LDX_W(3, 0), ALU32_IMM(BPF_RSH, 3, 16), /* r3: access */
        LDX_W(4, 4), /* r4: major */
        LDX_W(5, 8), /* r5: minor */
    };

    g_array_append_vals(p, head, G_N_ELEMENTS(head));
    for (guint i = 0; i < rules->len; i++) {
        const VrtCgroupDevRule *r = &g_array_index(rules, VrtCgroupDevRule, i);
        bool m = r->major != VRT_CGROUP_DEV_ANY, n = r->minor != VRT_CGROUP_DEV_ANY;
        /* instructions of this rule; each jump lands past the last */
        gint16 len = 6 + m + n, at = 0;
        gint32 type = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
        guint acc = (r->access & VRT_CGROUP_DEV_MKNOD ? BPF_DEVCG_ACC_MKNOD : 0) |
                    (r->access & VRT_CGROUP_DEV_READ ? BPF_DEVCG_ACC_READ : 0) |
                    (r->access & VRT_CGROUP_DEV_WRITE ? BPF_DEVCG_ACC_WRITE : 0);
        struct bpf_insn ri[8];

        ri[at] = JNE_IMM(2, type, len - at - 1), at++;
        ri[at] = MOV32_REG(0, 3), at++;
        ri[at] = ALU32_IMM(BPF_AND, 0, (gint32)~acc), at++;
        ri[at] = JNE_IMM(0, 0, len - at - 1), at++;
        if (m)
            ri[at] = JNE_IMM(4, (gint32)r->major, len - at - 1), at++;
        if (n)
            ri[at] = JNE_IMM(5, (gint32)r->minor, len - at - 1), at++;
        ri[at++] = MOV64_IMM(0, 1);
        ri[at++] = EXIT();
        g_array_append_vals(p, ri, at);
    }
    {
        struct bpf_insn tail[] = { MOV64_IMM(0, 0), EXIT() };

        g_array_append_vals(p, tail, G_N_ELEMENTS(tail));
    }
    return p;
}

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int
load_program(const GArray *rules, GError **error)
{
    g_autoptr(GArray) prog = build_program(rules);
    char log[4096] = "";
    union bpf_attr attr;
    int fd;

    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (guint64)(uintptr_t)prog->data;
    attr.insn_cnt = prog->len;
    attr.license = (guint64)(uintptr_t) "GPL";
    fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd < 0 && errno == EACCES) {
        /* the verifier refused it: its log says why */
        int saved;

        attr.log_buf = (guint64)(uintptr_t)log;
        attr.log_size = sizeof(log);
        attr.log_level = 1;
        fd = sys_bpf(BPF_PROG_LOAD, &attr);
        saved = errno;
        if (fd < 0)
            g_debug("cgroup device program refused: %s", log);
        errno = saved;
    }
    if (fd < 0)
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot load the cgroup device program (bpf)");
    return fd;
}

/* Ids of the device programs attached to the cgroup fd cg. */
static int
attached(int cg, guint32 *ids, GError **error)
{
    union bpf_attr attr;

    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = cg;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (guint64)(uintptr_t)ids;
    attr.query.prog_cnt = MAX_ATTACHED;
    if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot query the cgroup's device programs (bpf)");
        return -1;
    }
    return (int)MIN(attr.query.prog_cnt, MAX_ATTACHED);
}

static void
detach_ids(int cg, const guint32 *ids, int n)
{
    for (int i = 0; i < n; i++) {
        union bpf_attr attr;
        int fd;

        memset(&attr, 0, sizeof(attr));
        attr.prog_id = ids[i];
        fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
        if (fd < 0)
            continue;
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = cg;
        attr.attach_bpf_fd = fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        if (sys_bpf(BPF_PROG_DETACH, &attr) < 0)
            g_debug("cannot detach cgroup device program %u: %s", ids[i], g_strerror(errno));
        close(fd);
    }
}

bool
vrt_cgroup_devices_set(const char *dir, const GArray *rules, GError **error)
{
    guint32 old[MAX_ATTACHED];
    union bpf_attr attr;
    int cg, prog, n;
    bool ok = false;

    cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open cgroup %s", dir);
        return false;
    }
    if ((n = attached(cg, old, error)) < 0 || (prog = load_program(rules, error)) < 0) {
        close(cg);
        return false;
    }
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cg;
    attr.attach_bpf_fd = prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) {
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot attach the device program to cgroup %s (bpf)",
                            dir);
    } else {
        /* the new list holds; the old ones go (both held for a moment:
         * a device in both stays open-able throughout) */
        detach_ids(cg, old, n);
        ok = true;
    }
    close(prog);
    close(cg);
    return ok;
}

bool
vrt_cgroup_devices_clear(const char *dir, GError **error)
{
    guint32 old[MAX_ATTACHED];
    int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int n;

    if (cg < 0) {
        if (errno == ENOENT)
            return true;
        vrt_error_set_errno(error, VIR_ERR_SYSTEM_ERROR, errno, "cannot open cgroup %s", dir);
        return false;
    }
    n = attached(cg, old, error);
    if (n > 0)
        detach_ids(cg, old, n);
    close(cg);
    return n >= 0;
}
