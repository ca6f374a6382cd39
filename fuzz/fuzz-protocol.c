/*
 * libFuzzer target for every procedure of the remote program: an input is
 * a whole frame (length word, header, payload), and the header's type and
 * procedure choose the decoding, as on the wire: a call's arguments as the
 * server decodes them, a reply's return value, an error reply or an event
 * message as the client does. The per-procedure decoding is generated from
 * protocol/remote_procs.tsv (protocol/gen_fuzz.py), so a new procedure is
 * fuzzed once it is in the table; the seeds in fuzz/corpus/protocol/ hold
 * one frame of each (fuzz/check-fuzz-corpus.c checks that).
 */
#include "vrt_fuzz_procs.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int proc;
    const char *program;

    vrt_fuzz_frame(data, size, &proc, &program);
    return 0;
}
