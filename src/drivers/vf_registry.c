/*
 * The VF ownership registry (see vf_registry.h): a table from canonical PCI
 * address to its holder under one mutex. Addresses are read with the host
 * seam's parser and written back in its canonical form, so "0000:06:10.2"
 * from a port file and the same function from a domain's <address> meet
 * under one key.
 */
#include "drivers/vf_registry.h"

#include <string.h>

#include "util/error.h"

struct _VrtVfRegistry {
    GMutex lock; /* guards held; innermost, no I/O under it */
    GHashTable *held; /* canonical address -> VrtVfHolder* */
};

VrtVfHolder *
vrt_vf_holder_new_port(const char *network, const guchar port_uuid[16], const char *domain,
                       const guchar domain_uuid[16])
{
    VrtVfHolder *h = g_new0(VrtVfHolder, 1);
    h->kind = VRT_VF_HOLDER_PORT;
    h->network = g_strdup(network);
    memcpy(h->port_uuid, port_uuid, 16);
    h->domain = g_strdup(domain);
    memcpy(h->domain_uuid, domain_uuid, 16);
    return h;
}

VrtVfHolder *
vrt_vf_holder_new_domain(const char *domain, const guchar domain_uuid[16])
{
    VrtVfHolder *h = g_new0(VrtVfHolder, 1);
    h->kind = VRT_VF_HOLDER_DOMAIN;
    h->domain = g_strdup(domain);
    memcpy(h->domain_uuid, domain_uuid, 16);
    return h;
}

VrtVfHolder *
vrt_vf_holder_new_nodedev(const char *what)
{
    VrtVfHolder *h = g_new0(VrtVfHolder, 1);
    static gint next_op; /* wraps after 2^32 operations: long after any is done */
    h->kind = VRT_VF_HOLDER_NODEDEV;
    h->what = g_strdup(what);
    h->op = (guint64)(guint)g_atomic_int_add(&next_op, 1) + 1;
    return h;
}

VrtVfHolder *
vrt_vf_holder_copy(const VrtVfHolder *holder)
{
    VrtVfHolder *h = g_memdup2(holder, sizeof(*holder));
    h->domain = g_strdup(holder->domain);
    h->network = g_strdup(holder->network);
    h->what = g_strdup(holder->what);
    return h;
}

void
vrt_vf_holder_free(VrtVfHolder *holder)
{
    if (!holder)
        return;
    g_free(holder->domain);
    g_free(holder->network);
    g_free(holder->what);
    g_free(holder);
}

bool
vrt_vf_holder_same(const VrtVfHolder *a, const VrtVfHolder *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case VRT_VF_HOLDER_PORT: return memcmp(a->port_uuid, b->port_uuid, 16) == 0;
    case VRT_VF_HOLDER_DOMAIN: return memcmp(a->domain_uuid, b->domain_uuid, 16) == 0;
    case VRT_VF_HOLDER_NODEDEV:
        /* two node device operations never share a device */
        return a->op == b->op;
    default: return false;
    }
}

char *
vrt_vf_holder_describe(const VrtVfHolder *holder)
{
    switch (holder->kind) {
    case VRT_VF_HOLDER_PORT: {
        char u[37];
        const guchar *p = holder->port_uuid;
        g_snprintf(u, sizeof(u), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", p[0], p[1],
                   p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]);
        return g_strdup_printf("domain '%s' (port %s of network '%s')", holder->domain, u, holder->network);
    }
    case VRT_VF_HOLDER_DOMAIN: return g_strdup_printf("domain '%s'", holder->domain);
    case VRT_VF_HOLDER_NODEDEV:
    default: return g_strdup_printf("node device %s", holder->what ? holder->what : "operation");
    }
}

VrtVfRegistry *
vrt_vf_registry_new(void)
{
    VrtVfRegistry *reg = g_new0(VrtVfRegistry, 1);
    g_mutex_init(&reg->lock);
    reg->held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)vrt_vf_holder_free);
    return reg;
}

void
vrt_vf_registry_free(VrtVfRegistry *reg)
{
    if (!reg)
        return;
    g_hash_table_unref(reg->held);
    g_mutex_clear(&reg->lock);
    g_free(reg);
}

/* The key of addr: its canonical text, so a multifunction flag (which the
 * address of one function does not depend on) never makes two keys. */
static char *
canonical(const VrtPciAddr *addr)
{
    return vrt_pci_addr_format(addr);
}

/* The claim itself, the registry's lock held. */
static bool
claim_locked(VrtVfRegistry *reg, const VrtPciAddr *addr, const VrtVfHolder *holder, VrtVfHolder **other, GError **error)
{
    g_autofree char *key = canonical(addr);
    const VrtVfHolder *cur = g_hash_table_lookup(reg->held, key);
    if (!cur) {
        g_hash_table_insert(reg->held, g_steal_pointer(&key), vrt_vf_holder_copy(holder));
        return true;
    }
    if (vrt_vf_holder_same(cur, holder))
        return true;
    g_autofree char *who = vrt_vf_holder_describe(cur);
    vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is in use by %s", key, who);
    if (other)
        *other = vrt_vf_holder_copy(cur);
    return false;
}

bool
vrt_vf_registry_claim(VrtVfRegistry *reg, const VrtPciAddr *addr, const VrtVfHolder *holder, VrtVfHolder **other,
                      GError **error)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&reg->lock);
    return claim_locked(reg, addr, holder, other, error);
}

/* Whether cur, a holder of a group mate, keeps the group from holder: a
 * domain's or port's claim for another domain. */
static bool
holds_group_against(const VrtVfHolder *cur, const VrtVfHolder *holder)
{
    if (cur->kind == VRT_VF_HOLDER_NODEDEV || !cur->domain)
        return false;
    if (holder->kind == VRT_VF_HOLDER_NODEDEV)
        return false;
    return memcmp(cur->domain_uuid, holder->domain_uuid, 16) != 0;
}

bool
vrt_vf_registry_claim_in_group(VrtVfRegistry *reg, const VrtPciAddr *addr, const GPtrArray *group,
                               const VrtVfHolder *holder, VrtVfHolder **other, GError **error)
{
    g_autofree char *key = canonical(addr);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&reg->lock);

    /* the group's check and the claim under one lock: two domains claiming
     * two mates at once never both get them */
    for (guint i = 0; group && i < group->len; i++) {
        g_autofree char *mate = canonical(g_ptr_array_index(group, i));
        const VrtVfHolder *cur;

        if (strcmp(mate, key) == 0)
            continue;
        cur = g_hash_table_lookup(reg->held, mate);
        if (!cur || !holds_group_against(cur, holder))
            continue;
        vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is in use by driver QEMU, domain %s", mate,
                      cur->domain);
        if (other)
            *other = vrt_vf_holder_copy(cur);
        return false;
    }
    {
        const VrtVfHolder *cur = g_hash_table_lookup(reg->held, key);

        if (cur && cur->domain && !vrt_vf_holder_same(cur, holder)) {
            vrt_error_set(error, VIR_ERR_OPERATION_INVALID, "PCI device %s is in use by driver QEMU, domain %s", key,
                          cur->domain);
            if (other)
                *other = vrt_vf_holder_copy(cur);
            return false;
        }
    }
    return claim_locked(reg, addr, holder, other, error);
}

bool
vrt_vf_registry_release(VrtVfRegistry *reg, const VrtPciAddr *addr, const VrtVfHolder *holder)
{
    g_autofree char *key = canonical(addr);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&reg->lock);
    const VrtVfHolder *cur = g_hash_table_lookup(reg->held, key);
    if (!cur || !vrt_vf_holder_same(cur, holder))
        return false;
    g_hash_table_remove(reg->held, key);
    return true;
}

VrtVfHolder *
vrt_vf_registry_lookup(VrtVfRegistry *reg, const VrtPciAddr *addr)
{
    g_autofree char *key = canonical(addr);
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&reg->lock);
    const VrtVfHolder *cur = g_hash_table_lookup(reg->held, key);
    return cur ? vrt_vf_holder_copy(cur) : NULL;
}

guint
vrt_vf_registry_count(VrtVfRegistry *reg)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&reg->lock);
    return g_hash_table_size(reg->held);
}
