/*
 * Checks the protocol fuzzer's seed corpus (fuzz/corpus/protocol/): every
 * seed must decode as the frame it is (a frame the decoders refuse teaches
 * the fuzzer little), and every procedure's call, every return type and
 * every event type must have a seed, so that a procedure added to
 * a program's .tsv (protocol/remote_procs.tsv, qemu_procs.tsv) without one fails here rather than going
 * unfuzzed. Runs in the ordinary build (suite unit), through the same
 * generated decoding as the fuzzer, and with ASan in the fuzz build.
 *
 * Usage: check-fuzz-corpus DIR
 */
#include "vrt_fuzz_procs.h"

#include <stdio.h>

static const char *
kind_name(VrtFuzzKind kind)
{
    switch (kind) {
    case VRT_FUZZ_CALL: return "call";
    case VRT_FUZZ_REPLY: return "reply";
    case VRT_FUZZ_ERROR: return "error";
    case VRT_FUZZ_EVENT: return "event";
    default: return "refused";
    }
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    g_autofree bool *seen = g_new0(bool, vrt_fuzz_n_seeds);
    int failed = 0;
    guint files = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
        return 2;
    }
    g_autoptr(GDir) dir = g_dir_open(argv[1], 0, &err);
    if (!dir) {
        fprintf(stderr, "%s\n", err->message);
        return 1;
    }
    for (const char *name; (name = g_dir_read_name(dir));) {
        g_autofree char *path = g_build_filename(argv[1], name, NULL);
        g_autofree char *data = NULL;
        gsize len = 0;
        int proc;
        const char *program;

        if (!g_file_get_contents(path, &data, &len, &err)) {
            fprintf(stderr, "%s\n", err->message);
            return 1;
        }
        files++;
        VrtFuzzKind kind = vrt_fuzz_frame((const guint8 *)data, len, &proc, &program);
        if (kind == VRT_FUZZ_REFUSED) {
            fprintf(stderr, "seed %s: refused by the decoders\n", name);
            failed = 1;
            continue;
        }
        /* A seed is named [PROGRAM-]KIND-NUMBER-..., as gen_fuzz.py writes them. */
        bool remote = g_str_equal(program, "remote");
        g_autofree char *want =
            g_strdup_printf("%s%s%s-%03d-", remote ? "" : program, remote ? "" : "-", kind_name(kind), proc);
        if (!g_str_has_prefix(name, want)) {
            fprintf(stderr, "seed %s: decodes as %s of procedure %d\n", name, kind_name(kind), proc);
            failed = 1;
        }
        for (size_t i = 0; i < vrt_fuzz_n_seeds; i++)
            if (vrt_fuzz_seeds[i].kind == kind && vrt_fuzz_seeds[i].proc == proc &&
                g_str_equal(vrt_fuzz_seeds[i].program, program))
                seen[i] = true;
    }
    for (size_t i = 0; i < vrt_fuzz_n_seeds; i++) {
        if (!seen[i]) {
            fprintf(stderr,
                    "no seed for the %s of %s (%s): run protocol/gen_fuzz.py corpus "
                    "protocol/remote_procs.tsv protocol/qemu_procs.tsv protocol/vrt_remote.x "
                    "protocol/vrt_qemu.x fuzz/corpus/protocol\n",
                    kind_name(vrt_fuzz_seeds[i].kind), vrt_fuzz_seeds[i].name, vrt_fuzz_seeds[i].type);
            failed = 1;
        }
    }
    if (!failed)
        printf("%u seeds decode, and cover all %zu calls, replies, events and errors\n", files, vrt_fuzz_n_seeds);
    return failed;
}
