/*
 * QEMU devices of the standalone elements (domain_devices_misc.c), built as
 * libvirt 9 builds them for QEMU 7.2: a sound card is its -device (ES1370,
 * AC97, sb16, usb-audio, intel-hda, ich9-intel-hda) playing to its <audio>
 * backend (the first when it names none), and an HDA controller's codecs
 * (hda-duplex when none is listed) on its bus with their codec address; an
 * ISA panic device is pvpanic with its I/O port, Hyper-V's is the hv-crash
 * CPU flag (qemu_command.c adds it to -cpu). What QEMU 7.2 cannot do is
 * refused at start by name: the PC speaker (QEMU 7.2 has no -soundhw, and
 * libvirt 9.0 knows no other way to give it a backend) and the ich7 model
 * libvirt itself cannot start; the SDL, egl-headless and D-Bus displays
 * (SDL needs an X display and the qemu-system-gui module, egl-headless a
 * DRM render node, D-Bus the private bus libvirt runs beside QEMU).
 */
#include <glib/gstdio.h>
#include <unistd.h>

#include "drivers/qemu/qemu_command.h"
#include "util/error.h"

static const char *
sound_driver(const char *model)
{
    static const char *const map[][2] = {
        { "es1370", "ES1370" },       { "ac97", "AC97" },     { "ich6", "intel-hda" },
        { "ich9", "ich9-intel-hda" }, { "usb", "usb-audio" }, { "sb16", "sb16" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(map); i++)
        if (g_str_equal(model, map[i][0]))
            return map[i][1];
    return NULL;
}

static char *
sound_audiodev(const VrtDomainDef *def, const VrtDomainSoundDef *s)
{
    if (s->audio_id)
        return g_strdup_printf("audio%u", s->audio_id);
    if (def->audios->len)
        return g_strdup_printf("audio%u", ((const VrtDomainAudioDef *)def->audios->pdata[0])->id);
    return NULL;
}

static JsonObject *
codec_props(const VrtDomainSoundDef *s, const char *type, guint cad, const char *audiodev)
{
    JsonObject *o = json_object_new();
    g_autofree char *driver = g_strdup_printf("hda-%s", type);
    g_autofree char *id = g_strdup_printf("%s-codec%u", s->info.alias, cad);
    g_autofree char *bus = g_strdup_printf("%s.0", s->info.alias);

    json_object_set_string_member(o, "driver", driver);
    json_object_set_string_member(o, "id", id);
    json_object_set_string_member(o, "bus", bus);
    json_object_set_int_member(o, "cad", cad);
    if (audiodev)
        json_object_set_string_member(o, "audiodev", audiodev);
    return o;
}

bool
vrt_qemu_command_sound_devices(const VrtDomainDef *def, GPtrArray *devices, GError **error)
{
    for (guint i = 0; def->sounds && i < def->sounds->len; i++) {
        const VrtDomainSoundDef *s = def->sounds->pdata[i];
        const char *driver = sound_driver(s->model);
        g_autofree char *audiodev = sound_audiodev(def, s);
        bool hda = g_str_equal(s->model, "ich6") || g_str_equal(s->model, "ich9");
        JsonObject *dev;

        if (!driver) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "sound card model '%s' is not supported by this QEMU",
                          s->model);
            return false;
        }
        if (s->audio_id) {
            bool found = false;

            for (guint j = 0; j < def->audios->len; j++)
                found = found || ((const VrtDomainAudioDef *)def->audios->pdata[j])->id == s->audio_id;
            if (!found) {
                vrt_error_set(error, VIR_ERR_XML_ERROR, "no audio device with ID %u", s->audio_id);
                return false;
            }
        }
        dev = json_object_new();
        json_object_set_string_member(dev, "driver", driver);
        json_object_set_string_member(dev, "id", s->info.alias);
        if (!hda && audiodev)
            json_object_set_string_member(dev, "audiodev", audiodev);
        if (s->info.type == VRT_DEVICE_ADDRESS_USB) {
            json_object_set_string_member(dev, "bus", "usb.0");
            if (s->info.usb.port)
                json_object_set_string_member(dev, "port", s->info.usb.port);
        } else
            vrt_qemu_command_device_info(def, dev, &s->info);
        g_ptr_array_add(devices, dev);
        if (!hda)
            continue;
        for (guint j = 0; s->codecs && j < s->codecs->len; j++)
            g_ptr_array_add(devices, codec_props(s, s->codecs->pdata[j], j, audiodev));
        if (!s->codecs || !s->codecs->len)
            g_ptr_array_add(devices, codec_props(s, "duplex", 0, audiodev));
    }
    return true;
}

bool
vrt_qemu_command_panic_devices(const VrtDomainDef *def, GPtrArray *devices)
{
    for (guint i = 0; def->panics && i < def->panics->len; i++) {
        const VrtDomainPanicDef *p = def->panics->pdata[i];
        JsonObject *dev;

        if (!g_str_equal(p->model, "isa"))
            continue;
        dev = json_object_new();
        json_object_set_string_member(dev, "driver", "pvpanic");
        if (p->iobase >= 0)
            json_object_set_int_member(dev, "ioport", p->iobase);
        g_ptr_array_add(devices, dev);
    }
    return true;
}

JsonObject *
vrt_qemu_command_vsock_device(const VrtDomainDef *def, const char *vhost_path, GError **error)
{
    const VrtDomainVsockDef *v = def->vsock;
    JsonObject *dev;

    /* QEMU's vhost-vsock-pci opens the host's vhost device: without it
     * the guest would have no vsock, so the start is refused by name */
    if (g_access(vhost_path, R_OK | W_OK) != 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "vsock is not supported on this host: %s is missing (the vhost_vsock module)", vhost_path);
        return NULL;
    }
    /* libvirt probes the host for a free CID with the vhost device's
     * ioctl; vrtd does not, so a CID must be given */
    if (v->auto_cid == VRT_TRISTATE_YES || !v->cid) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "vsock with an automatic CID is not supported: give <cid auto='no' address='N'/>");
        return NULL;
    }
    dev = json_object_new();
    json_object_set_string_member(dev, "driver", "vhost-vsock-pci");
    if (v->info.alias)
        json_object_set_string_member(dev, "id", v->info.alias);
    json_object_set_int_member(dev, "guest-cid", v->cid);
    vrt_qemu_command_device_info(def, dev, &v->info);
    return dev;
}

void
vrt_qemu_command_hub_devices(const VrtDomainDef *def, GPtrArray *devices)
{
    for (guint i = 0; def->hubs && i < def->hubs->len; i++) {
        const VrtDomainHubDef *h = def->hubs->pdata[i];
        const char *ctrl = NULL;
        g_autofree char *bus = NULL;
        JsonObject *dev = json_object_new();

        json_object_set_string_member(dev, "driver", "usb-hub");
        if (h->info.alias)
            json_object_set_string_member(dev, "id", h->info.alias);
        /* the bus is the USB controller of that index, by its alias */
        for (guint j = 0; j < def->controllers->len; j++) {
            const VrtDomainControllerDef *c = def->controllers->pdata[j];
            if (c->type == VRT_DOMAIN_CONTROLLER_USB && c->index == h->info.usb.bus && c->master_startport < 0)
                ctrl = c->info.alias;
        }
        bus = g_strdup_printf("%s.0", ctrl ? ctrl : "usb");
        json_object_set_string_member(dev, "bus", bus);
        if (h->info.usb.port)
            json_object_set_string_member(dev, "port", h->info.usb.port);
        g_ptr_array_add(devices, dev);
    }
}

bool
vrt_qemu_command_hyperv_panic(const VrtDomainDef *def)
{
    for (guint i = 0; def->panics && i < def->panics->len; i++)
        if (g_str_equal(((const VrtDomainPanicDef *)def->panics->pdata[i])->model, "hyperv"))
            return true;
    return false;
}

bool
vrt_qemu_command_graphics_refuse(const VrtDomainGraphicsDef *g, GError **error)
{
    switch (g->type) {
    case VRT_DOMAIN_GRAPHICS_SDL:
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "graphics type 'sdl' is not supported: QEMU's SDL display (qemu-system-gui) needs an X display "
                      "vrtd does not give it");
        return false;
    case VRT_DOMAIN_GRAPHICS_EGL_HEADLESS:
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "graphics type 'egl-headless' is not supported: it needs a DRM render node and OpenGL");
        return false;
    case VRT_DOMAIN_GRAPHICS_DBUS:
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "graphics type 'dbus' is not supported: vrtd runs no D-Bus daemon for the display");
        return false;
    case VRT_DOMAIN_GRAPHICS_SPICE:
    case VRT_DOMAIN_GRAPHICS_VNC: break;
    }
    vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "graphics type '%s' is not supported",
                  g->type == VRT_DOMAIN_GRAPHICS_SPICE ? "spice" : "vnc");
    return false;
}

bool
vrt_qemu_command_video_check(const VrtDomainVideoDef *v, GError **error)
{
    if (v->accel3d == VRT_TRISTATE_YES || v->accel_rendernode) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "video acceleration 'accel3d' is not supported: "
                      "virgl needs OpenGL and a DRM render node");
        return false;
    }
    if (v->accel2d == VRT_TRISTATE_YES) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s", "video acceleration 'accel2d' is not supported");
        return false;
    }
    return true;
}

bool
vrt_qemu_command_vnc_check(const VrtDomainGraphicsDef *g, GError **error)
{
    if (g->listen_socket) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "graphics listen type 'socket' is not supported: QEMU runs confined and cannot create "
                      "a socket outside its run directory");
        return false;
    }
    if (g->listen_network) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "graphics listen type 'network' (network '%s') is not supported", g->listen_network);
        return false;
    }
    if (g->websocket < 0) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "VNC websocket='-1' (a port chosen at start) is not supported: give the port");
        return false;
    }
    return true;
}

const char *
vrt_qemu_command_vnc_share(const VrtDomainGraphicsDef *g)
{
    static const char *const names[] = { "", "allow-exclusive", "force-shared", "ignore" };

    return g->share_policy > 0 && g->share_policy < (int)G_N_ELEMENTS(names) ? names[g->share_policy] : "";
}

bool
vrt_qemu_command_chr_check(const VrtDomainChrDef *chr, GError **error)
{
    static const struct {
        VrtDomainChrType type;
        const char *name, *why;
    } refused[] = {
        { VRT_DOMAIN_CHR_TYPE_VC, "vc", "it needs a display window" },
        { VRT_DOMAIN_CHR_TYPE_PIPE, "pipe", "QEMU runs confined and cannot open the pipes" },
        { VRT_DOMAIN_CHR_TYPE_SPICEVMC, "spicevmc", "it needs SPICE graphics" },
        { VRT_DOMAIN_CHR_TYPE_SPICEPORT, "spiceport", "it needs SPICE graphics" },
        { VRT_DOMAIN_CHR_TYPE_QEMU_VDAGENT, "qemu-vdagent", "vrtd does not start QEMU's vdagent" },
        { VRT_DOMAIN_CHR_TYPE_DBUS, "dbus", "it needs D-Bus graphics" },
    };

    if (chr->log_file) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED,
                      "character device <log file='%s'> is not supported: vrtd runs no log daemon for it",
                      chr->log_file);
        return false;
    }
    if (chr->guestfwd_addr) {
        vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                      "channel target type 'guestfwd' is not supported: it needs QEMU's user network");
        return false;
    }
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        if (refused[i].type == chr->type) {
            vrt_error_set(error, VIR_ERR_CONFIG_UNSUPPORTED, "character device type '%s' is not supported: %s",
                          refused[i].name, refused[i].why);
            return false;
        }
    }
    return true;
}
