/*
 * Unit tests of the VF ownership registry: one holder per address, claims
 * that are retries of the same holder succeed, a release by anyone but the
 * holder changes nothing, and many threads claiming one VF at once (a node
 * device detach, two domains, a pool port) leave exactly one winner.
 */
#include <string.h>

#include "drivers/vf_registry.h"
#include "util/error.h"

/* The address spelled addr (aborts the test when it does not parse). */
static const VrtPciAddr *
addr_of(const char *addr, VrtPciAddr *out)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(vrt_pci_addr_parse(addr, out, &err));
    g_assert_no_error(err);
    return out;
}
#define A(text) addr_of((text), &(VrtPciAddr){ 0 })

static const guchar dom_a[16] = { 0xa };
static const guchar dom_b[16] = { 0xb };
static const guchar port_1[16] = { 0x1 };
static const guchar port_2[16] = { 0x2 };

static void
test_claim_release(void)
{
    g_autoptr(VrtVfRegistry) reg = vrt_vf_registry_new();
    g_autoptr(VrtVfHolder) a = vrt_vf_holder_new_domain("a", dom_a);
    g_autoptr(VrtVfHolder) b = vrt_vf_holder_new_domain("b", dom_b);
    g_autoptr(VrtVfHolder) other = NULL;
    g_autoptr(GError) err = NULL;

    g_assert_true(vrt_vf_registry_claim(reg, A("0000:06:10.2"), a, NULL, &err));
    g_assert_no_error(err);
    /* the same holder again (a retry, a rebuild) is fine; another spelling
     * of the address is the same device */
    g_assert_true(vrt_vf_registry_claim(reg, A("0:6:10.2"), a, NULL, &err));
    g_assert_no_error(err);
    g_assert_false(vrt_vf_registry_claim(reg, A("0000:06:10.2"), b, &other, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_assert_nonnull(strstr(err->message, "PCI device 0000:06:10.2 is in use by domain 'a'"));
    g_assert_cmpint(other->kind, ==, VRT_VF_HOLDER_DOMAIN);
    g_assert_cmpstr(other->domain, ==, "a");
    g_clear_error(&err);
    /* b cannot give back what a holds */
    g_assert_false(vrt_vf_registry_release(reg, A("0000:06:10.2"), b));
    g_autoptr(VrtVfHolder) cur = vrt_vf_registry_lookup(reg, A("0000:06:10.2"));
    g_assert_nonnull(cur);
    g_assert_true(vrt_vf_holder_same(cur, a));
    g_assert_true(vrt_vf_registry_release(reg, A("0000:06:10.2"), a));
    g_assert_null(vrt_vf_registry_lookup(reg, A("0000:06:10.2")));
    g_assert_cmpuint(vrt_vf_registry_count(reg), ==, 0);
}

static void
test_kinds(void)
{
    g_autoptr(VrtVfRegistry) reg = vrt_vf_registry_new();
    g_autoptr(VrtVfHolder) p1 = vrt_vf_holder_new_port("pool", port_1, "a", dom_a);
    g_autoptr(VrtVfHolder) p2 = vrt_vf_holder_new_port("pool", port_2, "a", dom_a);
    g_autoptr(VrtVfHolder) a = vrt_vf_holder_new_domain("a", dom_a);
    g_autoptr(VrtVfHolder) nd = vrt_vf_holder_new_nodedev("detach");
    g_autoptr(VrtVfHolder) nd2 = vrt_vf_holder_new_nodedev("reattach");
    g_autoptr(GError) err = NULL;

    g_assert_true(vrt_vf_registry_claim(reg, A("0000:06:10.0"), p1, NULL, NULL));
    /* another port, or the port's own domain by address: not the holder */
    g_assert_false(vrt_vf_registry_claim(reg, A("0000:06:10.0"), p2, NULL, NULL));
    g_assert_false(vrt_vf_registry_claim(reg, A("0000:06:10.0"), a, NULL, &err));
    g_assert_nonnull(strstr(err->message, "in use by domain 'a' (port 01000000-0000-0000-0000-000000000000 of network "
                                          "'pool')"));
    g_clear_error(&err);
    g_assert_false(vrt_vf_registry_claim(reg, A("0000:06:10.0"), nd, NULL, &err));
    g_clear_error(&err);
    /* two node device operations never share a device */
    g_assert_true(vrt_vf_registry_claim(reg, A("0000:06:10.1"), nd, NULL, NULL));
    g_assert_false(vrt_vf_registry_claim(reg, A("0000:06:10.1"), nd2, NULL, &err));
    g_assert_nonnull(strstr(err->message, "in use by node device detach"));
    g_assert_cmpuint(vrt_vf_registry_count(reg), ==, 2);
    /* only the operation that took it gives it back */
    g_assert_false(vrt_vf_registry_release(reg, A("0000:06:10.1"), nd2));
    g_assert_true(vrt_vf_registry_release(reg, A("0000:06:10.1"), nd));
    g_assert_cmpuint(vrt_vf_registry_count(reg), ==, 1);
}

#define RACERS 8
#define ROUNDS 2000

typedef struct {
    VrtVfRegistry *reg;
    VrtVfHolder *holder;
    guint won;
} Racer;

static gpointer
race(gpointer p)
{
    Racer *r = p;
    /* every racer goes through the same VFs in the same order, so most
     * claims meet another racer's claim of the same VF */
    for (guint round = 0; round < ROUNDS; round++) {
        g_autofree char *addr = g_strdup_printf("0000:%02x:%02x.%u", 6 + round / 256, (round / 8) % 32, round % 8);
        if (vrt_vf_registry_claim(r->reg, A(addr), r->holder, NULL, NULL))
            r->won++;
    }
    return NULL;
}

static void
test_concurrent_claims(void)
{
    g_autoptr(VrtVfRegistry) reg = vrt_vf_registry_new();
    Racer racers[RACERS] = { 0 };
    GThread *threads[RACERS];

    for (guint i = 0; i < RACERS; i++) {
        guchar u[16] = { (guchar)(i + 1) };
        racers[i].reg = reg;
        /* a node device detach, domains by address and pool ports, all after the same VFs */
        if (i == 0)
            racers[i].holder = vrt_vf_holder_new_nodedev("detach");
        else if (i % 2)
            racers[i].holder = vrt_vf_holder_new_domain("d", u);
        else
            racers[i].holder = vrt_vf_holder_new_port("pool", u, "d", u);
        threads[i] = g_thread_new("racer", race, &racers[i]);
    }
    guint total = 0;
    for (guint i = 0; i < RACERS; i++) {
        g_thread_join(threads[i]);
        total += racers[i].won;
        vrt_vf_holder_free(racers[i].holder);
    }
    /* every VF went to exactly one claimant */
    g_assert_cmpuint(total, ==, ROUNDS);
    g_assert_cmpuint(vrt_vf_registry_count(reg), ==, ROUNDS);
}

/* Two functions of one IOMMU group go to one domain at a time: a mate
 * held by another domain refuses the claim in libvirt's words, naming the
 * mate; the same domain's mate, a node device operation's, or no mate at
 * all does not. */
static void
test_group_claims(void)
{
    g_autoptr(VrtVfRegistry) reg = vrt_vf_registry_new();
    g_autoptr(VrtVfHolder) a = vrt_vf_holder_new_domain("a", dom_a);
    g_autoptr(VrtVfHolder) a_port = vrt_vf_holder_new_port("pool", port_1, "a", dom_a);
    g_autoptr(VrtVfHolder) b = vrt_vf_holder_new_domain("b", dom_b);
    g_autoptr(VrtVfHolder) nd = vrt_vf_holder_new_nodedev("detach");
    g_autoptr(VrtVfHolder) other = NULL;
    g_autoptr(GPtrArray) group = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;

    for (guint k = 0; k < 3; k++) {
        g_autofree char *text = g_strdup_printf("0000:06:10.%u", k);
        g_ptr_array_add(group, g_memdup2(A(text), sizeof(VrtPciAddr)));
    }
    g_assert_true(vrt_vf_registry_claim_in_group(reg, A("0000:06:10.0"), group, a, NULL, &err));
    g_assert_no_error(err);
    /* a's own port on a mate is a's */
    g_assert_true(vrt_vf_registry_claim_in_group(reg, A("0000:06:10.1"), group, a_port, NULL, &err));
    g_assert_no_error(err);
    g_assert_false(vrt_vf_registry_claim_in_group(reg, A("0000:06:10.2"), group, b, &other, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_assert_cmpstr(err->message, ==,
                    "Requested operation is not valid: PCI device 0000:06:10.0 is in use by driver "
                    "QEMU, domain a");
    g_assert_cmpstr(other->domain, ==, "a");
    g_clear_error(&err);
    g_assert_null(vrt_vf_registry_lookup(reg, A("0000:06:10.2")));
    /* the address itself held by another domain: the same words */
    g_assert_false(vrt_vf_registry_claim_in_group(reg, A("0000:06:10.0"), NULL, b, NULL, &err));
    g_assert_error(err, VRT_ERROR, VIR_ERR_OPERATION_INVALID);
    g_assert_nonnull(strstr(err->message, "PCI device 0000:06:10.0 is in use by driver QEMU, domain a"));
    g_clear_error(&err);
    /* a node device operation on a mate is no domain's */
    g_assert_true(vrt_vf_registry_release(reg, A("0000:06:10.0"), a));
    g_assert_true(vrt_vf_registry_release(reg, A("0000:06:10.1"), a_port));
    g_assert_true(vrt_vf_registry_claim(reg, A("0000:06:10.0"), nd, NULL, &err));
    g_assert_true(vrt_vf_registry_claim_in_group(reg, A("0000:06:10.2"), group, b, NULL, &err));
    g_assert_no_error(err);
    /* once a's last mate is gone, b may have the group: b holds .2 now */
    g_assert_false(vrt_vf_registry_claim_in_group(reg, A("0000:06:10.1"), group, a, NULL, &err));
    g_assert_nonnull(strstr(err->message, "PCI device 0000:06:10.2 is in use by driver QEMU, domain b"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vf-registry/claim-release", test_claim_release);
    g_test_add_func("/vf-registry/kinds", test_kinds);
    g_test_add_func("/vf-registry/concurrent-claims", test_concurrent_claims);
    g_test_add_func("/vf-registry/group-claims", test_group_claims);
    return g_test_run();
}
