/*
 * UUIDs as vrt reads and writes them everywhere: domain and network XML,
 * network ports, the host's machine UUID, libvrt's lookups. One codec so
 * that a UUID one part accepts is accepted by every other, with libvirt's
 * rules (virUUIDParse): 32 hex digits in byte pairs, dashes between pairs,
 * blanks around the whole.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define VRT_UUID_LEN 16
#define VRT_UUID_STRING_LEN 37 /* 36 characters + NUL */

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case. */
void vrt_uuid_format(const guint8 uuid[VRT_UUID_LEN], char out[VRT_UUID_STRING_LEN]);
/* False (uuid unspecified) for anything but 16 hex byte pairs, optionally
 * separated by dashes, with optional surrounding blanks (the trailing
 * newline of /etc/machine-id or a sysfs file). */
bool vrt_uuid_parse(const char *str, guint8 uuid[VRT_UUID_LEN]);
/* A random (version 4) UUID. */
void vrt_uuid_generate(guint8 uuid[VRT_UUID_LEN]);
