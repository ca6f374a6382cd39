/*
 * What the device tests of the domain XML share: a document of devices
 * read, given its defaults and addresses as a define gives them, written
 * back, checked against libvirt's schema and read again to the same
 * text; and a refusal checked for libvirt's code and text, whether the
 * parse or the define's checks after it refuse.
 */
#pragma once

#include "conf/domain/domain_conf.h"
#include "util/error.h"
#include "testutil.h"

#include <string.h>

#define HEAD "<domain type='qemu'><name>t</name><memory>65536</memory><os><type>hvm</type></os><devices>"
#define TAIL "</devices></domain>"

static G_GNUC_UNUSED char *
roundtrip(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);
    g_autoptr(VrtDomainDef) again = NULL;
    g_autofree char *second = NULL;
    char *out;

    g_assert_no_error(error);
    /* as a define does: defaults and addresses */
    g_assert_true(vrt_domain_def_assign_addresses(def, &error));
    out = vrt_domain_def_format(def, VRT_DOMAIN_XML_INACTIVE, &error);
    g_assert_no_error(error);
    vrt_test_assert_validates(out, "domain", "roundtrip");
    /* what vrt writes reads back to the same text */
    again = vrt_domain_def_parse(out, 0, &error);
    g_assert_no_error(error);
    second = vrt_domain_def_format(again, VRT_DOMAIN_XML_INACTIVE, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(second, ==, out);
    return out;
}

static G_GNUC_UNUSED void
assert_has(const char *out, const char *want)
{
    if (!strstr(out, want))
        g_error("output lacks '%s':\n%s", want, out);
}

static G_GNUC_UNUSED void
assert_refused(const char *xml, int code, const char *message)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VrtDomainDef) def = vrt_domain_def_parse(xml, 0, &error);

    /* some checks run when the definition is made, as libvirt's
     * validation after parsing */
    if (def)
        g_assert_false(vrt_domain_def_assign_addresses(def, &error));
    g_assert_nonnull(error);
    g_assert_cmpint(error->code, ==, code);
    if (!strstr(error->message, message))
        g_error("error '%s' lacks '%s'", error->message, message);
}
