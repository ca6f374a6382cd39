/*
 * Internal declarations shared by the files of the domain XML layer
 * (parser, formatter, address assignment, device lists). Not for use
 * outside src/conf/domain.
 */
#pragma once

#include "conf/domain/domain_conf.h"

extern const char *const vrt_lifecycle_names[];
extern const char *const vrt_net_type_names[];
extern const char *const vrt_virt_type_names[];
extern const char *const vrt_disk_bus_names[];
extern const char *const vrt_disk_device_names[];
extern const char *const vrt_disk_type_names[];
extern const char *const vrt_disk_format_names[];
extern const char *const vrt_cpu_mode_names[];
extern const char *const vrt_boot_dev_names[];
extern const char *const vrt_controller_type_names[];
extern const char *const vrt_chr_type_names[];
extern const char *const vrt_chr_device_names[];
extern const char *const vrt_graphics_type_names[];
extern const char *const vrt_clock_offset_names[];

/* Index of str in a NULL-terminated table, -1 when absent or str NULL. */
int vrt_enum_from_string(const char *const *table, const char *str);
