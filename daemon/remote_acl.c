/*
 * Fine-grained access control (access_drivers = [ "polkit" ]), libvirt's
 * polkit access driver: before a call runs, each permission the procedure
 * checks (protocol/remote_acl.tsv, libvirt's @acl) is asked of polkitd as
 * the action org.libvirt.api.OBJECT.PERM for the calling process, with the
 * object's attributes as details (connect_driver "QEMU", domain_name,
 * domain_uuid; the other kinds' in daemon/remote_acl_objects.c). The domain is the one the daemon holds under the uuid the
 * call names (or the name or id a lookup names), never the name a client
 * wrote beside it. List calls show only the objects the caller passes the
 * procedure's filter permission for (@aclfilter). A refusal is libvirt's
 * VIR_ERR_ACCESS_DENIED "access denied: 'QEMU' denied access" (why is in
 * the log only, as libvirt does). With access_drivers empty nothing here
 * runs.
 */
#include "daemon/acl.h"
#include "daemon/polkit.h"
#include "drivers/qemu/qemu_driver.h"
#include "util/error.h"
#include "util/uuid.h"

#include <string.h>

#define ACL_DRIVER "QEMU"

bool
vrt_acl_enabled(VrtDaemon *daemon)
{
    return daemon->cfg.access_drivers && g_strv_contains((const char *const *)daemon->cfg.access_drivers, "polkit");
}

/* org.libvirt.api.OBJECT.PERM with libvirt's '_' to '-'. */
static char *
action_of(const char *object, const char *perm)
{
    char *a = g_strdup_printf("org.libvirt.api.%s.%s", object, perm);
    g_strdelimit(a, "_", '-');
    return a;
}

/* 1 allowed, 0 refused (error set: libvirt's sanitized ACCESS_DENIED). */
static bool
ask(VrtCall *call, const char *object, const char *perm, const char *const *details, GError **error)
{
    g_autofree char *action = action_of(object, perm);
    g_autoptr(GError) why = NULL;
    pid_t pid;
    uid_t uid;
    guint64 start;

    if (vrt_polkit_client_subject(vrt_call_get_client(call), &pid, &start, &uid, &why) &&
        vrt_polkit_check(action, pid, start, uid, details, false, &why) == 1)
        return true;
    g_message("polkit denied action %s to pid %d uid %d: %s", action, (int)pid, (int)uid,
              why ? why->message : "no subject");
    vrt_error_set(error, VIR_ERR_ACCESS_DENIED, "'%s' denied access", ACL_DRIVER);
    /* libvirt's access manager reports it (VIR_FROM_ACCESS). */
    vrt_call_set_error_origin(call, VIR_FROM_ACCESS);
    return false;
}

bool
vrt_acl_filter_domains(VrtCall *call, const char *object, const char *perm, guint n, const char *const *names,
                       const guchar (*uuids)[16], gboolean *allowed)
{
    g_autofree char *action = action_of(object, perm);
    g_autoptr(GError) why = NULL;
    pid_t pid;
    uid_t uid;
    guint64 start;

    if (n == 0)
        return true;
    if (!vrt_polkit_client_subject(vrt_call_get_client(call), &pid, &start, &uid, &why)) {
        g_message("polkit: %s", why->message);
        memset(allowed, 0, n * sizeof(*allowed));
        return true;
    }
    g_autofree char *uuidstrs = g_malloc(n * VRT_UUID_STRING_LEN);
    g_autofree const char **all = g_new0(const char *, n * 7);
    g_autofree const char *const **details = g_new0(const char *const *, n);
    for (guint i = 0; i < n; i++) {
        const char **d = &all[i * 7];
        char *u = &uuidstrs[i * VRT_UUID_STRING_LEN];
        vrt_uuid_format(uuids[i], u);
        d[0] = "connect_driver", d[1] = ACL_DRIVER, d[2] = "domain_name", d[3] = names[i];
        d[4] = "domain_uuid", d[5] = u;
        details[i] = d;
    }
    if (!vrt_polkit_check_many(action, pid, start, uid, details, n, allowed, &why)) {
        g_message("polkit: %s", why->message);
        memset(allowed, 0, n * sizeof(*allowed));
    }
    return true;
}

/* The domain a call is about, as the daemon holds it: NULL with *error
 * when it names one that does not exist, NULL without when it names none. */
static VrtDomainRef *
domain_of(VrtCall *call, const VrtProcInfo *info, const VrtProcAcl *acl, const void *args, GError **error)
{
    VrtQemuDriver *drv = vrt_call_daemon(call)->qemu;

    if (!drv || !args || (info->prog != VRT_REMOTE_PROGRAM && !acl->has_dom))
        return NULL;
    if (acl->has_dom) {
        const remote_nonnull_domain *dom = (const void *)((const char *)args + acl->dom_offset);
        return vrt_qemu_domain_lookup(drv, NULL, (const guchar *)dom->uuid, 0, error);
    }
    switch (info->proc) {
    case VRT_PROC_DOMAIN_LOOKUP_BY_NAME:
        return vrt_qemu_domain_lookup(drv, ((const remote_domain_lookup_by_name_args *)args)->name, NULL, 0, error);
    case VRT_PROC_DOMAIN_LOOKUP_BY_UUID:
        return vrt_qemu_domain_lookup(
            drv, NULL, (const guchar *)((const remote_domain_lookup_by_uuid_args *)args)->uuid, 0, error);
    case VRT_PROC_DOMAIN_LOOKUP_BY_ID:
        return vrt_qemu_domain_lookup(drv, NULL, NULL, ((const remote_domain_lookup_by_id_args *)args)->id, error);
    default: return NULL;
    }
}

bool
vrt_acl_check_call(VrtCall *call, const VrtProcInfo *info, const void *args, GError **error)
{
    const VrtProcAcl *acl = vrt_proc_acl(info);
    g_autoptr(VrtDomainRef) dom = NULL;
    char uuidstr[VRT_UUID_STRING_LEN] = "";
    const char *details[7] = { "connect_driver", ACL_DRIVER, NULL };

    if (acl->n_checks == 0)
        return true;
    if (g_str_equal(acl->checks[0].object, "domain")) {
        g_autoptr(GError) local = NULL;
        dom = domain_of(call, info, acl, args, &local);
        if (local) {
            /* libvirt finds the domain before it checks: "Domain not found". */
            g_propagate_error(error, g_steal_pointer(&local));
            return false;
        }
        if (dom) {
            vrt_uuid_format(dom->uuid, uuidstr);
            details[2] = "domain_name";
            details[3] = dom->name;
            details[4] = "domain_uuid";
            details[5] = uuidstr;
        }
    }
    g_autoptr(VrtAclAttrs) attrs = NULL;
    const char *const *asked = details;
    /* vrt enforces no filter, so there is never a binding to name: the
     * handler's "not found" answers, as libvirt's lookup does before it asks. */
    if (g_str_equal(acl->checks[0].object, "nwfilter_binding"))
        return true;
    if ((!dom && g_str_equal(acl->checks[0].object, "domain")) ||
        (!g_str_equal(acl->checks[0].object, "domain") && !g_str_equal(acl->checks[0].object, "connect"))) {
        /* a domain's new definition; networks, storage, node devices,
         * secrets, filters, interfaces */
        if (!vrt_acl_object_attrs(call, info, acl->checks[0].object, args, &attrs, error))
            return false;
        asked = vrt_acl_attrs_kv(attrs);
    }
    for (unsigned int i = 0; i < acl->n_checks; i++) {
        const VrtProcAclCheck *c = &acl->checks[i];
        if (vrt_proc_acl_applies(acl, c, args) && !ask(call, c->object, c->perm, asked, error))
            return false;
    }
    return true;
}
