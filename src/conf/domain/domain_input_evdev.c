/*
 * <input type='passthrough'> (a host evdev device given to the guest as
 * virtio-input-host) and <input type='evdev'> (a host keyboard or mouse
 * QEMU grabs, with grab, grabToggle and repeat): their <source>, read and
 * written as libvirt 9.0 does. The QEMU driver refuses both at start by
 * name: vrtd gives a confined QEMU no host input device.
 */
#include "conf/domain/domain_priv.h"
#include "conf/domain/domain_virtio.h"
#include "util/error.h"

static const char *const grab_names[] = { "default", "all", NULL };
static const char *const grab_toggle_names[] = { "default",   "ctrl-ctrl",  "alt-alt",         "shift-shift",
                                                 "meta-meta", "scrolllock", "ctrl-scrolllock", NULL };

bool
vrt_parse_input_source(xmlNodePtr src, VrtDomainInputDef *in, GError **error)
{
    bool evdev = g_str_equal(in->type, "evdev");

    if (in->evdev)
        return vrt_xml_unsupported(src, error); /* libvirt reads the first */
    if (!(evdev ? vrt_xml_check_attrs(src, error, "dev", "grab", "grabToggle", "repeat", NULL)
                : vrt_xml_check_attrs(src, error, "evdev", NULL)))
        return false;
    in->evdev = vrt_xml_prop(src, evdev ? "dev" : "evdev");
    if (!in->evdev) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "Missing evdev path for input device");
        return false;
    }
    if (evdev && (!vrt_domain_prop_enum_nonzero(src, "grab", grab_names, &in->grab, error) ||
                  !vrt_domain_prop_enum_nonzero(src, "grabToggle", grab_toggle_names, &in->grab_toggle, error) ||
                  !vrt_xml_prop_tristate(src, "repeat", true, &in->repeat, error)))
        return false;
    return true;
}

void
vrt_format_input_source(VrtFmt *f, const VrtDomainInputDef *in)
{
    g_autoptr(GString) a = g_string_new(NULL);

    if (!in->evdev)
        return;
    if (g_str_equal(in->type, "evdev")) {
        vrt_xml_format_attr(a, "dev", in->evdev);
        if (in->grab)
            g_string_append_printf(a, " grab='%s'", grab_names[in->grab]);
        if (in->grab_toggle)
            g_string_append_printf(a, " grabToggle='%s'", grab_toggle_names[in->grab_toggle]);
        if (in->repeat)
            g_string_append_printf(a, " repeat='%s'", in->repeat == VRT_TRISTATE_YES ? "on" : "off");
    } else {
        vrt_xml_format_attr(a, "evdev", in->evdev);
    }
    vrt_fmt_line(f, "<source%s/>", a->str);
}
