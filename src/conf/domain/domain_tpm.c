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
    g_free(fs->driver);
    g_free(fs->accessmode);
    g_free(fs->wrpolicy);
    g_free(fs->multidevs);
    g_free(fs->info.alias);
    g_free(fs->info.usb.port);
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
vrt_domain_fs_is_virtiofs(const VrtDomainFsDef *fs)
{
    return g_strcmp0(fs->driver, "virtiofs") == 0;
}

/* fmode= / dmode=: octal, at most 0777 */
static bool
parse_fs_mode(xmlNodePtr node, const char *attr, guint *out, GError **error)
{
    g_autofree char *v = vrt_xml_prop(node, attr);
    guint64 n;

    if (!v)
        return true;
    if (!g_ascii_string_to_unsigned(v, 8, 0, G_MAXUINT, &n, NULL)) {
        vrt_error_set(error, VIR_ERR_XML_ERROR,
                      "Invalid value for attribute '%s' in element 'filesystem': '%s'. Expected integer value", attr,
                      v);
        return false;
    }
    if (n > 0777) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "invalid %s: '0%o'", attr, (guint)n);
        return false;
    }
    *out = (guint)n;
    return true;
}

/* What QEMU 7.2 can run, with libvirt's checks (qemuValidateDomainDeviceDefFS). */
static bool
check_filesystem(const VrtDomainFsDef *fs, GError **error)
{
    if ((fs->fmode || fs->dmode) && !g_str_equal(fs->accessmode, "mapped")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "fmode and dmode must be used with accessmode=mapped");
        return false;
    }
    if (fs->driver && !g_str_equal(fs->driver, "path") && !g_str_equal(fs->driver, "virtiofs")) {
        /* handle: gone from QEMU since 4.0; loop, nbd, ploop: LXC's */
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "Filesystem driver type not supported");
        return false;
    }
    if (!vrt_domain_fs_is_virtiofs(fs))
        return true;
    if (fs->readonly) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "virtiofs does not yet support read-only mode");
        return false;
    }
    if (!g_str_equal(fs->accessmode, "passthrough")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "virtiofs only supports passthrough accessmode");
        return false;
    }
    if (fs->wrpolicy) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "virtiofs does not support wrpolicy");
        return false;
    }
    if (fs->multidevs) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "virtiofs does not support multidevs");
        return false;
    }
    return true;
}

void
vrt_domain_def_fs_insert(VrtDomainDef *def, VrtDomainFsDef *fs)
{
    if (!def->filesystems)
        def->filesystems = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_fs_free);
    g_ptr_array_add(def->filesystems, fs);
}

int
vrt_domain_def_fs_index(const VrtDomainDef *def, const char *target)
{
    for (guint i = 0; def->filesystems && i < def->filesystems->len; i++)
        if (g_strcmp0(((const VrtDomainFsDef *)def->filesystems->pdata[i])->target_dir, target) == 0)
            return (int)i;
    return -1;
}

bool
vrt_parse_filesystem(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainFsDef *fs = vrt_parse_fs_def(ctx, node, error);

    if (!fs)
        return false;
    vrt_domain_def_fs_insert(def, fs);
    return true;
}

VrtDomainFsDef *
vrt_parse_fs_def(const VrtParseCtx *ctx, xmlNodePtr node, GError **error)
{
    static const char *const accessmodes[] = { "passthrough", "mapped", "squash", NULL };
    static const char *const multidevs[] = { "default", "remap", "forbid", "warn", NULL };
    static const char *const drivers[] = { "default", "path", "handle", "loop", "nbd", "ploop", "virtiofs", NULL };
    static const char *const wrpolicies[] = { "default", "immediate", NULL };
    g_autoptr(VrtDomainFsDef) fs = g_new0(VrtDomainFsDef, 1);
    g_autofree char *type = vrt_xml_prop(node, "type");

    if (!vrt_xml_check_attrs(node, error, "type", "accessmode", "multidevs", "fmode", "dmode", NULL))
        return NULL;
    if (type && !g_str_equal(type, "mount")) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "filesystem type '%s' is not supported", type);
        return NULL;
    }
    if (!vrt_xml_prop_choice(node, "accessmode", accessmodes, &fs->accessmode, error) ||
        !vrt_xml_prop_choice(node, "multidevs", multidevs, &fs->multidevs, error) ||
        !parse_fs_mode(node, "fmode", &fs->fmode, error) || !parse_fs_mode(node, "dmode", &fs->dmode, error))
        return NULL;
    if (!fs->accessmode)
        fs->accessmode = g_strdup("passthrough"); /* libvirt's post-parse default */
    if (g_strcmp0(fs->multidevs, "default") == 0)
        g_clear_pointer(&fs->multidevs, g_free);
    VRT_XML_FOREACH_CHILD(c, node)
    {
        int r;

        if (vrt_xml_is(c, "driver")) {
            if (!vrt_xml_check_attrs(c, error, "type", "wrpolicy", NULL))
                return NULL;
            g_clear_pointer(&fs->driver, g_free);
            g_clear_pointer(&fs->wrpolicy, g_free);
            if (!vrt_xml_prop_choice(c, "type", drivers, &fs->driver, error) ||
                !vrt_xml_prop_choice(c, "wrpolicy", wrpolicies, &fs->wrpolicy, error))
                return NULL;
            if (g_strcmp0(fs->driver, "default") == 0)
                g_clear_pointer(&fs->driver, g_free);
            if (g_strcmp0(fs->wrpolicy, "default") == 0)
                g_clear_pointer(&fs->wrpolicy, g_free);
        } else if (vrt_xml_is(c, "source")) {
            if (!vrt_xml_check_attrs(c, error, "dir", NULL))
                return NULL;
            g_free(fs->source_dir);
            fs->source_dir = vrt_xml_prop(c, "dir");
        } else if (vrt_xml_is(c, "target")) {
            if (!vrt_xml_check_attrs(c, error, "dir", NULL))
                return NULL;
            g_free(fs->target_dir);
            fs->target_dir = vrt_xml_prop(c, "dir");
        } else if (vrt_xml_is(c, "readonly")) {
            fs->readonly = true;
        } else if ((r = vrt_parse_info_child(ctx, c, &fs->info, false, error)) != 0) {
            if (r < 0)
                return NULL;
        } else {
            vrt_xml_unsupported(c, error);
            return NULL;
        }
    }
    if (fs->info.type != VRT_DEVICE_ADDRESS_NONE && fs->info.type != VRT_DEVICE_ADDRESS_PCI) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "filesystem address type (line %ld) is not supported",
                      xmlGetLineNo(node));
        return NULL;
    }
    if (!fs->source_dir) {
        vrt_error_set(error, VIR_ERR_NO_SOURCE, "%s", "missing source element for filesystem");
        return NULL;
    }
    if (!fs->target_dir) {
        vrt_error_set(error, VIR_ERR_NO_TARGET, "%s", "missing target information for filesystem");
        return NULL;
    }
    if (!check_filesystem(fs, error))
        return NULL;
    return g_steal_pointer(&fs);
}

/* As libvirt's virDomainFSDefFormat: accessmode (always set here, as
 * libvirt's post-parse does), multidevs, the modes in octal, <driver> when
 * a type was given, source, target, readonly, then alias and address. */
void
vrt_format_filesystem(VrtFmt *f, const VrtDomainFsDef *fs)
{
    g_autofree char *src = vrt_xml_escape(fs->source_dir);
    g_autofree char *tgt = vrt_xml_escape(fs->target_dir);
    g_autoptr(GString) attrs = g_string_new(NULL);

    g_string_append_printf(attrs, " accessmode='%s'", fs->accessmode);
    if (fs->multidevs)
        g_string_append_printf(attrs, " multidevs='%s'", fs->multidevs);
    if (fs->fmode)
        g_string_append_printf(attrs, " fmode='%04o'", fs->fmode);
    if (fs->dmode)
        g_string_append_printf(attrs, " dmode='%04o'", fs->dmode);
    vrt_fmt_line(f, "<filesystem type='mount'%s>", attrs->str);
    f->indent++;
    if (fs->driver && fs->wrpolicy)
        vrt_fmt_line(f, "<driver type='%s' wrpolicy='%s'/>", fs->driver, fs->wrpolicy);
    else if (fs->driver)
        vrt_fmt_line(f, "<driver type='%s'/>", fs->driver);
    vrt_fmt_line(f, "<source dir='%s'/>", src);
    vrt_fmt_line(f, "<target dir='%s'/>", tgt);
    if (fs->readonly)
        vrt_fmt_line(f, "%s", "<readonly/>");
    vrt_format_device_info(f, &fs->info);
    f->indent--;
    vrt_fmt_line(f, "</filesystem>");
}

void
vrt_format_filesystems(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->filesystems && i < def->filesystems->len; i++)
        vrt_format_filesystem(f, def->filesystems->pdata[i]);
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
