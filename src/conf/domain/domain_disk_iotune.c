/*
 * A disk's <iotune> (see domain_disk_iotune.h), kept out of the main disk
 * parser.
 */
#include "conf/domain/domain_disk_iotune.h"

#include "util/error.h"
#include "util/xml.h"

#include <string.h>

/* QEMU's limit on every rate, as libvirt's QEMU driver checks it */
#define IOTUNE_MAX 1000000000000000ULL

const char *const vrt_iotune_names[VRT_IOTUNE_N] = {
    "total_bytes_sec",
    "read_bytes_sec",
    "write_bytes_sec",
    "total_iops_sec",
    "read_iops_sec",
    "write_iops_sec",
    "total_bytes_sec_max",
    "read_bytes_sec_max",
    "write_bytes_sec_max",
    "total_iops_sec_max",
    "read_iops_sec_max",
    "write_iops_sec_max",
    "size_iops_sec",
    "total_bytes_sec_max_length",
    "read_bytes_sec_max_length",
    "write_bytes_sec_max_length",
    "total_iops_sec_max_length",
    "read_iops_sec_max_length",
    "write_iops_sec_max_length",
};

const char *const vrt_iotune_qmp_names[VRT_IOTUNE_N] = {
    "bps",
    "bps_rd",
    "bps_wr",
    "iops",
    "iops_rd",
    "iops_wr",
    "bps_max",
    "bps_rd_max",
    "bps_wr_max",
    "iops_max",
    "iops_rd_max",
    "iops_wr_max",
    "iops_size",
    "bps_max_length",
    "bps_rd_max_length",
    "bps_wr_max_length",
    "iops_max_length",
    "iops_rd_max_length",
    "iops_wr_max_length",
};

bool
vrt_disk_iotune_parse(xmlNodePtr node, VrtDiskIotune *t, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, NULL))
        return false;
    t->set = true;
    VRT_XML_FOREACH_CHILD(c, node)
    {
        g_autofree char *text = NULL;
        guint i;

        if (vrt_xml_is(c, "group_name")) {
            g_free(t->group_name);
            t->group_name = vrt_xml_text(c);
            continue;
        }
        for (i = 0; i < VRT_IOTUNE_N && !vrt_xml_is(c, vrt_iotune_names[i]); i++)
            ;
        if (i == VRT_IOTUNE_N)
            return vrt_xml_unsupported(c, error);
        text = g_strstrip(vrt_xml_text(c));
        if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &t->v[i], NULL)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "disk iotune field '%s' must be an integer", vrt_iotune_names[i]);
            return false;
        }
    }
    return true;
}

bool
vrt_disk_iotune_has_any(const VrtDiskIotune *t)
{
    /* libvirt's: the rates, bursts and lengths; not the I/O size alone */
    for (guint i = 0; i < VRT_IOTUNE_N; i++)
        if (t->v[i] && i != VRT_IOTUNE_SIZE_IOPS)
            return true;
    return false;
}

bool
vrt_disk_iotune_equal(const VrtDiskIotune *a, const VrtDiskIotune *b)
{
    return memcmp(a->v, b->v, sizeof(a->v)) == 0 && g_strcmp0(a->group_name, b->group_name) == 0;
}

const char *
vrt_disk_iotune_total_conflict(const VrtDiskIotune *t)
{
    static const struct {
        VrtIotuneField total;
        const char *what;
    } pairs[] = {
        { VRT_IOTUNE_TOTAL_BYTES, "bytes_sec" },
        { VRT_IOTUNE_TOTAL_IOPS, "iops_sec" },
        { VRT_IOTUNE_TOTAL_BYTES_MAX, "bytes_sec_max" },
        { VRT_IOTUNE_TOTAL_IOPS_MAX, "iops_sec_max" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(pairs); i++) {
        guint k = pairs[i].total;

        /* read and write follow their total in VrtIotuneField */
        if (t->v[k] && (t->v[k + 1] || t->v[k + 2]))
            return pairs[i].what;
    }
    return NULL;
}

bool
vrt_disk_iotune_validate(const VrtDiskIotune *t, GError **error)
{
    const char *conflict;

    if (!t->set)
        return true;
    if ((conflict = vrt_disk_iotune_total_conflict(t))) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "total and read/write %s cannot be set at the same time", conflict);
        return false;
    }
    /* the QEMU driver's checks (libvirt's qemu_validate.c) */
    if (t->group_name && !vrt_disk_iotune_has_any(t)) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "group_name can be configured only together with settings");
        return false;
    }
    for (guint i = 0; i <= VRT_IOTUNE_SIZE_IOPS; i++) {
        if (t->v[i] > IOTUNE_MAX) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "block I/O throttle limit must be no more than %llu",
                          IOTUNE_MAX);
            return false;
        }
    }
    return true;
}

void
vrt_disk_iotune_format(GString *buf, guint indent, const VrtDiskIotune *t)
{
    bool any = t->group_name != NULL;

    for (guint i = 0; i < VRT_IOTUNE_N; i++)
        any = any || t->v[i];
    if (!any)
        return;
    vrt_xml_line(buf, indent, "<iotune>");
    for (guint i = 0; i < VRT_IOTUNE_N; i++) {
        if (i == VRT_IOTUNE_TOTAL_BYTES_MAX_LENGTH && t->group_name) {
            g_autofree char *esc = vrt_xml_escape(t->group_name);
            vrt_xml_line(buf, indent + 1, "<group_name>%s</group_name>", esc);
        }
        if (t->v[i])
            vrt_xml_line(buf, indent + 1, "<%s>%" G_GUINT64_FORMAT "</%s>", vrt_iotune_names[i], t->v[i],
                         vrt_iotune_names[i]);
    }
    vrt_xml_line(buf, indent, "</iotune>");
}

void
vrt_disk_iotune_clear(VrtDiskIotune *t)
{
    g_clear_pointer(&t->group_name, g_free);
}
