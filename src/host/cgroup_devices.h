/*
 * The cgroup v2 device controller: a BPF_PROG_TYPE_CGROUP_DEVICE program
 * attached to a cgroup that lets its processes open (read, write, mknod)
 * only the device numbers of a list, as libvirt does for each domain's
 * QEMU. The program is built and loaded with the raw bpf() system call.
 * Replacing a cgroup's list attaches the new program and then detaches
 * every other device program of that cgroup (found with BPF_PROG_QUERY),
 * so nothing has to be remembered across a restart of vrtd. Where the
 * kernel or the process lacks what this needs (no cgroup v2 directory,
 * no CAP_BPF/CAP_SYS_ADMIN, a kernel without cgroup BPF), the calls fail
 * with the reason and the callers go on without the limit.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define VRT_CGROUP_DEV_MKNOD (1u << 0)
#define VRT_CGROUP_DEV_READ (1u << 1)
#define VRT_CGROUP_DEV_WRITE (1u << 2)
#define VRT_CGROUP_DEV_RW (VRT_CGROUP_DEV_READ | VRT_CGROUP_DEV_WRITE)
#define VRT_CGROUP_DEV_ANY G_MAXUINT32

typedef struct {
    char type; /* 'c' or 'b' */
    guint32 major, minor; /* VRT_CGROUP_DEV_ANY: every number */
    guint access; /* VRT_CGROUP_DEV_* bits */
} VrtCgroupDevRule;

/* A GArray of VrtCgroupDevRule. */
GArray *vrt_cgroup_dev_rules_new(void);
/* Appends the rule of the device node at path (followed); a path that is
 * missing or not a device node adds nothing and returns false. */
bool vrt_cgroup_dev_rules_add_path(GArray *rules, const char *path, guint access);
void vrt_cgroup_dev_rules_add(GArray *rules, char type, guint32 major, guint32 minor, guint access);

/* Limits the processes of the cgroup directory dir (and its descendants)
 * to rules. Errors: VIR_ERR_SYSTEM_ERROR naming the system call and
 * errno. */
bool vrt_cgroup_devices_set(const char *dir, const GArray *rules, GError **error);
/* Removes every device program of dir (a missing dir is no error). */
bool vrt_cgroup_devices_clear(const char *dir, GError **error);
