/*
 * libFuzzer target for the wire decoder: a frame's length word and header,
 * then the payload decoded as the arguments of the procedure the header names
 * (and as an error struct), the way the server meets untrusted bytes.
 */
#include "rpc/message.h"
#include "vrt_procs.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    if (size < 4)
        return 0;
    guint32 total;
    if (!vrt_message_decode_length(data, &total, NULL))
        return 0;
    /* Decode what is there, as if the length word matched it. */
    vrt_net_header hdr;
    if (!vrt_message_decode_header(data, size, &hdr, NULL))
        return 0;
    const VrtProcInfo *info = vrt_proc_lookup(hdr.proc);
    if (info && info->args_size) {
        void *args = g_malloc0(info->args_size);
        if (vrt_message_decode_payload(data, size, info->args_filter, args, NULL))
            vrt_message_free_payload(info->args_filter, args);
        g_free(args);
    }
    if (info && info->ret_size) {
        void *ret = g_malloc0(info->ret_size);
        if (vrt_message_decode_payload(data, size, info->ret_filter, ret, NULL))
            vrt_message_free_payload(info->ret_filter, ret);
        g_free(ret);
    }
    GError *err = NULL;
    if (vrt_message_decode_error(data, size, &err))
        g_error_free(err);
    return 0;
}
