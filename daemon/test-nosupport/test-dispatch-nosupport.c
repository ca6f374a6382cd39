/*
 * A procedure that its program's .tsv marks nosupport is answered by vrtd's
 * generated dispatch, without a handler, with libvirt's VIR_ERR_NO_SUPPORT
 * "this function is not supported by the connection driver: virXxx". Built
 * from a copy of the table in which every procedure is nosupport (see
 * meson.build), so every call of the remote and QEMU programs is checked; an
 * event message is never a call.
 */
#include "remote_dispatch.h"
#include "util/error.h"

static void
test_every_call_answers_no_support(void)
{
    guint calls = 0, events = 0;

    /* The highest procedure number vrt knows is below 1000. */
    for (int i = 0; i < 2000; i++) {
        int proc = i % 1000;
        const VrtProcInfo *info =
            i < 1000 ? vrt_proc_lookup(proc) : vrt_proc_find(VRT_QEMU_PROGRAM, VRT_QEMU_VERSION, proc);
        g_autoptr(GError) err = NULL;
        g_autofree void *args = NULL;
        g_autofree void *ret = NULL;

        if (!info)
            continue;
        args = g_malloc0(MAX(info->args_size, 1));
        ret = g_malloc0(MAX(info->ret_size, 1));
        g_assert_false(vrt_daemon_dispatch(NULL, info, args, ret, &err));
        g_assert_nonnull(err);
        g_assert_cmpint(vrt_error_code(err), ==, VIR_ERR_NO_SUPPORT);
        if (info->is_message) {
            events++;
            continue;
        }
        g_autofree char *want =
            g_strdup_printf("this function is not supported by the connection driver: %s", info->api);
        g_assert_cmpstr(err->message, ==, want);
        calls++;
    }
    g_assert_cmpuint(calls, >, 100);
    /* lifecycle, device removed, metadata change, QEMU monitor event; secret lifecycle and value changed */
    g_assert_cmpuint(events, ==, 6);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dispatch/nosupport", test_every_call_answers_no_support);
    return g_test_run();
}
