/*
 * Network filters (libvirt's nwfilter API: virsh nwfilter-list,
 * nwfilter-dumpxml, nwfilter-define, nwfilter-undefine): definitions only.
 * vrt stores, lists and shows filters so tools that manage them work, but
 * does not enforce them: no ebtables/iptables rules are ever made, and a
 * domain interface with a <filterref> is refused at start. Definitions
 * live in <root>/etc/vrt/nwfilter/NAME.xml, written durably (fsync of the
 * file and the directory) like domain and network definitions; at start
 * every *.xml there is loaded (the install step puts Debian's built-in
 * filters, libvirt-daemon-config-nwfilter's /etc/libvirt/nwfilter, there).
 *
 * A filter's XML is written back as libvirt writes what it read: the
 * root's chain (default "root") and its priority (the chain's default when
 * absent), the <uuid> (made when absent), each rule's action, direction
 * and priority (default 500, also for a priority outside [-1000,1000]),
 * the rule's protocol element as libvirt reads and writes it
 * (nwfilter_rule.h), a <filterref>'s parameters sorted by name, comments
 * and blank text dropped, two-space indentation.
 */
#pragma once

#include "util/fileutil.h"

#include <glib.h>
#include <stdbool.h>

typedef struct _VrtNwfilterDriver VrtNwfilterDriver;

typedef struct {
    char *name;
    guint8 uuid[16];
} VrtNwfilterRef;
void vrt_nwfilter_ref_free(VrtNwfilterRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNwfilterRef, vrt_nwfilter_ref_free)

/* virNWFilterDefineXMLFlags: VIR_NWFILTER_DEFINE_VALIDATE. */
#define VRT_NWFILTER_DEFINE_VALIDATE 1u

/* root: the state root ("" for the host). Files that do not parse are
 * logged and skipped. */
VrtNwfilterDriver *vrt_nwfilter_driver_new(const char *root, GError **error);
void vrt_nwfilter_driver_free(VrtNwfilterDriver *drv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtNwfilterDriver, vrt_nwfilter_driver_free)

/* VrtNwfilterRef*, by name. */
GPtrArray *vrt_nwfilter_list(VrtNwfilterDriver *drv);
VrtNwfilterRef *vrt_nwfilter_lookup_by_name(VrtNwfilterDriver *drv, const char *name, GError **error);
VrtNwfilterRef *vrt_nwfilter_lookup_by_uuid(VrtNwfilterDriver *drv, const guint8 *uuid, GError **error);
VrtNwfilterRef *vrt_nwfilter_define(VrtNwfilterDriver *drv, const char *xml, guint flags, GError **error);
bool vrt_nwfilter_undefine(VrtNwfilterDriver *drv, const guint8 *uuid, GError **error);
char *vrt_nwfilter_get_xml(VrtNwfilterDriver *drv, const guint8 *uuid, GError **error);

/* The canonical XML of a filter definition and its name and uuid
 * (exposed for the unit tests). */
char *vrt_nwfilter_canonical(const char *xml, char **name, guint8 uuid[16], GError **error);
