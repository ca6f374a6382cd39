/*
 * libFuzzer target for the QEMU driver's status file, the document a
 * restarted vrtd reads to find its running domains again: <domstatus> with
 * the state, pid, start record (starttime, starting) and destroy flag, the
 * monitor, pending unplugs, the hostdev job's <hostdev-records> and the
 * live domain XML. Any input must either fail with a GError or parse into a
 * status whose formatted text (what vrtd writes) parses again and formats
 * to the same text: a status vrtd wrote must always read back.
 */
#include "drivers/qemu/qemu_domain.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

/* A status file is a domain's XML plus a few lines; larger inputs only
 * slow the search down. */
#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    xmlInitParser();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = NULL;
    g_autoptr(VrtQemuStatus) st = NULL;
    g_autoptr(VrtQemuStatus) back = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_autofree char *again = NULL;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    text = g_strndup((const char *)data, size);
    if (!(st = vrt_qemu_status_parse(text, "fuzz", NULL)))
        return 0;
    if (!(out = vrt_qemu_status_format(st, &error))) {
        fprintf(stderr, "a parsed status does not format: %s\n", error->message);
        abort();
    }
    if (!(back = vrt_qemu_status_parse(out, "fuzz", &error))) {
        fprintf(stderr, "formatted status does not parse: %s\n%s\n", error->message, out);
        abort();
    }
    again = vrt_qemu_status_format(back, NULL);
    if (!again || strcmp(again, out) != 0) {
        fprintf(stderr, "format is not stable:\n%s\n---\n%s\n", out, again ? again : "(null)");
        abort();
    }
    return 0;
}
