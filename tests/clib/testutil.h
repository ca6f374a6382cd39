/*
 * Helpers shared by vrt's C unit tests (GLib's gtest), built only for them:
 * temporary roots, validation of emitted XML against libvirt's schemas, the
 * simulated SR-IOV host (tests/hostsim), and the one rule for a missing
 * prerequisite. A test file that needs one of these uses this library
 * instead of its own copy.
 *
 * Missing prerequisites (a program such as virt-xml-validate or QEMU, root,
 * /dev/fuse, python3-fusepy): a developer's run skips the check and says
 * what is missing; a CI run (CI set to anything but empty, 0, false or no)
 * fails it, because scripts/install-deps installs everything the tests need.
 * The Python tests follow the same rule (tests/lib/vrt_fixtures.py).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* True in a CI run (the environment variable CI says so). */
bool vrt_test_in_ci(void);

/* Inside a test: marks it skipped with the reason, or failed under CI.
 * The test goes on; return from it when the rest depends on the missing
 * piece. */
void vrt_test_missing(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Outside any test (in main, before g_test_run): prints the reason and
 * returns the exit status for the whole program, 77 (skipped, as meson's
 * exitcode protocol reads it) or, under CI, 1. A test run with --tap adds
 * one test that calls vrt_test_missing() instead. */
int vrt_test_missing_all(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* A new empty directory for a test's state; aborts the test if none can be
 * made. tmpl is a g_mkdtemp() template: a bare name ("vrt-net-XXXXXX") is
 * made under g_get_tmp_dir(), an absolute one where it says (for paths that
 * must stay short, such as a socket's). Free with g_free() after
 * vrt_test_remove_tree(). */
char *vrt_test_make_root(const char *tmpl);

/* Removes path and everything below it (symbolic links are removed, not
 * followed); a missing path is not an error. Never crosses into a mount:
 * a directory that is a mount point is left alone, with a message. */
void vrt_test_remove_tree(const char *path);

/* Asserts that xml validates against libvirt's schema `schema` ("domain",
 * "network", "networkport", "capability", "nodedev", ...) with Debian's
 * virt-xml-validate ($VRT_XML_VALIDATE, else found in PATH). what names the
 * XML in the failure message (NULL: the schema). Without the program the
 * check is a missing prerequisite (vrt_test_missing). */
void vrt_test_assert_validates(const char *xml, const char *schema, const char *what);

/* Why the simulated host (tests/hostsim) cannot run here, or NULL: it needs
 * root, /dev/fuse and python3-fusepy. Free the result with g_free(). */
char *vrt_test_hostsim_missing(void);

/* Runs `tests/hostsim/hostsim CMD ROOT ARGS...` (e.g. "show", "fault",
 * "addr"); its stdout in *out when out is not NULL. False, with the
 * command's stderr in error, when it fails. */
bool vrt_test_hostsim_run(const char *const *args, char **out, GError **error);

/* Starts the simulated host under a new temporary root (pfs PFs ens1f<p>
 * with vfs VFs each) and returns the root, or NULL with error set. Check
 * vrt_test_hostsim_missing() first. */
char *vrt_test_hostsim_start(guint pfs, guint vfs, GError **error);

/* Stops the simulated host (unmounts it) and removes its root. */
void vrt_test_hostsim_stop(const char *root);
