/*
 * Lifetime of the domain structs (new, free, copy) and the operations that
 * keep a domain's device lists consistent: an interface whose (actual)
 * type is hostdev owns the host device that stands in for it, and that
 * device is also listed in def->hostdevs; insert and remove keep both
 * lists and both pointers in step.
 */
#include "conf/domain/domain_conf.h"
#include "conf/domain/domain_priv.h"
#include "conf/domain/domain_tune.h"
#include "util/error.h"
#include "util/mac.h"

#include <string.h>

static void
info_clear(VrtDomainDeviceInfo *info)
{
    g_clear_pointer(&info->alias, g_free);
    g_clear_pointer(&info->usb.port, g_free);
    vrt_device_rom_clear(&info->rom);
}

static void
cpu_feature_free(gpointer p)
{
    VrtDomainCpuFeature *f = p;
    g_free(f->policy);
    g_free(f->name);
    g_free(f);
}

static void
timer_free(gpointer p)
{
    VrtDomainTimerDef *t = p;
    g_free(t->name);
    g_free(t->tickpolicy);
    g_free(t->track);
    g_free(t);
}

void
vrt_domain_disk_def_free(VrtDomainDiskDef *disk)
{
    if (!disk)
        return;
    g_free(disk->driver_name);
    g_free(disk->cache);
    g_free(disk->src);
    g_free(disk->src_pool);
    g_free(disk->src_volume);
    g_free(disk->target_dev);
    g_free(disk->serial);
    g_free(disk->encryption_format);
    g_free(disk->encryption_secret);
    vrt_disk_ident_clear(&disk->ident);
    vrt_disk_iotune_clear(&disk->iotune);
    vrt_disk_net_source_free(disk->net);
    if (disk->seclabels)
        g_ptr_array_unref(disk->seclabels);
    info_clear(&disk->info);
    g_free(disk);
}

void
vrt_domain_controller_def_free(VrtDomainControllerDef *ctrl)
{
    if (!ctrl)
        return;
    g_free(ctrl->model);
    g_free(ctrl->model_name);
    info_clear(&ctrl->info);
    g_free(ctrl);
}

VrtDomainHostdevDef *
vrt_domain_hostdev_def_new(void)
{
    VrtDomainHostdevDef *h = g_new0(VrtDomainHostdevDef, 1);
    h->info = &h->own_info;
    return h;
}

void
vrt_domain_hostdev_def_free(VrtDomainHostdevDef *hostdev)
{
    if (!hostdev)
        return;
    g_free(hostdev->driver_name);
    g_free(hostdev->teaming_persistent);
    info_clear(&hostdev->own_info);
    g_free(hostdev);
}

VrtDomainNetDef *
vrt_domain_net_def_new(void)
{
    return g_new0(VrtDomainNetDef, 1);
}

void
vrt_domain_net_def_free(VrtDomainNetDef *net)
{
    if (!net)
        return;
    g_free(net->model);
    g_free(net->source_network);
    g_free(net->portgroup);
    g_free(net->source_bridge);
    g_free(net->ifname);
    g_free(net->driver_name);
    g_free(net->teaming_persistent);
    g_free(net->actual.bridge);
    vrt_net_socket_source_clear(&net->socket);
    vrt_net_host_side_clear(&net->host);
    vrt_domain_hostdev_def_free(net->hostdev);
    info_clear(&net->info);
    g_free(net);
}

void
vrt_domain_chr_def_free(VrtDomainChrDef *chr)
{
    if (!chr)
        return;
    g_free(chr->path);
    g_free(chr->host);
    g_free(chr->service);
    g_free(chr->bind_host);
    g_free(chr->bind_service);
    g_free(chr->target_type);
    g_free(chr->target_name);
    g_free(chr->channel);
    g_free(chr->log_file);
    g_free(chr->guestfwd_addr);
    g_free(chr->target_model);
    if (chr->seclabels)
        g_ptr_array_unref(chr->seclabels);
    info_clear(&chr->info);
    g_free(chr);
}

void
vrt_domain_input_def_free(VrtDomainInputDef *input)
{
    if (!input)
        return;
    g_free(input->evdev);
    g_free(input->type);
    g_free(input->bus);
    info_clear(&input->info);
    g_free(input);
}

void
vrt_domain_graphics_def_free(VrtDomainGraphicsDef *gfx)
{
    if (!gfx)
        return;
    g_free(gfx->listen);
    g_free(gfx->passwd);
    g_free(gfx->keymap);
    g_free(gfx->display);
    g_free(gfx->xauth);
    g_free(gfx->gl_rendernode);
    g_free(gfx->dbus_address);
    g_free(gfx->listen_network);
    g_free(gfx->socket_path);
    g_free(gfx);
}

void
vrt_domain_video_def_free(VrtDomainVideoDef *video)
{
    if (!video)
        return;
    g_free(video->model);
    g_free(video->accel_rendernode);
    info_clear(&video->info);
    g_free(video);
}

void
vrt_domain_rng_def_free(VrtDomainRngDef *rng)
{
    if (!rng)
        return;
    g_free(rng->model);
    g_free(rng->backend_path);
    info_clear(&rng->info);
    g_free(rng);
}

void
vrt_domain_memballoon_def_free(VrtDomainMemballoonDef *balloon)
{
    if (!balloon)
        return;
    g_free(balloon->model);
    info_clear(&balloon->info);
    g_free(balloon);
}

void
vrt_domain_watchdog_def_free(VrtDomainWatchdogDef *wd)
{
    if (!wd)
        return;
    g_free(wd->model);
    g_free(wd->action);
    info_clear(&wd->info);
    g_free(wd);
}

/* def->hostdevs frees only what it owns: a hostdev standing in for an
 * interface belongs to that interface. */
static void
hostdev_list_free(gpointer p)
{
    VrtDomainHostdevDef *h = p;
    if (!h->parent_net)
        vrt_domain_hostdev_def_free(h);
}

VrtDomainDef *
vrt_domain_def_new(void)
{
    VrtDomainDef *def = g_new0(VrtDomainDef, 1);

    def->id = -1;
    def->on_poweroff = VRT_DOMAIN_LIFECYCLE_DESTROY;
    def->on_reboot = VRT_DOMAIN_LIFECYCLE_RESTART;
    def->on_crash = VRT_DOMAIN_LIFECYCLE_DESTROY;
    def->clock.timers = g_ptr_array_new_with_free_func(timer_free);
    def->cpu.features = g_ptr_array_new_with_free_func(cpu_feature_free);
    def->cpu.cache_level = -1;
    def->os.bootmenu_timeout = -1;
    def->cpu.maxphys_bits = -1;
    def->audios = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_audio_free);
    def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_disk_def_free);
    def->controllers = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_controller_def_free);
    def->nets = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_net_def_free);
    def->hostdevs = g_ptr_array_new_with_free_func(hostdev_list_free);
    def->serials = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_chr_def_free);
    def->consoles = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_chr_def_free);
    def->parallels = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_chr_def_free);
    def->channels = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_chr_def_free);
    def->inputs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_input_def_free);
    def->graphics = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_graphics_def_free);
    def->videos = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_video_def_free);
    def->rngs = g_ptr_array_new_with_free_func((GDestroyNotify)vrt_domain_rng_def_free);
    return def;
}

void
vrt_domain_def_free(VrtDomainDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    g_free(def->metadata);
    vrt_domain_tune_free(def->tune);
    g_free(def->os.type);
    g_free(def->os.arch);
    g_free(def->os.machine);
    g_free(def->os.kernel);
    g_free(def->os.initrd);
    g_free(def->os.cmdline);
    vrt_domain_os_firmware_clear(&def->os.fw);
    g_free(def->vcpu_cpuset);
    vrt_domain_mem_free(def->mem);
    g_free(def->idmap);
    if (def->iothread_ids)
        g_array_unref(def->iothread_ids);
    vrt_domain_iommu_free(def->iommu);
    if (def->tpms)
        g_ptr_array_unref(def->tpms);
    if (def->filesystems)
        g_ptr_array_unref(def->filesystems);
    if (def->sounds)
        g_ptr_array_unref(def->sounds);
    if (def->hubs)
        g_ptr_array_unref(def->hubs);
    if (def->usb_hostdevs)
        g_ptr_array_unref(def->usb_hostdevs);
    if (def->subsys_hostdevs)
        g_ptr_array_unref(def->subsys_hostdevs);
    if (def->redirdevs)
        g_ptr_array_unref(def->redirdevs);
    if (def->redirfilter)
        g_array_unref(def->redirfilter);
    if (def->smartcards)
        g_ptr_array_unref(def->smartcards);
    if (def->shmems)
        g_ptr_array_unref(def->shmems);
    if (def->sysinfos)
        g_ptr_array_unref(def->sysinfos);
    g_free(def->smbios_mode);
    vrt_domain_vsock_free(def->vsock);
    if (def->panics)
        g_ptr_array_unref(def->panics);
    if (def->seclabels)
        g_ptr_array_unref(def->seclabels);
    vrt_domain_launch_security_free(def->launch_security);
    if (def->qemu_args)
        g_ptr_array_unref(def->qemu_args);
    if (def->qemu_env)
        g_ptr_array_unref(def->qemu_env);
    g_free(def->cpu.check);
    g_free(def->cpu.match);
    g_free(def->cpu.model);
    g_free(def->cpu.fallback);
    g_free(def->cpu.vendor_id);
    g_free(def->cpu.cache_mode);
    g_free(def->cpu.maxphys_mode);
    g_ptr_array_unref(def->cpu.features);
    g_ptr_array_unref(def->audios);
    g_free(def->emulator);
    vrt_domain_features_def_free(def->feat);
    g_ptr_array_unref(def->clock.timers);
    g_free(def->clock.timezone);
    g_ptr_array_unref(def->disks);
    g_ptr_array_unref(def->controllers);
    /* hostdevs before nets: the list must not outlive the interfaces
     * that own some of its members. */
    g_ptr_array_unref(def->hostdevs);
    g_ptr_array_unref(def->nets);
    g_ptr_array_unref(def->serials);
    g_ptr_array_unref(def->consoles);
    g_ptr_array_unref(def->parallels);
    g_ptr_array_unref(def->channels);
    g_ptr_array_unref(def->inputs);
    g_ptr_array_unref(def->graphics);
    g_ptr_array_unref(def->videos);
    g_ptr_array_unref(def->rngs);
    vrt_domain_memballoon_def_free(def->memballoon);
    vrt_domain_watchdog_def_free(def->watchdog);
    g_free(def);
}

void
vrt_domain_device_def_free(VrtDomainDeviceDef *dev)
{
    if (!dev)
        return;
    switch (dev->type) {
    case VRT_DOMAIN_DEVICE_DISK: vrt_domain_disk_def_free(dev->data.disk); break;
    case VRT_DOMAIN_DEVICE_NET: vrt_domain_net_def_free(dev->data.net); break;
    case VRT_DOMAIN_DEVICE_HOSTDEV: vrt_domain_hostdev_def_free(dev->data.hostdev); break;
    case VRT_DOMAIN_DEVICE_CONTROLLER: vrt_domain_controller_def_free(dev->data.controller); break;
    case VRT_DOMAIN_DEVICE_CHR: vrt_domain_chr_def_free(dev->data.chr); break;
    case VRT_DOMAIN_DEVICE_INPUT: vrt_domain_input_def_free(dev->data.input); break;
    case VRT_DOMAIN_DEVICE_VIDEO: vrt_domain_video_def_free(dev->data.video); break;
    case VRT_DOMAIN_DEVICE_RNG: vrt_domain_rng_def_free(dev->data.rng); break;
    case VRT_DOMAIN_DEVICE_WATCHDOG: vrt_domain_watchdog_def_free(dev->data.watchdog); break;
    case VRT_DOMAIN_DEVICE_MEMBALLOON: vrt_domain_memballoon_def_free(dev->data.memballoon); break;
    case VRT_DOMAIN_DEVICE_GRAPHICS: vrt_domain_graphics_def_free(dev->data.graphics); break;
    case VRT_DOMAIN_DEVICE_FILESYSTEM: vrt_domain_fs_free(dev->data.fs); break;
    }
    g_free(dev);
}

/* The status view carries everything, links included, so a copy is a
 * round trip through it; this keeps copy and format from drifting apart. */
VrtDomainDef *
vrt_domain_def_copy(const VrtDomainDef *def, GError **error)
{
    g_autofree char *xml = vrt_domain_def_format(def, VRT_DOMAIN_XML_STATUS | VRT_DOMAIN_XML_SECURE, error);
    if (!xml)
        return NULL;
    return vrt_domain_def_parse(xml, VRT_DOMAIN_XML_STATUS, error);
}

/* ---- nets and hostdevs --------------------------------------------- */

VrtDomainNetType
vrt_domain_net_get_actual_type(const VrtDomainNetDef *net)
{
    if (net->type == VRT_DOMAIN_NET_TYPE_NETWORK && net->actual.set)
        return net->actual.type;
    return net->type;
}

bool
vrt_domain_net_link_hostdev(VrtDomainNetDef *net, GError **error)
{
    VrtDomainHostdevDef *h;

    if (net->hostdev || vrt_domain_net_get_actual_type(net) != VRT_DOMAIN_NET_TYPE_HOSTDEV)
        return true;
    h = vrt_domain_hostdev_def_new();
    if (net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV) {
        h->managed = net->managed;
        h->source = net->hostdev_source;
    } else {
        h->managed = net->actual.managed;
        h->source = net->actual.hostdev_addr;
    }
    h->info = &net->info;
    h->parent_net = net;
    net->hostdev = h;
    return true;
}

bool
vrt_domain_def_net_link_hostdev(VrtDomainDef *def, VrtDomainNetDef *net, GError **error)
{
    if (!g_ptr_array_find(def->nets, net, NULL)) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "interface is not part of domain '%s'", def->name);
        return false;
    }
    if (!vrt_domain_net_link_hostdev(net, error))
        return false;
    if (net->hostdev && !g_ptr_array_find(def->hostdevs, net->hostdev, NULL))
        g_ptr_array_add(def->hostdevs, net->hostdev);
    return true;
}

void
vrt_domain_def_net_insert(VrtDomainDef *def, VrtDomainNetDef *net)
{
    g_ptr_array_add(def->nets, net);
    if (net->hostdev)
        g_ptr_array_add(def->hostdevs, net->hostdev);
}

VrtDomainNetDef *
vrt_domain_def_net_remove(VrtDomainDef *def, VrtDomainNetDef *net)
{
    guint idx;

    if (!g_ptr_array_find(def->nets, net, &idx))
        return NULL;
    if (net->hostdev)
        g_ptr_array_remove(def->hostdevs, net->hostdev); /* not freed: owned by net */
    return g_ptr_array_steal_index(def->nets, idx);
}

void
vrt_domain_def_net_unlink_hostdev(VrtDomainDef *def, VrtDomainNetDef *net)
{
    if (!net->hostdev)
        return;
    g_ptr_array_remove(def->hostdevs, net->hostdev);
    vrt_domain_hostdev_def_free(g_steal_pointer(&net->hostdev));
}

void
vrt_domain_def_hostdev_insert(VrtDomainDef *def, VrtDomainHostdevDef *hostdev)
{
    g_ptr_array_add(def->hostdevs, hostdev);
}

VrtDomainHostdevDef *
vrt_domain_def_hostdev_remove(VrtDomainDef *def, VrtDomainHostdevDef *hostdev)
{
    guint idx;

    if (hostdev->parent_net || !g_ptr_array_find(def->hostdevs, hostdev, &idx))
        return NULL;
    return g_ptr_array_steal_index(def->hostdevs, idx);
}

void
vrt_domain_def_disk_insert(VrtDomainDef *def, VrtDomainDiskDef *disk)
{
    g_ptr_array_add(def->disks, disk);
}

VrtDomainDiskDef *
vrt_domain_def_disk_remove(VrtDomainDef *def, VrtDomainDiskDef *disk)
{
    guint idx;

    if (!g_ptr_array_find(def->disks, disk, &idx))
        return NULL;
    return g_ptr_array_steal_index(def->disks, idx);
}

/* ---- lookups ------------------------------------------------------- */

VrtDomainNetDef *
vrt_domain_def_find_net_by_mac(const VrtDomainDef *def, const guint8 mac[6])
{
    for (guint i = 0; i < def->nets->len; i++) {
        VrtDomainNetDef *net = def->nets->pdata[i];
        if (net->mac_set && memcmp(net->mac, mac, 6) == 0)
            return net;
    }
    return NULL;
}

VrtDomainNetDef *
vrt_domain_def_find_net_match(const VrtDomainDef *def, const VrtDomainNetDef *match, GError **error)
{
    bool pci = match->info.type == VRT_DEVICE_ADDRESS_PCI;
    char mac[VRT_MAC_STRING_LEN] = "(<null>)";
    VrtDomainNetDef *found = NULL;

    if (match->mac_set)
        vrt_mac_format(match->mac, mac);
    for (guint i = 0; def->nets && i < def->nets->len; i++) {
        VrtDomainNetDef *net = def->nets->pdata[i];

        if (match->mac_set && (!net->mac_set || memcmp(net->mac, match->mac, 6) != 0))
            continue;
        if (pci && !(net->info.type == VRT_DEVICE_ADDRESS_PCI && vrt_pci_addr_equal(&net->info.pci, &match->info.pci)))
            continue;
        if (match->info.alias && net->info.alias && !g_str_equal(match->info.alias, net->info.alias))
            continue;
        if (found) {
            if (match->mac_set)
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "multiple devices matching MAC address %s found", mac);
            else
                vrt_error_set(error, VIR_ERR_OPERATION_FAILED, "%s", "multiple matching devices found");
            return NULL;
        }
        found = net;
    }
    if (!found) {
        char addr[VRT_PCI_ADDR_STRING_LEN] = "(<null>)";

        if (pci)
            vrt_pci_addr_format_buf(&match->info.pci, addr);
        vrt_error_set(error, VIR_ERR_DEVICE_MISSING,
                      "no device found at address '%s' matching MAC address '%s' and alias '%s'", addr, mac,
                      match->info.alias ? match->info.alias : "(<null>)");
    }
    return found;
}

VrtDomainNetDef *
vrt_domain_def_find_hostdev_net_by_mac(const VrtDomainDef *def, const guint8 mac[6], const char *network,
                                       const char *alias)
{
    for (guint i = 0; def->nets && i < def->nets->len; i++) {
        VrtDomainNetDef *net = def->nets->pdata[i];

        if (!net->mac_set || memcmp(net->mac, mac, 6) != 0)
            continue;
        if (alias && net->info.alias && !g_str_equal(alias, net->info.alias))
            continue;
        if (net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV ||
            (net->actual.set && net->actual.type == VRT_DOMAIN_NET_TYPE_HOSTDEV))
            return net;
        /* a definition parsed without its runtime state (no actual) */
        if (!net->actual.set && network && net->type == VRT_DOMAIN_NET_TYPE_NETWORK &&
            net->teaming != VRT_DOMAIN_NET_TEAMING_PERSISTENT && g_strcmp0(net->source_network, network) == 0)
            return net;
    }
    return NULL;
}

VrtDomainNetDef *
vrt_domain_def_find_net_by_alias(const VrtDomainDef *def, const char *alias)
{
    for (guint i = 0; i < def->nets->len; i++) {
        VrtDomainNetDef *net = def->nets->pdata[i];
        if (net->info.alias && g_strcmp0(net->info.alias, alias) == 0)
            return net;
    }
    return NULL;
}

VrtDomainNetDef *
vrt_domain_def_find_net_by_hostdev_source(const VrtDomainDef *def, const VrtPciAddr *addr)
{
    for (guint i = 0; i < def->nets->len; i++) {
        VrtDomainNetDef *net = def->nets->pdata[i];
        if (net->hostdev && vrt_pci_addr_equal(&net->hostdev->source, addr))
            return net;
        if (!net->hostdev && net->type == VRT_DOMAIN_NET_TYPE_HOSTDEV && vrt_pci_addr_equal(&net->hostdev_source, addr))
            return net;
        if (!net->hostdev && net->actual.set && net->actual.type == VRT_DOMAIN_NET_TYPE_HOSTDEV &&
            vrt_pci_addr_equal(&net->actual.hostdev_addr, addr))
            return net;
    }
    return NULL;
}

VrtDomainHostdevDef *
vrt_domain_def_find_hostdev_by_source(const VrtDomainDef *def, const VrtPciAddr *addr)
{
    for (guint i = 0; i < def->hostdevs->len; i++) {
        VrtDomainHostdevDef *h = def->hostdevs->pdata[i];
        if (vrt_pci_addr_equal(&h->source, addr))
            return h;
    }
    return NULL;
}

VrtDomainHostdevDef *
vrt_domain_def_find_hostdev_by_alias(const VrtDomainDef *def, const char *alias)
{
    for (guint i = 0; i < def->hostdevs->len; i++) {
        VrtDomainHostdevDef *h = def->hostdevs->pdata[i];
        if (h->info->alias && g_strcmp0(h->info->alias, alias) == 0)
            return h;
    }
    return NULL;
}

VrtDomainDiskDef *
vrt_domain_def_find_disk_by_target(const VrtDomainDef *def, const char *target_dev)
{
    for (guint i = 0; i < def->disks->len; i++) {
        VrtDomainDiskDef *d = def->disks->pdata[i];
        if (g_strcmp0(d->target_dev, target_dev) == 0)
            return d;
    }
    return NULL;
}

VrtDomainDiskDef *
vrt_domain_def_find_disk_by_name(const VrtDomainDef *def, const char *name)
{
    if (name[0] != '/')
        return vrt_domain_def_find_disk_by_target(def, name);
    for (guint i = 0; i < def->disks->len; i++) {
        VrtDomainDiskDef *d = def->disks->pdata[i];
        if (g_strcmp0(d->src, name) == 0)
            return d;
    }
    return NULL;
}
