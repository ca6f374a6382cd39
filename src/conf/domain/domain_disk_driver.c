/*
 * A disk's <driver> tuning attributes (error_policy, rerror_policy, io,
 * copy_on_read, discard, detect_zeroes): read with libvirt's checks and
 * errors, written back in libvirt's attribute order. virt-install writes
 * discard='unmap' for every disk it creates, so a domain it defines
 * needs these to be accepted, and they must reach QEMU (qemu_command.c)
 * for the guest to see what the XML says.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

const char *const vrt_disk_error_policy_names[] = { "default", "stop", "report", "ignore", "enospace", NULL };
const char *const vrt_disk_io_names[] = { "default", "native", "threads", "io_uring", NULL };
const char *const vrt_disk_discard_names[] = { "default", "unmap", "ignore", NULL };
const char *const vrt_disk_detect_zeroes_names[] = { "default", "off", "on", "unmap", NULL };
static const char *const onoff_names[] = { "default", "on", "off", NULL };

bool
vrt_parse_disk_driver_tuning(xmlNodePtr node, VrtDomainDiskDriverTuning *t, GError **error)
{
    int v;

    v = 0;
    if (!vrt_domain_prop_enum_nonzero(node, "error_policy", vrt_disk_error_policy_names, &v, error))
        return false;
    t->error_policy = v;
    v = 0;
    if (!vrt_domain_prop_enum_nonzero(node, "rerror_policy", vrt_disk_error_policy_names, &v, error))
        return false;
    t->rerror_policy = v;
    if (t->rerror_policy == VRT_DISK_ERROR_POLICY_ENOSPACE) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Invalid disk read error policy: '%s'", "enospace");
        return false;
    }
    v = 0;
    if (!vrt_domain_prop_enum_nonzero(node, "io", vrt_disk_io_names, &v, error))
        return false;
    t->io = v;
    v = 0;
    if (!vrt_domain_prop_enum_nonzero(node, "copy_on_read", onoff_names, &v, error))
        return false;
    t->copy_on_read = v;
    v = 0;
    if (!vrt_domain_prop_enum_nonzero(node, "discard", vrt_disk_discard_names, &v, error))
        return false;
    t->discard = v;
    v = 0;
    if (!vrt_domain_prop_enum_nonzero(node, "detect_zeroes", vrt_disk_detect_zeroes_names, &v, error))
        return false;
    t->detect_zeroes = v;
    {
        g_autofree char *s = vrt_xml_prop(node, "iothread");
        char *end;
        guint64 n;

        if (s) {
            n = g_ascii_strtoull(s, &end, 10);
            if (!*s || *end || n == 0 || n > G_MAXUINT || s[0] == '-') {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'iothread' in element '%s': '%s'.",
                              (const char *)node->name, s);
                return false;
            }
            t->iothread = (guint)n;
        }
    }
    if (!vrt_domain_prop_switch(node, "ioeventfd", &t->ioeventfd, error) ||
        !vrt_domain_prop_switch(node, "event_idx", &t->event_idx, error) ||
        !vrt_xml_prop_uint(node, "queues", G_MAXUINT, &t->queues, NULL, error) ||
        !vrt_xml_prop_uint(node, "queue_size", G_MAXUINT, &t->queue_size, NULL, error))
        return false;
    return vrt_virtio_options_parse(node, &t->virtio, error);
}

bool
vrt_disk_driver_tuning_present(const VrtDomainDiskDriverTuning *t)
{
    return t->error_policy || t->rerror_policy || t->io || t->copy_on_read || t->discard || t->detect_zeroes ||
           t->iothread || t->ioeventfd || t->event_idx || t->queues || t->queue_size ||
           vrt_virtio_options_present(&t->virtio);
}

/* libvirt's order: ... cache, error_policy, rerror_policy, io, ioeventfd,
 * event_idx, copy_on_read, discard, iothread, detect_zeroes */
void
vrt_format_disk_driver_tuning(GString *attrs, const VrtDomainDiskDriverTuning *t)
{
    if (t->error_policy)
        g_string_append_printf(attrs, " error_policy='%s'", vrt_disk_error_policy_names[t->error_policy]);
    if (t->rerror_policy)
        g_string_append_printf(attrs, " rerror_policy='%s'", vrt_disk_error_policy_names[t->rerror_policy]);
    if (t->io)
        g_string_append_printf(attrs, " io='%s'", vrt_disk_io_names[t->io]);
    if (t->ioeventfd)
        g_string_append_printf(attrs, " ioeventfd='%s'", t->ioeventfd == VRT_TRISTATE_YES ? "on" : "off");
    if (t->event_idx)
        g_string_append_printf(attrs, " event_idx='%s'", t->event_idx == VRT_TRISTATE_YES ? "on" : "off");
    if (t->copy_on_read)
        g_string_append_printf(attrs, " copy_on_read='%s'", onoff_names[t->copy_on_read]);
    if (t->discard)
        g_string_append_printf(attrs, " discard='%s'", vrt_disk_discard_names[t->discard]);
    if (t->iothread)
        g_string_append_printf(attrs, " iothread='%u'", t->iothread);
    if (t->detect_zeroes)
        g_string_append_printf(attrs, " detect_zeroes='%s'", vrt_disk_detect_zeroes_names[t->detect_zeroes]);
    if (t->queues)
        g_string_append_printf(attrs, " queues='%u'", t->queues);
    if (t->queue_size)
        g_string_append_printf(attrs, " queue_size='%u'", t->queue_size);
    vrt_virtio_options_format(attrs, &t->virtio);
}

VrtDiskDetectZeroes
vrt_disk_detect_zeroes_effective(const VrtDomainDiskDriverTuning *t)
{
    if (t->detect_zeroes == VRT_DISK_DETECT_ZEROES_UNMAP && t->discard != VRT_DISK_DISCARD_UNMAP)
        return VRT_DISK_DETECT_ZEROES_ON;
    return t->detect_zeroes;
}

void
vrt_disk_error_policies(const VrtDomainDiskDriverTuning *t, const char **werror, const char **rerror)
{
    *werror = t->error_policy ? vrt_disk_error_policy_names[t->error_policy] : NULL;
    *rerror = t->rerror_policy ? vrt_disk_error_policy_names[t->rerror_policy] : NULL;
    if (t->error_policy == VRT_DISK_ERROR_POLICY_ENOSPACE)
        *werror = "enospc"; /* QEMU's spelling, and for writes only */
    else if (!*rerror)
        *rerror = *werror;
}
