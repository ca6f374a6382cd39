/*
 * A disk's startupPolicy (see domain_disk_startup.h), kept out of the
 * main disk parser.
 */
#include "conf/domain/domain_disk_startup.h"

#include "util/error.h"
#include "util/xml.h"

static const char *const names[] = { "", "mandatory", "requisite", "optional", NULL };

bool
vrt_disk_startup_parse(xmlNodePtr source, VrtDiskStartupPolicy *out, GError **error)
{
    g_autofree char *s = vrt_xml_prop(source, "startupPolicy");

    if (!s)
        return true;
    for (guint i = 1; names[i]; i++) {
        if (g_str_equal(s, names[i])) {
            *out = (VrtDiskStartupPolicy)i;
            return true;
        }
    }
    vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'startupPolicy' in element 'source': '%s'.",
                  s);
    return false;
}

bool
vrt_disk_startup_validate(VrtDiskStartupPolicy p, const char *type, const char *device, GError **error)
{
    if (p == VRT_DISK_STARTUP_DEFAULT)
        return true;
    if (!g_str_equal(type, "file") && !g_str_equal(type, "block") && !g_str_equal(type, "volume")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "disk startupPolicy '%s' is not allowed for disk of '%s' type",
                      names[p], type);
        return false;
    }
    if (p == VRT_DISK_STARTUP_REQUISITE && !g_str_equal(device, "cdrom") && !g_str_equal(device, "floppy")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s",
                      "disk startupPolicy 'requisite' is allowed only for cdrom or floppy");
        return false;
    }
    return true;
}

const char *
vrt_disk_startup_attr(VrtDiskStartupPolicy p)
{
    static const char *const attrs[] = {
        "",
        " startupPolicy='mandatory'",
        " startupPolicy='requisite'",
        " startupPolicy='optional'",
    };

    return attrs[p];
}
