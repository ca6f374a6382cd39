/*
 * libFuzzer target for the <cpu> parser (virConnectCompareCPU's and
 * virConnectBaselineCPU's input): arbitrary bytes are parsed as libvirt's
 * AUTO type; a definition that parses must format, parse again and format
 * identically, and comparing it with a host CPU or taking its baseline
 * must answer or refuse without crashing. Built with -Dfuzzing=true
 * (clang); the seeds are fuzz-cpu-corpus/.
 */
#include "conf/cpu/cpu_arch.h"
#include "conf/cpu/cpu_x86.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#define FUZZ_MAX_INPUT (16 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static VrtCpuDef *host;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    xmlInitParser();
    host = vrt_cpu_def_parse("<cpu><arch>x86_64</arch><model>kvm64</model><vendor>AMD</vendor>"
                             "<feature name='sse4.2'/><feature name='avx'/></cpu>",
                             VRT_CPU_TYPE_AUTO, NULL);
    if (!host)
        abort();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = NULL;
    g_autoptr(VrtCpuDef) def = NULL;
    g_autoptr(VrtCpuDef) back = NULL;
    g_autoptr(VrtCpuDef) base = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *again = NULL;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    text = g_strndup((const char *)data, size);
    if (!(def = vrt_cpu_def_parse(text, VRT_CPU_TYPE_AUTO, NULL)))
        return 0;
    xml = vrt_cpu_def_format(def);
    if (*xml) {
        g_autoptr(GError) error = NULL;
        if (!(back = vrt_cpu_def_parse(xml, VRT_CPU_TYPE_AUTO, &error))) {
            fprintf(stderr, "formatted XML does not parse: %s\n%s\n", error->message, xml);
            abort();
        }
        again = vrt_cpu_def_format(back);
        if (strcmp(again, xml) != 0) {
            fprintf(stderr, "format is not stable:\n%s\n---\n%s\n", xml, again);
            abort();
        }
    }
    (void)vrt_cpux_compare(host, def, true, NULL);
    if (def->type == VRT_CPU_TYPE_HOST) {
        VrtCpuDef *pair[2] = { host, def };
        base = vrt_cpux_baseline(pair, 2, true, NULL);
        if (base)
            (void)vrt_cpux_expand_features(base, NULL);
        if (vrt_cpu_arch_family(def->arch) != VRT_CPU_ARCH_X86) {
            VrtCpuDef *own[2] = { def, def };
            g_autoptr(VrtCpuDef) other = vrt_cpu_arch_baseline(own, 2, NULL);
        }
    }
    return 0;
}
