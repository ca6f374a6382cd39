/*
 * <virtualport> of an interface (see domain_net_vport.h), kept out of the
 * interface parser.
 */
#include "conf/domain/domain_net_vport.h"

#include "util/error.h"
#include "util/uuid.h"
#include "util/xml.h"

#include <string.h>

const char *const vrt_vport_type_names[] = { "", "802.1Qbg", "802.1Qbh", "openvswitch", "midonet", NULL };

static bool
uuid_attr(xmlNodePtr node, const char *name, const char *what, guint8 out[16], bool *has, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, name);

    if (!v)
        return true;
    if (!vrt_uuid_parse(v, out)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "cannot parse %s parameter as a uuid", what);
        return false;
    }
    *has = true;
    return true;
}

bool
vrt_net_vport_parse(xmlNodePtr node, VrtNetVport *vp, GError **error)
{
    g_autofree char *type = vrt_xml_prop(node, "type");
    int t = 0;

    memset(vp, 0, sizeof(*vp));
    if (!vrt_xml_check_attrs(node, error, "type", NULL))
        return false;
    if (type && (t = vrt_enum_from_string(vrt_vport_type_names, type)) <= 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "unknown virtualport type");
        return false;
    }
    vp->set = true;
    vp->type = t;
    VRT_XML_FOREACH_CHILD(p, node)
    {
        g_autofree char *profileid = NULL;

        if (!vrt_xml_is(p, "parameters"))
            return vrt_xml_unsupported(p, error);
        if (!vrt_xml_check_attrs(p, error, "managerid", "typeid", "typeidversion", "instanceid", "profileid",
                                 "interfaceid", NULL) ||
            !vrt_xml_prop_uint(p, "managerid", 0xff, &vp->managerid, &vp->has_managerid, error) ||
            !vrt_xml_prop_uint(p, "typeid", 0xffffff, &vp->typeid, &vp->has_typeid, error) ||
            !vrt_xml_prop_uint(p, "typeidversion", 0xff, &vp->typeidversion, &vp->has_typeidversion, error) ||
            !uuid_attr(p, "instanceid", "instanceid", vp->instanceid, &vp->has_instanceid, error) ||
            !uuid_attr(p, "interfaceid", "interfaceid", vp->interfaceid, &vp->has_interfaceid, error))
            return false;
        profileid = vrt_xml_prop(p, "profileid");
        if (profileid) {
            if (strlen(profileid) >= sizeof(vp->profileid)) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "profileid parameter too long");
                return false;
            }
            g_strlcpy(vp->profileid, profileid, sizeof(vp->profileid));
        }
    }
    /* libvirt's parser makes up the ids a port needs */
    if (vp->type == VRT_VPORT_8021QBG && !vp->has_instanceid) {
        vrt_uuid_generate(vp->instanceid);
        vp->has_instanceid = true;
    }
    if ((vp->type == VRT_VPORT_OPENVSWITCH || vp->type == VRT_VPORT_MIDONET) && !vp->has_interfaceid) {
        vrt_uuid_generate(vp->interfaceid);
        vp->has_interfaceid = true;
    }
    return true;
}

void
vrt_net_vport_format(GString *buf, guint indent, const VrtNetVport *vp)
{
    g_autoptr(GString) a = g_string_new(NULL);
    bool none = vp->type == VRT_VPORT_NONE;
    bool qbg = vp->type == VRT_VPORT_8021QBG || none;
    char uuid[VRT_UUID_STRING_LEN];

    if (!vp->set)
        return;
    if (vp->has_managerid && qbg)
        g_string_append_printf(a, " managerid='%u'", vp->managerid);
    if (vp->has_typeid && qbg)
        g_string_append_printf(a, " typeid='%u'", vp->typeid);
    if (vp->has_typeidversion && qbg)
        g_string_append_printf(a, " typeidversion='%u'", vp->typeidversion);
    if (vp->has_instanceid && qbg) {
        vrt_uuid_format(vp->instanceid, uuid);
        g_string_append_printf(a, " instanceid='%s'", uuid);
    }
    if (vp->has_interfaceid && (vp->type == VRT_VPORT_MIDONET || vp->type == VRT_VPORT_OPENVSWITCH || none)) {
        vrt_uuid_format(vp->interfaceid, uuid);
        g_string_append_printf(a, " interfaceid='%s'", uuid);
    }
    if (vp->profileid[0] && (vp->type == VRT_VPORT_OPENVSWITCH || vp->type == VRT_VPORT_8021QBH || none))
        vrt_xml_format_attr(a, "profileid", vp->profileid);
    if (!a->len) {
        if (!none)
            vrt_xml_line(buf, indent, "<virtualport type='%s'/>", vrt_vport_type_names[vp->type]);
        return;
    }
    if (none)
        vrt_xml_line(buf, indent, "<virtualport>");
    else
        vrt_xml_line(buf, indent, "<virtualport type='%s'>", vrt_vport_type_names[vp->type]);
    vrt_xml_line(buf, indent + 1, "<parameters%s/>", a->str);
    vrt_xml_line(buf, indent, "</virtualport>");
}
