/*
 * <smartcard> in its three modes (host: the host's reader through NSS;
 * host-certificates: three certificates of an NSS database, the database
 * optional; passthrough: a chardev, spicevmc, tcp or unix, to a remote
 * card) and the ccid controller, the USB reader a smartcard sits in at a
 * slot. Read with libvirt 9's checks and error texts and written back as
 * libvirt writes it: a smartcard without an address gets the next slot of
 * ccid controller 0 and the ccid controllers the smartcards name are
 * added, as libvirt's define adds them (their USB ports come with the
 * other USB devices, domain_addr.c). The QEMU driver starts them as
 * usb-ccid readers with a ccid-card-emulated or ccid-card-passthru card
 * (qemu_command.c).
 */
#include "conf/domain/domain_priv.h"
#include "util/error.h"

static const char *const mode_names[] = { "host", "host-certificates", "passthrough", NULL };

void
vrt_domain_smartcard_free(VrtDomainSmartcardDef *s)
{
    if (!s)
        return;
    for (guint i = 0; i < G_N_ELEMENTS(s->certificates); i++)
        g_free(s->certificates[i]);
    g_free(s->database);
    vrt_domain_redirdev_free(s->passthru);
    g_free(s->info.alias);
    g_free(s);
}

/* <address type='ccid' controller= slot=>; any other address is the
 * generic reader's (and refused after) */
static int
parse_ccid_address(xmlNodePtr c, VrtDomainSmartcardDef *s, GError **error)
{
    g_autofree char *type = vrt_xml_prop(c, "type");

    if (!vrt_xml_is(c, "address") || g_strcmp0(type, "ccid") != 0)
        return 0;
    s->ccid_controller = s->ccid_slot = 0;
    if (!vrt_xml_check_attrs(c, error, "type", "controller", "slot", NULL) ||
        !vrt_xml_prop_uint(c, "controller", G_MAXINT, &s->ccid_controller, NULL, error) ||
        !vrt_xml_prop_uint(c, "slot", G_MAXINT, &s->ccid_slot, NULL, error))
        return -1;
    s->has_ccid = true;
    return 1;
}

bool
vrt_parse_smartcard(const VrtParseCtx *ctx, xmlNodePtr node, VrtDomainDef *def, GError **error)
{
    VrtDomainSmartcardDef *s = g_new0(VrtDomainSmartcardDef, 1);
    guint ncert = 0;
    int mode = -1;

    if (!def->smartcards)
        def->smartcards = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_smartcard_free);
    g_ptr_array_add(def->smartcards, s); /* freed with def on every error path */
    g_autofree char *mode_s = vrt_xml_prop(node, "mode");

    if (!vrt_xml_check_attrs(node, error, "mode", "type", NULL))
        return false;
    if (!mode_s) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Missing required attribute 'mode' in element 'smartcard'");
        return false;
    }
    mode = vrt_enum_from_string(mode_names, mode_s);
    if (mode < 0) {
        vrt_error_set(error, VIR_ERR_XML_ERROR, "Invalid value for attribute 'mode' in element 'smartcard': '%s'.",
                      mode_s);
        return false;
    }
    s->mode = mode;
    if (s->mode == VRT_SMARTCARD_PASSTHROUGH) {
        g_autofree char *type = vrt_xml_prop(node, "type");
        int t;

        if (!type) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "passthrough mode requires a character device type attribute");
            return false;
        }
        t = vrt_enum_from_string(vrt_redirdev_type_names, type);
        if (t < 0) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "smartcard character device type '%s' is not supported",
                          type);
            return false;
        }
        s->passthru = g_new0(VrtDomainRedirdevDef, 1);
        s->passthru->type = t;
    } else if (xmlHasProp(node, (const xmlChar *)"type")) {
        /* libvirt reads type= on passthrough cards only */
        return vrt_xml_check_attrs(node, error, "mode", NULL);
    }
    VRT_XML_FOREACH_CHILD(c, node)
    {
        int r = 0;

        if (s->mode == VRT_SMARTCARD_HOST_CERTIFICATES && vrt_xml_is(c, "certificate")) {
            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            if (ncert < G_N_ELEMENTS(s->certificates))
                s->certificates[ncert] = vrt_xml_text(c);
            ncert++;
            continue;
        }
        if (s->mode == VRT_SMARTCARD_HOST_CERTIFICATES && vrt_xml_is(c, "database")) {
            if (!vrt_xml_check_attrs(c, error, NULL))
                return false;
            if (!s->database)
                s->database = vrt_xml_text(c);
            continue;
        }
        if (s->passthru)
            r = vrt_usb_chr_parse_child(c, s->passthru, error);
        if (r == 0)
            r = parse_ccid_address(c, s, error);
        /* libvirt's schema has no <alias> on a smartcard */
        if (r == 0 && !vrt_xml_is(c, "alias"))
            r = vrt_parse_info_child(ctx, c, &s->info, false, error);
        if (r < 0)
            return false;
        if (r == 0)
            return vrt_xml_unsupported(c, error);
    }
    if (s->mode == VRT_SMARTCARD_HOST_CERTIFICATES) {
        if (ncert != G_N_ELEMENTS(s->certificates)) {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "host-certificates mode needs exactly three certificates");
            return false;
        }
        if (s->database && s->database[0] != '/') {
            vrt_error_set(error, VIR_ERR_XML_ERROR, "expecting absolute path: %s", s->database);
            return false;
        }
    }
    if (s->passthru && !vrt_usb_chr_check(s->passthru, error))
        return false;
    if (s->info.type != VRT_DEVICE_ADDRESS_NONE) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "smartcard address type must be 'ccid' (line %ld)",
                      xmlGetLineNo(node));
        return false;
    }
    return true;
}

static bool
has_ccid_controller(const VrtDomainDef *def, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == VRT_DOMAIN_CONTROLLER_CCID && c->index == index)
            return true;
    }
    return false;
}

void
vrt_smartcards_assign(VrtDomainDef *def)
{
    for (guint i = 0; def->smartcards && i < def->smartcards->len; i++) {
        VrtDomainSmartcardDef *s = def->smartcards->pdata[i];

        if (!s->has_ccid) {
            /* after the highest slot any card names on controller 0 */
            int max = -1;
            for (guint j = 0; j < def->smartcards->len; j++) {
                const VrtDomainSmartcardDef *o = def->smartcards->pdata[j];
                if (o->has_ccid && o->ccid_controller == 0 && (int)o->ccid_slot > max)
                    max = (int)o->ccid_slot;
            }
            s->has_ccid = true;
            s->ccid_controller = 0;
            s->ccid_slot = (guint)(max + 1);
        }
        if (!has_ccid_controller(def, s->ccid_controller)) {
            VrtDomainControllerDef *c = g_new0(VrtDomainControllerDef, 1);
            c->type = VRT_DOMAIN_CONTROLLER_CCID;
            c->index = s->ccid_controller;
            c->chassis = c->port = c->ports = c->master_startport = -1;
            vrt_domain_controller_insert(def, c);
        }
    }
}

void
vrt_format_smartcards(VrtFmt *f, const VrtDomainDef *def)
{
    for (guint i = 0; def->smartcards && i < def->smartcards->len; i++) {
        const VrtDomainSmartcardDef *s = def->smartcards->pdata[i];
        bool children = s->has_ccid || s->mode == VRT_SMARTCARD_HOST_CERTIFICATES ||
                        (s->passthru && s->passthru->type != VRT_REDIRDEV_SPICEVMC);
        g_autofree char *attrs =
            s->passthru ? g_strdup_printf(" mode='passthrough' type='%s'", vrt_redirdev_type_names[s->passthru->type])
                        : g_strdup_printf(" mode='%s'", mode_names[s->mode]);

        if (!children) {
            vrt_fmt_line(f, "<smartcard%s/>", attrs);
            continue;
        }
        vrt_fmt_line(f, "<smartcard%s>", attrs);
        f->indent++;
        if (s->mode == VRT_SMARTCARD_HOST_CERTIFICATES) {
            for (guint c = 0; c < G_N_ELEMENTS(s->certificates); c++) {
                g_autofree char *cert = vrt_xml_escape(s->certificates[c]);
                vrt_fmt_line(f, "<certificate>%s</certificate>", cert);
            }
            if (s->database) {
                g_autofree char *db = vrt_xml_escape(s->database);
                vrt_fmt_line(f, "<database>%s</database>", db);
            }
        }
        if (s->passthru)
            vrt_usb_chr_format_source(f, s->passthru);
        if (s->has_ccid)
            vrt_fmt_line(f, "<address type='ccid' controller='%u' slot='%u'/>", s->ccid_controller, s->ccid_slot);
        f->indent--;
        vrt_fmt_line(f, "</smartcard>");
    }
}
