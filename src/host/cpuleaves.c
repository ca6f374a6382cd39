/*
 * Reading the host's CPUID leaves (see cpuleaves.h). Which subleaves exist
 * follows the processor manuals' rules for each leaf (cache parameters
 * until a null type, structured features up to leaf 7's eax, topology
 * levels until an invalid one, the extended state components leaf 0xd
 * marks, the resource monitoring and allocation IDs, SGX and trace
 * subleaves, the SoC vendor leaf), as libvirt enumerates them.
 */
#include "host/cpuleaves.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* A regular file stands for the device as lines "LEAF SUBLEAF EAX EBX ECX
 * EDX" in hex; a leaf it does not list reads as zeros, as an unused leaf
 * does. */
static bool
table_leaf(const char *path, guint32 leaf, guint32 sub, VrtHostCpuid *out)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return false;
    out->eax = out->ebx = out->ecx = out->edx = 0;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        unsigned int v[6];
        if (sscanf(lines[i], "%x %x %x %x %x %x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) == 6 && v[0] == leaf &&
            v[1] == sub) {
            out->eax = v[2];
            out->ebx = v[3];
            out->ecx = v[4];
            out->edx = v[5];
            break;
        }
    }
    return true;
}

bool
vrt_host_cpuid(VrtHost *host, guint32 leaf, guint32 sub, VrtHostCpuid *out)
{
    out->leaf = leaf;
    out->sub = sub;
    g_autofree char *path = vrt_host_path(host, "/dev/cpu/0/cpuid");
    struct stat st;

    /* another host root: its cpuid device, or a table of leaves */
    if (!g_str_equal(path, "/dev/cpu/0/cpuid")) {
        if (stat(path, &st) < 0)
            return false;
        if (S_ISCHR(st.st_mode)) {
            guint32 regs[4];
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            ssize_t n;

            if (fd < 0)
                return false;
            n = pread(fd, regs, sizeof(regs), (off_t)((guint64)leaf | (guint64)sub << 32));
            close(fd);
            if (n != (ssize_t)sizeof(regs))
                return false;
            out->eax = regs[0];
            out->ebx = regs[1];
            out->ecx = regs[2];
            out->edx = regs[3];
            return true;
        }
        return table_leaf(path, leaf, sub, out);
    }
#if defined(__x86_64__) || defined(__i386__)
    __cpuid_count(leaf, sub, out->eax, out->ebx, out->ecx, out->edx);
    return true;
#else
    return false;
#endif
}

/* Appends leaf with its subleaves; false when a read fails. */
static bool
add_leaf(VrtHost *host, GArray *all, guint32 leaf)
{
    VrtHostCpuid l;

    if (!vrt_host_cpuid(host, leaf, 0, &l))
        return false;
    switch (leaf) {
    case 0x4: /* cache parameters: until the cache type is null */
        g_array_append_val(all, l);
        for (guint32 sub = 1; l.eax & 0x1f; sub++) {
            if (!vrt_host_cpuid(host, leaf, sub, &l))
                return false;
            g_array_append_val(all, l);
        }
        return true;
    case 0x7:
    case 0x14: { /* subleaves up to subleaf 0's eax */
        guint32 max = l.eax;
        g_array_append_val(all, l);
        for (guint32 sub = 1; sub <= max && sub < 64; sub++) {
            if (!vrt_host_cpuid(host, leaf, sub, &l))
                return false;
            g_array_append_val(all, l);
        }
        return true;
    }
    case 0xb: /* topology levels until ecx[15:8] is 0 */
        for (guint32 sub = 1; l.ecx & 0xff00; sub++) {
            g_array_append_val(all, l);
            if (!vrt_host_cpuid(host, leaf, sub, &l))
                return false;
        }
        return true;
    case 0xd: { /* the state components subleaves 0 and 1 mark */
        VrtHostCpuid s0 = l, s1;
        g_array_append_val(all, l);
        if (!vrt_host_cpuid(host, leaf, 1, &s1))
            return false;
        g_array_append_val(all, s1);
        for (guint32 sub = 2; sub < 64; sub++) {
            if (sub < 32 && !(s0.eax & (1u << sub)) && !(s1.ecx & (1u << sub)))
                continue;
            if (sub >= 32 && !(s0.edx & (1u << (sub - 32))) && !(s1.edx & (1u << (sub - 32))))
                continue;
            if (!vrt_host_cpuid(host, leaf, sub, &l))
                return false;
            g_array_append_val(all, l);
        }
        return true;
    }
    case 0xf:
    case 0x10: { /* a subleaf for each resource ID subleaf 0 reports */
        guint32 res = leaf == 0xf ? l.edx : l.ebx;
        g_array_append_val(all, l);
        for (guint32 sub = 1; sub < 32; sub++) {
            if (!(res & (1u << sub)))
                continue;
            if (!vrt_host_cpuid(host, leaf, sub, &l))
                return false;
            g_array_append_val(all, l);
        }
        return true;
    }
    case 0x12: { /* SGX: only when leaf 7 says so */
        bool sgx = false;
        for (guint i = 0; i < all->len; i++) {
            VrtHostCpuid *x = &g_array_index(all, VrtHostCpuid, i);
            if (x->leaf == 7 && x->sub == 0)
                sgx = x->ebx & (1u << 2);
        }
        if (!sgx)
            return true;
        g_array_append_val(all, l);
        if (!vrt_host_cpuid(host, leaf, 1, &l))
            return false;
        g_array_append_val(all, l);
        for (guint32 sub = 2; sub < 64; sub++) {
            if (!vrt_host_cpuid(host, leaf, sub, &l))
                return false;
            if (!(l.eax & 0xf))
                break;
            g_array_append_val(all, l);
        }
        return true;
    }
    case 0x17: { /* SoC vendor: valid when subleaf 0's eax >= 3 */
        guint32 max = l.eax;
        if (max < 3)
            return true;
        g_array_append_val(all, l);
        for (guint32 sub = 1; sub <= max && sub < 64; sub++) {
            if (!vrt_host_cpuid(host, leaf, sub, &l))
                return false;
            g_array_append_val(all, l);
        }
        return true;
    }
    default: g_array_append_val(all, l); return true;
    }
}

static bool
add_range(VrtHost *host, GArray *all, guint32 base)
{
    VrtHostCpuid l;

    if (!vrt_host_cpuid(host, base, 0, &l))
        return false;
    /* a bound against a device that answers anything for every leaf */
    for (guint32 leaf = base; leaf <= l.eax && leaf - base < 256; leaf++)
        if (!add_leaf(host, all, leaf))
            return false;
    return true;
}

GArray *
vrt_host_cpuid_all(VrtHost *host, GError **error)
{
    g_autoptr(GArray) all = g_array_new(FALSE, TRUE, sizeof(VrtHostCpuid));

    if (!add_range(host, all, 0) || !add_range(host, all, 0x80000000)) {
        vrt_error_set(error, VIR_ERR_NO_SUPPORT, "cannot detect host CPU model for %s architecture", "this");
        return NULL;
    }
    return g_steal_pointer(&all);
}
