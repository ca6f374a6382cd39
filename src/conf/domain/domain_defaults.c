/*
 * The defaults libvirt 9.0's QEMU driver fills into a domain definition
 * after parsing it, so that what vrtd writes back is what libvirtd writes:
 * the implicit PS/2 mouse and keyboard of an x86 machine, the <audio>
 * backend its graphics imply, a video device for graphics without one and
 * each video's vram/heads/primary, a disk's <driver name='qemu' type='raw'>,
 * the default guest CPU (qemu64) and the CPU's check/fallback/match and
 * migratable values, and <boot dev='hd'/> when nothing says what boots.
 * Every step only adds what is missing, so running it twice changes
 * nothing (definitions are re-read from disk and assigned again).
 */
#include "conf/domain/domain_conf.h"
#include "conf/domain/domain_priv.h"

#include <string.h>

static bool
is_x86(const VrtDomainDef *def)
{
    return !def->os.arch || g_str_equal(def->os.arch, "x86_64") || g_str_equal(def->os.arch, "i686");
}

static void
maybe_add_input(VrtDomainDef *def, const char *type, const char *bus)
{
    VrtDomainInputDef *in;

    for (guint i = 0; i < def->inputs->len; i++) {
        in = def->inputs->pdata[i];
        if (g_strcmp0(in->type, type) == 0 && g_strcmp0(in->bus, bus) == 0)
            return;
    }
    in = g_new0(VrtDomainInputDef, 1);
    in->type = g_strdup(type);
    in->bus = g_strdup(bus);
    g_ptr_array_add(def->inputs, in);
}

/* libvirt's qemu.conf defaults (vnc_allow_host_audio = 0,
 * nogfx_allow_host_audio = 0): VNC and no graphics get the 'none'
 * backend, SPICE its own; the last VNC, SPICE or SDL display decides. SDL
 * passes the host's audio through, which libvirt does only when
 * QEMU_AUDIO_DRV names a backend in its environment (vrtd reads none):
 * then no <audio> is added, nor for egl-headless or dbus alone. */
static void
add_default_audio(VrtDomainDef *def)
{
    const char *type = "none";
    bool add = def->graphics->len == 0;
    bool passthrough = false;
    VrtDomainAudioDef *a;

    if (def->audios->len)
        return;
    for (guint i = 0; i < def->graphics->len; i++) {
        const VrtDomainGraphicsDef *g = def->graphics->pdata[i];

        switch (g->type) {
        case VRT_DOMAIN_GRAPHICS_VNC:
        case VRT_DOMAIN_GRAPHICS_SPICE:
            add = true;
            passthrough = false;
            type = g->type == VRT_DOMAIN_GRAPHICS_SPICE ? "spice" : "none";
            break;
        case VRT_DOMAIN_GRAPHICS_SDL:
            add = true;
            passthrough = true;
            break;
        case VRT_DOMAIN_GRAPHICS_EGL_HEADLESS:
        case VRT_DOMAIN_GRAPHICS_DBUS: break;
        }
    }
    if (!add || passthrough)
        return;
    a = g_new0(VrtDomainAudioDef, 1);
    a->id = 1;
    a->type = g_strdup(type);
    g_ptr_array_add(def->audios, a);
}

static guint
round_pow2(guint v)
{
    guint p = 1;

    if (!v)
        return 0;
    while (p < v && p < (1u << 31))
        p <<= 1;
    return p;
}

static void
fill_video(VrtDomainVideoDef *v)
{
    const char *m;

    if (!v->model)
        v->model = g_strdup("cirrus");
    m = v->model;
    if (g_str_equal(m, "qxl")) {
        if (!v->vgamem)
            v->vgamem = 16384;
        if (!v->ram)
            v->ram = 65536;
        if (!v->vram)
            v->vram = 65536;
    } else if (!v->vram && (g_str_equal(m, "vga") || g_str_equal(m, "cirrus") || g_str_equal(m, "vmvga") ||
                            g_str_equal(m, "bochs"))) {
        v->vram = 16384;
    }
    v->ram = round_pow2(v->ram);
    v->vram = round_pow2(v->vram);
    if (!v->heads && !g_str_equal(m, "none"))
        v->heads = 1;
}

static void
fill_videos(VrtDomainDef *def)
{
    if (def->graphics->len && !def->videos->len)
        g_ptr_array_add(def->videos, g_new0(VrtDomainVideoDef, 1));
    for (guint i = 0; i < def->videos->len; i++)
        fill_video(def->videos->pdata[i]);
    if (def->videos->len) {
        VrtDomainVideoDef *first = def->videos->pdata[0];
        if (!g_str_equal(first->model, "none"))
            first->primary = true;
    }
}

static void
fill_disks(VrtDomainDef *def)
{
    for (guint i = 0; i < def->disks->len; i++) {
        VrtDomainDiskDef *d = def->disks->pdata[i];

        if (!d->driver_name)
            d->driver_name = g_strdup("qemu");
        if (d->format == VRT_DOMAIN_DISK_FORMAT_NONE && d->type != VRT_DOMAIN_DISK_TYPE_VOLUME)
            d->format = VRT_DOMAIN_DISK_FORMAT_RAW;
    }
}

/* QEMU's default CPU for pc and q35 is qemu64: libvirt writes it out, with
 * the checks turned off (it may not be runnable as such on every host),
 * then gives each mode its default check. */
static void
fill_cpu(VrtDomainDef *def)
{
    if (def->cpu.mode == VRT_DOMAIN_CPU_MODE_NONE || (def->cpu.mode == VRT_DOMAIN_CPU_MODE_CUSTOM && !def->cpu.model)) {
        def->cpu.mode = VRT_DOMAIN_CPU_MODE_CUSTOM;
        def->cpu.model = g_strdup("qemu64");
        if (!def->cpu.match)
            def->cpu.match = g_strdup("exact");
        if (!def->cpu.check)
            def->cpu.check = g_strdup("none");
        if (!def->cpu.fallback)
            def->cpu.fallback = g_strdup("forbid");
    }
    if (def->cpu.mode == VRT_DOMAIN_CPU_MODE_HOST_PASSTHROUGH && def->cpu.migratable == VRT_TRISTATE_DEFAULT)
        def->cpu.migratable = VRT_TRISTATE_YES;
    if (def->cpu.mode == VRT_DOMAIN_CPU_MODE_CUSTOM && def->cpu.model) {
        if (!def->cpu.match)
            def->cpu.match = g_strdup("exact");
        if (!def->cpu.fallback)
            def->cpu.fallback = g_strdup("allow");
    }
    if (def->cpu.check)
        return;
    switch (def->cpu.mode) {
    case VRT_DOMAIN_CPU_MODE_HOST_PASSTHROUGH:
    case VRT_DOMAIN_CPU_MODE_MAXIMUM: def->cpu.check = g_strdup("none"); break;
    case VRT_DOMAIN_CPU_MODE_HOST_MODEL: def->cpu.check = g_strdup("partial"); break;
    case VRT_DOMAIN_CPU_MODE_CUSTOM:
        def->cpu.check = g_strdup(def->virt_type == VRT_DOMAIN_VIRT_QEMU ? "none" : "partial");
        break;
    default: break;
    }
}

/* Without <os><boot> and without a device's <boot order>, libvirt writes
 * the BIOS's own default: the first disk. */
static void
fill_boot(VrtDomainDef *def)
{
    if (def->os.n_boot)
        return;
    for (guint i = 0; i < def->disks->len; i++)
        if (((VrtDomainDiskDef *)def->disks->pdata[i])->info.boot_order)
            return;
    for (guint i = 0; i < def->nets->len; i++)
        if (((VrtDomainNetDef *)def->nets->pdata[i])->info.boot_order)
            return;
    for (guint i = 0; i < def->hostdevs->len; i++)
        if (((VrtDomainHostdevDef *)def->hostdevs->pdata[i])->info->boot_order)
            return;
    def->os.boot[0] = VRT_DOMAIN_BOOT_HD;
    def->os.n_boot = 1;
}

/* libvirt's place for a controller: after the last one of its type whose
 * index is not greater, but before a companion (<master>) of the same
 * index when it is the master; at the end when its type is new. */
void
vrt_domain_controller_insert(VrtDomainDef *def, VrtDomainControllerDef *c)
{
    int at = -1;

    for (int i = (int)def->controllers->len - 1; i >= 0; i--) {
        const VrtDomainControllerDef *cur = def->controllers->pdata[i];
        if (cur->type != c->type)
            continue;
        if (cur->index > c->index)
            at = i;
        else if (c->master_startport < 0 && cur->master_startport >= 0 && cur->index == c->index)
            at = i;
        else if (at == -1)
            at = i + 1;
    }
    g_ptr_array_insert(def->controllers, at, c);
}

static int
controller_cmp(const VrtDomainControllerDef *x, const VrtDomainControllerDef *y)
{
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    /* the master before its companions */
    return (x->master_startport >= 0) - (y->master_startport >= 0);
}

/* The parser keeps the order of the XML; libvirt keeps the controllers of
 * one type by index, a USB master before its companions. They are sorted
 * (stably) among the places their type has, so that a definition read
 * back, with the controllers libvirt appended, keeps its order. */
static void
order_controllers(VrtDomainDef *def)
{
    GPtrArray *all = def->controllers;
    g_autoptr(GHashTable) done = g_hash_table_new(NULL, NULL);

    for (guint first = 0; first < all->len; first++) {
        VrtDomainControllerType t = ((VrtDomainControllerDef *)all->pdata[first])->type;
        g_autoptr(GArray) at = g_array_new(FALSE, FALSE, sizeof(guint));
        g_autoptr(GPtrArray) same = g_ptr_array_new();

        if (!g_hash_table_add(done, GUINT_TO_POINTER(t + 1)))
            continue;
        for (guint i = first; i < all->len; i++) {
            if (((VrtDomainControllerDef *)all->pdata[i])->type == t) {
                g_array_append_val(at, i);
                g_ptr_array_add(same, all->pdata[i]);
            }
        }
        for (guint i = 1; i < same->len; i++) {
            gpointer c = same->pdata[i];
            guint j = i;
            for (; j > 0 && controller_cmp(same->pdata[j - 1], c) > 0; j--)
                same->pdata[j] = same->pdata[j - 1];
            same->pdata[j] = c;
        }
        for (guint i = 0; i < at->len; i++)
            all->pdata[g_array_index(at, guint, i)] = same->pdata[i];
    }
}

/* A USB controller without a model is PIIX3's UHCI on pc, as libvirt
 * picks it when QEMU has that device. */
static void
fill_usb_models(VrtDomainDef *def)
{
    if (vrt_domain_def_is_q35(def))
        return;
    for (guint i = 0; i < def->controllers->len; i++) {
        VrtDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == VRT_DOMAIN_CONTROLLER_USB && !c->model)
            c->model = g_strdup("piix3-uhci");
    }
}

void
vrt_domain_def_fill_defaults(VrtDomainDef *def)
{
    order_controllers(def);
    fill_usb_models(def);
    fill_boot(def);
    if (!is_x86(def))
        return;
    maybe_add_input(def, "mouse", "ps2");
    maybe_add_input(def, "keyboard", "ps2");
    add_default_audio(def);
    fill_videos(def);
    fill_disks(def);
    fill_cpu(def);
}
