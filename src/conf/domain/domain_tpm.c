/*
 * The guest's TPM (<tpm model='tpm-crb|tpm-tis'> with an emulator or
 * passthrough <backend>) and its virtio-fs shares (<filesystem
 * type='mount'> with <driver type='virtiofs'/>): read with libvirt's
 * checks and defaults (an emulator's version is 2.0 when not written) and
 * written back in libvirt's element order. The QEMU driver turns them into
 * an swtpm (qemu_tpm.c) and a virtiofsd (qemu_virtiofs.c) per domain.
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

void
vrt_domain_tpm_free(VrtDomainTpmDef *tpm)
{
    if (!tpm)
        return;
    g_free(tpm->model);
    g_free(tpm->backend);
    g_free(tpm->version);
    g_free(tpm->device_path);
    g_free(tpm);
}

void
vrt_domain_fs_free(VrtDomainFsDef *fs)
{
    if (!fs)
        return;
    g_free(fs->source_dir);
    g_free(fs->target_dir);
    g_free(fs);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainTpmDef, vrt_domain_tpm_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtDomainFsDef, vrt_domain_fs_free)

static bool
parse_tpm_backend(xmlNodePtr node, VrtDomainTpmDef *tpm, GError **error)
{
    if (!vrt_xml_check_attrs(node, error, "type", "version", "persistent_state", NULL))
        return false;
    tpm->backend = vrt_xml_prop(node, "type");
    tpm->version = vrt_xml_prop(node, "version");
    if (!tpm->backend) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing TPM device backend type");
        return false;
    }
    if (g_str_equal(tpm->backend, "passthrough")) {
        VRT_XML_FOREACH_CHILD(c, node)
        {
            if (!vrt_xml_is(c, "device") || !vrt_xml_check_attrs(c, error, "path", NULL))
                return vrt_xml_unsupported(c, error);
            g_free(tpm->device_path);
            tpm->device_path = vrt_xml_prop(c, "path");
        }
        if (!tpm->device_path)
            tpm->device_path = g_strdup("/dev/tpm0");
        return true;
    }
    if (!g_str_equal(tpm->backend, "emulator")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "Unknown TPM backend type '%s'", tpm->backend);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        return vrt_xml_unsupported(c, error);
    }
    /* libvirt's emulator default: TPM 2.0 (tpm-crb needs it) */
    if (!tpm->version)
        tpm->version = g_strdup("2.0");
    if (!g_str_equal(tpm->version, "2.0") && !g_str_equal(tpm->version, "1.2")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Unsupported TPM version '%s'", tpm->version);
        return false;
    }
    return true;
}

bool
vrt_parse_tpm(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autoptr(VrtDomainTpmDef) tpm = g_new0(VrtDomainTpmDef, 1);

    if (!vrt_xml_check_attrs(node, error, "model", NULL))
        return false;
    tpm->model = vrt_xml_prop(node, "model");
    if (!tpm->model)
        tpm->model = g_strdup("tpm-tis");
    if (!g_str_equal(tpm->model, "tpm-tis") && !g_str_equal(tpm->model, "tpm-crb")) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Unknown TPM frontend type '%s'", tpm->model);
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "backend")) {
            if (tpm->backend) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "only one TPM backend is supported");
                return false;
            }
            if (!parse_tpm_backend(c, tpm, error))
                return false;
        } else if (vrt_xml_is(c, "alias")) {
            continue; /* a live name, given again at start */
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    if (!tpm->backend) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "%s", "missing TPM device backend");
        return false;
    }
    if (g_str_equal(tpm->model, "tpm-crb") && g_strcmp0(tpm->version, "1.2") == 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "TPM 1.2 is not supported with the TPM CRB model");
        return false;
    }
    if (def->tpms && def->tpms->len) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "only a single TPM non-proxy device is supported");
        return false;
    }
    if (!def->tpms)
        def->tpms = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_tpm_free);
    g_ptr_array_add(def->tpms, g_steal_pointer(&tpm));
    return true;
}

bool
vrt_parse_filesystem(xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    g_autoptr(VrtDomainFsDef) fs = g_new0(VrtDomainFsDef, 1);
    g_autofree char *type = vrt_xml_prop(node, "type");
    g_autofree char *mode = vrt_xml_prop(node, "accessmode");
    g_autofree char *driver = NULL;

    if (!vrt_xml_check_attrs(node, error, "type", "accessmode", NULL))
        return false;
    if (type && !g_str_equal(type, "mount")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "filesystem type '%s' is not supported", type);
        return false;
    }
    if (mode && !g_str_equal(mode, "passthrough")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "virtiofs only supports passthrough accessmode");
        return false;
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        if (vrt_xml_is(c, "driver")) {
            if (!vrt_xml_check_attrs(c, error, "type", NULL))
                return false;
            g_free(driver);
            driver = vrt_xml_prop(c, "type");
        } else if (vrt_xml_is(c, "source")) {
            if (!vrt_xml_check_attrs(c, error, "dir", NULL))
                return false;
            g_free(fs->source_dir);
            fs->source_dir = vrt_xml_prop(c, "dir");
        } else if (vrt_xml_is(c, "target")) {
            if (!vrt_xml_check_attrs(c, error, "dir", NULL))
                return false;
            g_free(fs->target_dir);
            fs->target_dir = vrt_xml_prop(c, "dir");
        } else if (vrt_xml_is(c, "readonly")) {
            fs->readonly = true;
        } else if (vrt_xml_is(c, "alias")) {
            continue;
        } else {
            return vrt_xml_unsupported(c, error);
        }
    }
    if (!driver || !g_str_equal(driver, "virtiofs")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "filesystem driver type '%s' is not supported",
                      driver ? driver : "path");
        return false;
    }
    if (!fs->source_dir) {
        vrt_error_set(error, VIR_ERR_NO_SOURCE, "%s", "missing source element for filesystem");
        return false;
    }
    if (!fs->target_dir) {
        vrt_error_set(error, VIR_ERR_NO_TARGET, "%s", "missing target information for filesystem");
        return false;
    }
    if (fs->readonly) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "virtiofs does not yet support read-only mode");
        return false;
    }
    if (!def->filesystems)
        def->filesystems = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_fs_free);
    g_ptr_array_add(def->filesystems, g_steal_pointer(&fs));
    return true;
}

void
vrt_format_filesystems(VrtFmt *f, const VrtDomainDef *def)
{
    bool live = !(f->flags & VRT_DOMAIN_XML_INACTIVE) && def->id >= 0;

    for (guint i = 0; def->filesystems && i < def->filesystems->len; i++) {
        const VrtDomainFsDef *fs = def->filesystems->pdata[i];
        g_autofree char *src = vrt_xml_escape(fs->source_dir);
        g_autofree char *tgt = vrt_xml_escape(fs->target_dir);

        vrt_fmt_line(f, "<filesystem type='mount' accessmode='passthrough'>");
        f->indent++;
        vrt_fmt_line(f, "<driver type='virtiofs'/>");
        vrt_fmt_line(f, "<source dir='%s'/>", src);
        vrt_fmt_line(f, "<target dir='%s'/>", tgt);
        if (live)
            vrt_fmt_line(f, "<alias name='fs%u'/>", i);
        f->indent--;
        vrt_fmt_line(f, "</filesystem>");
    }
}

void
vrt_format_tpms(VrtFmt *f, const VrtDomainDef *def)
{
    bool live = !(f->flags & VRT_DOMAIN_XML_INACTIVE) && def->id >= 0;

    for (guint i = 0; def->tpms && i < def->tpms->len; i++) {
        const VrtDomainTpmDef *tpm = def->tpms->pdata[i];

        vrt_fmt_line(f, "<tpm model='%s'>", tpm->model);
        f->indent++;
        if (g_str_equal(tpm->backend, "passthrough")) {
            g_autofree char *path = vrt_xml_escape(tpm->device_path);

            vrt_fmt_line(f, "<backend type='passthrough'>");
            f->indent++;
            vrt_fmt_line(f, "<device path='%s'/>", path);
            f->indent--;
            vrt_fmt_line(f, "</backend>");
        } else {
            vrt_fmt_line(f, "<backend type='emulator' version='%s'/>", tpm->version);
        }
        if (live)
            vrt_fmt_line(f, "<alias name='tpm%u'/>", i);
        f->indent--;
        vrt_fmt_line(f, "</tpm>");
    }
}
