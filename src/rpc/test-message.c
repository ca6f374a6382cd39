/*
 * Unit tests of frame encoding and decoding: round trips of headers, payloads
 * and error replies, and the refusals a bad frame gets.
 */
#include "rpc/message.h"
#include "rpc/server.h"
#include "util/error.h"
#include "vrt_procs.h"

#include <string.h>

static void
test_roundtrip(void)
{
    vrt_net_header hdr = { VRT_REMOTE_PROGRAM, VRT_REMOTE_VERSION, VRT_PROC_DOMAIN_LOOKUP_BY_NAME, VRT_NET_CALL, 42,
                           VRT_NET_OK };
    remote_domain_lookup_by_name_args args = { .name = (char *)"guest-1" };
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) frame = vrt_message_encode(&hdr, (xdrproc_t)xdr_remote_domain_lookup_by_name_args, &args, &err);
    g_assert_no_error(err);
    gsize len;
    const guint8 *buf = g_bytes_get_data(frame, &len);
    /* 4 length + 24 header + 4 string length + "guest-1" padded to 8 */
    g_assert_cmpuint(len, ==, 4 + 24 + 4 + 8);
    guint32 total;
    g_assert_true(vrt_message_decode_length(buf, &total, &err));
    g_assert_cmpuint(total, ==, len);
    vrt_net_header back;
    g_assert_true(vrt_message_decode_header(buf, len, &back, &err));
    g_assert_cmpuint(back.prog, ==, VRT_REMOTE_PROGRAM);
    g_assert_cmpint(back.proc, ==, VRT_PROC_DOMAIN_LOOKUP_BY_NAME);
    g_assert_cmpuint(back.serial, ==, 42);
    remote_domain_lookup_by_name_args out = { 0 };
    g_assert_true(vrt_message_decode_payload(buf, len, (xdrproc_t)xdr_remote_domain_lookup_by_name_args, &out, &err));
    g_assert_cmpstr(out.name, ==, "guest-1");
    vrt_message_free_payload((xdrproc_t)xdr_remote_domain_lookup_by_name_args, &out);
}

static void
test_error_reply(void)
{
    vrt_net_header call = { VRT_REMOTE_PROGRAM, 1, VRT_PROC_DOMAIN_LOOKUP_BY_NAME, VRT_NET_CALL, 7, VRT_NET_OK };
    g_autoptr(GError) in = NULL;
    vrt_error_set(&in, VIR_ERR_NO_DOMAIN, "no domain with matching name '%s'", "x");
    g_assert_cmpstr(in->message, ==, "Domain not found: no domain with matching name 'x'");
    g_autoptr(GBytes) frame = vrt_message_encode_error(&call, in, VIR_FROM_QEMU);
    gsize len;
    const guint8 *buf = g_bytes_get_data(frame, &len);
    vrt_net_header hdr;
    g_assert_true(vrt_message_decode_header(buf, len, &hdr, NULL));
    g_assert_cmpint(hdr.type, ==, VRT_NET_REPLY);
    g_assert_cmpint(hdr.status, ==, VRT_NET_ERROR);
    g_assert_cmpuint(hdr.serial, ==, 7);
    remote_error rerr = { 0 };
    g_assert_true(vrt_message_decode_payload(buf, len, (xdrproc_t)xdr_remote_error, &rerr, NULL));
    g_assert_cmpint(rerr.code, ==, VIR_ERR_NO_DOMAIN);
    g_assert_cmpint(rerr.domain, ==, VIR_FROM_QEMU);
    g_assert_cmpint(rerr.level, ==, 2);
    g_assert_cmpstr(*rerr.message, ==, in->message);
    vrt_message_free_payload((xdrproc_t)xdr_remote_error, &rerr);
    g_autoptr(GError) out = NULL;
    g_assert_true(vrt_message_decode_error(buf, len, &out));
    g_assert_error(out, VRT_ERROR, VIR_ERR_NO_DOMAIN);
    g_assert_cmpstr(out->message, ==, in->message);
}

static void
test_bad_lengths(void)
{
    guint8 small[4] = { 0, 0, 0, 27 };
    guint8 big[4] = { 0x01, 0x00, 0x00, 0x05 }; /* 16 MiB + 5 */
    guint8 ok[4] = { 0x01, 0x00, 0x00, 0x04 }; /* exactly the maximum */
    guint32 total;
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GError) e2 = NULL;
    g_assert_false(vrt_message_decode_length(small, &total, &e1));
    g_assert_error(e1, VRT_ERROR, VIR_ERR_RPC);
    g_assert_false(vrt_message_decode_length(big, &total, &e2));
    g_assert_error(e2, VRT_ERROR, VIR_ERR_RPC);
    g_assert_true(vrt_message_decode_length(ok, &total, NULL));
}

static void
test_bad_payloads(void)
{
    vrt_net_header hdr = { VRT_REMOTE_PROGRAM, 1, VRT_PROC_DOMAIN_LOOKUP_BY_NAME, VRT_NET_CALL, 1, VRT_NET_OK };
    remote_domain_lookup_by_name_args args = { .name = (char *)"abc" };
    g_autoptr(GBytes) frame = vrt_message_encode(&hdr, (xdrproc_t)xdr_remote_domain_lookup_by_name_args, &args, NULL);
    gsize len;
    const guint8 *buf = g_bytes_get_data(frame, &len);
    /* Truncated: the string's length says more than the frame holds. */
    remote_domain_lookup_by_name_args out = { 0 };
    g_autoptr(GError) e1 = NULL;
    g_assert_false(
        vrt_message_decode_payload(buf, len - 4, (xdrproc_t)xdr_remote_domain_lookup_by_name_args, &out, &e1));
    g_assert_error(e1, VRT_ERROR, VIR_ERR_RPC);
    /* Trailing bytes after a complete payload. */
    g_autofree guint8 *longer = g_malloc0(len + 8);
    memcpy(longer, buf, len);
    g_autoptr(GError) e2 = NULL;
    g_assert_false(
        vrt_message_decode_payload(longer, len + 8, (xdrproc_t)xdr_remote_domain_lookup_by_name_args, &out, &e2));
    g_assert_nonnull(strstr(e2->message, "trailing"));
    /* A string length far beyond the protocol's limit. */
    g_autofree guint8 *huge = g_memdup2(buf, len);
    huge[28] = 0x7f;
    g_autoptr(GError) e3 = NULL;
    g_assert_false(vrt_message_decode_payload(huge, len, (xdrproc_t)xdr_remote_domain_lookup_by_name_args, &out, &e3));
}

static void
test_table(void)
{
    /* The table is sorted and lookups find what the wire uses. */
    g_assert_nonnull(vrt_proc_lookup(1));
    g_assert_cmpstr(vrt_proc_lookup(273)->name, ==, "CONNECT_LIST_ALL_DOMAINS");
    g_assert_null(vrt_proc_lookup(9999));
    g_assert_true(vrt_proc_lookup(318)->is_message);
    g_assert_false(vrt_proc_lookup(12)->readonly_ok);
    g_assert_true(vrt_proc_lookup(23)->readonly_ok);

    /* The table is keyed by program: the QEMU program's procedure 1 is its
     * monitor command, not the remote program's CONNECT_OPEN. */
    g_assert_true(vrt_proc_program_known(VRT_QEMU_PROGRAM, VRT_QEMU_VERSION));
    g_assert_false(vrt_proc_program_known(VRT_QEMU_PROGRAM, 2));
    g_assert_false(vrt_proc_program_known(0x20008088, 1));
    const VrtProcInfo *mon = vrt_proc_find(VRT_QEMU_PROGRAM, VRT_QEMU_VERSION, 1);
    g_assert_nonnull(mon);
    g_assert_cmpstr(mon->name, ==, "QEMU_DOMAIN_MONITOR_COMMAND");
    g_assert_cmpuint(mon->prog, ==, VRT_QEMU_PROGRAM);
    g_assert_cmpstr(vrt_proc_lookup(1)->name, ==, "CONNECT_OPEN");
    g_assert_true(vrt_proc_find(VRT_QEMU_PROGRAM, VRT_QEMU_VERSION, 6)->is_message);
    g_assert_null(vrt_proc_find(VRT_QEMU_PROGRAM, VRT_QEMU_VERSION, 7));
    g_autoptr(GError) mon_denied = NULL;
    g_assert_false(vrt_rpc_readonly_check(mon, NULL, &mon_denied));
    g_assert_cmpstr(mon_denied->message, ==,
                    "operation forbidden: read only access prevents virDomainQemuMonitorCommand");

    /* Read-only connections: procedures needing write access, and the
     * flags that reveal secrets, are refused with libvirt's messages. */
    g_assert_cmpint(vrt_proc_readonly_verdict(vrt_proc_lookup(11), NULL), ==, VRT_PROC_RO_DENIED_WRITE);
    g_assert_cmpint(vrt_proc_readonly_verdict(vrt_proc_lookup(23), NULL), ==, VRT_PROC_RO_ALLOWED);
    g_autoptr(GError) denied = NULL;
    g_assert_false(vrt_rpc_readonly_check(vrt_proc_lookup(11), NULL, &denied));
    g_assert_error(denied, VRT_ERROR, VIR_ERR_OPERATION_DENIED);
    g_assert_cmpstr(denied->message, ==, "operation forbidden: read only access prevents virDomainDefineXML");
    g_clear_error(&denied);
    const VrtProcInfo *xml_desc = vrt_proc_lookup(14);
    remote_domain_flags_args fa = { .flags = 2 /* INACTIVE */ };
    g_assert_true(vrt_rpc_readonly_check(xml_desc, NULL, NULL));
    g_assert_true(vrt_rpc_readonly_check(xml_desc, &fa, NULL));
    fa.flags = 1 | 2; /* SECURE */
    g_assert_cmpint(vrt_proc_readonly_verdict(xml_desc, &fa), ==, VRT_PROC_RO_DENIED_SECRET);
    g_assert_false(vrt_rpc_readonly_check(xml_desc, &fa, &denied));
    g_assert_cmpstr(denied->message, ==, "operation forbidden: virDomainGetXMLDesc with secure flag");
    g_clear_error(&denied);
    fa.flags = 8; /* VIR_DOMAIN_VCPU_GUEST */
    g_assert_false(vrt_rpc_readonly_check(vrt_proc_lookup(200), &fa, &denied));
    g_assert_cmpstr(denied->message, ==, "operation forbidden: read only access prevents virDomainGetVcpusFlags");

    int prev = 0;
    for (int p = 1; p < 500; p++) {
        const VrtProcInfo *info = vrt_proc_lookup(p);
        if (info) {
            g_assert_cmpint(info->proc, >, prev);
            prev = info->proc;
        }
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/message/roundtrip", test_roundtrip);
    g_test_add_func("/message/error-reply", test_error_reply);
    g_test_add_func("/message/bad-lengths", test_bad_lengths);
    g_test_add_func("/message/bad-payloads", test_bad_payloads);
    g_test_add_func("/message/table", test_table);
    return g_test_run();
}
