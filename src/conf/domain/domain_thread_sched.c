/*
 * The scheduling policy of a domain's vCPU and I/O threads as libvirt
 * writes it in <cputune>: <vcpusched vcpus= scheduler= priority=> and
 * <iothreadsched iothreads= scheduler= priority=>. Each element names a
 * set of threads; libvirt keeps the policy on each thread, so it writes
 * one element per thread back, vCPUs by number and I/O threads in the
 * order of their ids. Parsed and checked here with libvirt 9.0's rules and
 * messages; the QEMU driver refuses to start a domain that has them.
 */
#include "conf/domain/domain_priv.h"
#include "conf/domain/domain_tune.h"
#include "util/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* libvirt's virProcessSchedPolicy, "none" (0) is not accepted in XML */
static const char *const sched_policies[] = { "none", "batch", "idle", "fifo", "rr", NULL };

/* Highest thread number a set may name (libvirt's VIR_DOMAIN_CPUMASK_LEN). */
#define SCHED_SET_MAX 4095

bool
vrt_domain_thread_sched_parse(xmlNodePtr node, VrtDomainTuneDef *t, GError **error)
{
    bool io = vrt_xml_is(node, "iothreadsched");
    const char *elem = io ? "iothreadsched" : "vcpusched";
    const char *attr = io ? "iothreads" : "vcpus";
    g_autofree char *set = vrt_xml_prop(node, attr);
    g_autofree char *sched = NULL;
    g_autofree char *canon = NULL;
    g_autoptr(GArray) ids = NULL;
    g_autoptr(GError) err = NULL;
    GArray **dst = io ? &t->iothread_scheds : &t->vcpu_scheds;
    VrtThreadSched s = { 0 };
    int policy;

    if (!vrt_xml_check_attrs(node, error, attr, "scheduler", "priority", NULL))
        return false;
    if (!set) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing attribute '%s' in element '%s'", attr, elem);
        return false;
    }
    if (!(canon = vrt_cpuset_canonical(set, SCHED_SET_MAX, &err))) {
        /* a well-formed set that names nothing has its own message */
        if (strstr(err->message, "Empty cpu list"))
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "'%s' scheduler bitmap '%s' is empty", attr, set);
        else
            g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    sched = vrt_xml_prop(node, "scheduler");
    if (!sched) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'scheduler' in element '%s'", elem);
        return false;
    }
    policy = vrt_enum_from_string(sched_policies, sched);
    if (policy <= 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'scheduler' in element '%s': '%s'.", elem,
                      sched);
        return false;
    }
    s.policy = policy;
    /* only the real-time policies have a priority; libvirt ignores it on
     * the others (and so does not write it back) */
    if (s.policy == VRT_THREAD_SCHED_FIFO || s.policy == VRT_THREAD_SCHED_RR) {
        g_autofree char *prio = vrt_xml_prop(node, "priority");
        char *end = NULL;
        gint64 v;

        if (!prio) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'priority' in element '%s'", elem);
            return false;
        }
        errno = 0;
        v = g_ascii_strtoll(prio, &end, 10);
        if (!*prio || *end || errno || v < G_MININT || v > G_MAXINT) {
            vrt_error_set(error, VIR_ERR_XML_ERROR,
                          "Invalid value for attribute 'priority' in element '%s': '%s'. Expected integer value", elem,
                          prio);
            return false;
        }
        s.priority = (int)v;
    }
    if (!*dst)
        *dst = g_array_new(FALSE, FALSE, sizeof(VrtThreadSched));
    ids = vrt_cpuset_to_array(canon);
    for (guint i = 0; i < ids->len; i++) {
        s.id = g_array_index(ids, guint, i);
        g_array_append_val(*dst, s);
    }
    return true;
}

static gint
sched_cmp(gconstpointer a, gconstpointer b)
{
    const VrtThreadSched *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* Every named thread exists and none is named by two elements, checked in
 * libvirt's order (per element, per thread: exists, then not set before). */
static bool
check_scheds(GArray *a, bool io, const GArray *iothread_ids, guint vcpus, GError **error)
{
    const char *elem = io ? "iothreadsched" : "vcpusched";
    const char *attr = io ? "iothreads" : "vcpus";

    for (guint i = 0; a && i < a->len; i++) {
        const VrtThreadSched *s = &g_array_index(a, VrtThreadSched, i);
        bool found = !io && s->id < vcpus;

        for (guint j = 0; io && j < iothread_ids->len && !found; j++)
            found = g_array_index(iothread_ids, guint, j) == s->id;
        if (!found && io) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Cannot find 'iothread' : %u", s->id);
            return false;
        }
        if (!found) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "vCPU '%u' is not present in domain definition", s->id);
            return false;
        }
        for (guint j = 0; j < i; j++)
            if (g_array_index(a, VrtThreadSched, j).id == s->id) {
                vrt_error_set(error, VIR_ERR_XML_DETAIL, "'%s' attributes '%s' must not overlap", elem, attr);
                return false;
            }
    }
    return true;
}

bool
vrt_domain_thread_sched_post_parse(VrtDomainDef *def, const GArray *iothread_ids, GError **error)
{
    VrtDomainTuneDef *t = def->tune;
    g_autoptr(GArray) sorted = NULL;

    if (!t || (!t->vcpu_scheds && !t->iothread_scheds))
        return true;
    if (!check_scheds(t->vcpu_scheds, false, iothread_ids, MAX(def->vcpus, 1), error) ||
        !check_scheds(t->iothread_scheds, true, iothread_ids, def->vcpus, error))
        return false;
    /* written back one per thread: vCPUs by number, I/O threads in the
     * order of the domain's ids */
    if (t->vcpu_scheds)
        g_array_sort(t->vcpu_scheds, sched_cmp);
    if (!t->iothread_scheds)
        return true;
    sorted = g_array_new(FALSE, FALSE, sizeof(VrtThreadSched));
    for (guint j = 0; j < iothread_ids->len; j++)
        for (guint i = 0; i < t->iothread_scheds->len; i++) {
            VrtThreadSched s = g_array_index(t->iothread_scheds, VrtThreadSched, i);

            if (s.id == g_array_index(iothread_ids, guint, j))
                g_array_append_val(sorted, s);
        }
    g_array_unref(t->iothread_scheds);
    t->iothread_scheds = g_steal_pointer(&sorted);
    return true;
}

static void
format_one(VrtFmt *f, const char *name, const VrtThreadSched *s)
{
    if (s->policy == VRT_THREAD_SCHED_FIFO || s->policy == VRT_THREAD_SCHED_RR)
        vrt_fmt_line(f, "<%ssched %ss='%u' scheduler='%s' priority='%d'/>", name, name, s->id,
                     sched_policies[s->policy], s->priority);
    else
        vrt_fmt_line(f, "<%ssched %ss='%u' scheduler='%s'/>", name, name, s->id, sched_policies[s->policy]);
}

void
vrt_domain_thread_sched_format(VrtFmt *f, const VrtDomainTuneDef *t)
{
    for (guint i = 0; t->vcpu_scheds && i < t->vcpu_scheds->len; i++)
        format_one(f, "vcpu", &g_array_index(t->vcpu_scheds, VrtThreadSched, i));
    for (guint i = 0; t->iothread_scheds && i < t->iothread_scheds->len; i++)
        format_one(f, "iothread", &g_array_index(t->iothread_scheds, VrtThreadSched, i));
}
