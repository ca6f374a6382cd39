/*
 * vrt's secret, save/restore and snapshot commands, with virsh's names and
 * messages: secret-define/-undefine/-dumpxml/-set-value/-get-value/-list,
 * save, restore, managedsave, managedsave-remove, snapshot-create-as,
 * snapshot-list, snapshot-dumpxml, snapshot-current, snapshot-revert,
 * snapshot-delete.
 */
#include "vrt-cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- secrets ---- */

static int
cmd_secret_define(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    g_autofree char *uuid = vrt_secret_define_xml(args->conn, args->xml, 0, &err);
    return vrt_cli_done(uuid ? 0 : -1, err, "Secret %s created", uuid);
}

static int
cmd_secret_undefine(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    return vrt_cli_done(vrt_secret_undefine(args->conn, args->pos[0], &err), err, "Secret %s deleted", args->pos[0]);
}

static int
cmd_secret_dumpxml(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    return vrt_cli_print_xml(vrt_secret_get_xml_desc(args->conn, args->pos[0], 0, &err), &err);
}

static int
cmd_secret_set_value(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    gsize len = 0;
    /* virsh takes the value in base64, as secret-get-value prints it. */
    g_autofree guchar *raw = g_base64_decode(args->pos[1], &len);
    return vrt_cli_done(vrt_secret_set_value(args->conn, args->pos[0], raw, len, 0, &err), err, "Secret value set");
}

static int
cmd_secret_get_value(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    size_t len = 0;
    g_autofree unsigned char *raw = vrt_secret_get_value(args->conn, args->pos[0], &len, 0, &err);
    if (!raw)
        return vrt_cli_fail(err);
    g_autofree char *b64 = g_base64_encode(raw, len);
    printf("%s\n", b64);
    return VRT_EXIT_OK;
}

static int
cmd_secret_list(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    unsigned int flags = (vrt_cli_flag(args, "ephemeral") ? 1u : 0) | (vrt_cli_flag(args, "no-ephemeral") ? 2u : 0) |
                         (vrt_cli_flag(args, "private") ? 4u : 0) | (vrt_cli_flag(args, "no-private") ? 8u : 0);
    char **uuids = vrt_conn_list_secrets(args->conn, flags, &err);
    if (!uuids)
        return vrt_cli_fail(err);
    VrtCliList list;
    vrt_cli_list_init(&list);
    for (char **u = uuids; *u; u++) {
        vrt_cli_list_row(&list, *u, NULL);
        json_builder_add_string_value(list.json, *u);
    }
    vrt_string_list_free(uuids);
    static const char *const header[] = { "UUID", NULL };
    vrt_cli_list_print(cli, &list, header, 1);
    return VRT_EXIT_OK;
}

/* ---- save, restore, managed save ---- */

static unsigned int
save_flags(VrtArgs *args)
{
    return (vrt_cli_flag(args, "bypass-cache") ? 1u : 0) | (vrt_cli_flag(args, "running") ? 2u : 0) |
           (vrt_cli_flag(args, "paused") ? 4u : 0);
}

static int
cmd_save(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    return vrt_cli_done(vrt_domain_save(args->dom, args->pos[1], NULL, save_flags(args), &err), err,
                        "Domain '%s' saved to %s", vrt_domain_get_name(args->dom), args->pos[1]);
}

static int
cmd_restore(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    return vrt_cli_done(vrt_conn_restore(args->conn, args->pos[0], NULL, save_flags(args), &err), err,
                        "Domain restored from %s", args->pos[0]);
}

static int
cmd_managedsave(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    return vrt_cli_done(vrt_domain_managed_save(args->dom, save_flags(args), &err), err,
                        "Domain '%s' state saved by libvirt", vrt_domain_get_name(args->dom));
}

static int
cmd_managedsave_remove(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    int has = vrt_domain_has_managed_save(args->dom, &err);
    if (has < 0)
        return vrt_cli_fail(err);
    if (!has)
        return vrt_cli_done(0, NULL, "Domain '%s' has no manage save image; removal skipped",
                            vrt_domain_get_name(args->dom));
    return vrt_cli_done(vrt_domain_managed_save_remove(args->dom, &err), err,
                        "Removed managedsave image for domain '%s'", vrt_domain_get_name(args->dom));
}

/* ---- snapshots ---- */

static int
cmd_snapshot_create_as(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    g_autofree char *name = g_markup_escape_text(args->pos[1], -1);
    const char *desc = vrt_cli_value(args, "description");
    g_autofree char *edesc = desc ? g_markup_escape_text(desc, -1) : NULL;
    g_autofree char *xml =
        g_strdup_printf("<domainsnapshot><name>%s</name>%s%s%s</domainsnapshot>", name, edesc ? "<description>" : "",
                        edesc ? edesc : "", edesc ? "</description>" : "");
    g_autofree char *made = vrt_domain_snapshot_create_xml(args->dom, xml, 0, &err);
    return vrt_cli_done(made ? 0 : -1, err, "Domain snapshot %s created", made);
}

static int
cmd_snapshot_list(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    char **names = vrt_domain_snapshot_list(args->dom, 0, &err);
    if (!names)
        return vrt_cli_fail(err);
    g_autofree char *current = vrt_domain_snapshot_current(args->dom, NULL);
    VrtCliList list;
    vrt_cli_list_init(&list);
    for (char **n = names; *n; n++) {
        bool cur = current && strcmp(current, *n) == 0;
        vrt_cli_list_row(&list, *n, cur ? "yes" : "no", NULL);
        json_builder_begin_object(list.json);
        vrt_cli_json_str(list.json, "name", *n);
        vrt_cli_json_bool(list.json, "current", cur);
        json_builder_end_object(list.json);
    }
    vrt_string_list_free(names);
    static const char *const header[] = { "Name", "Current", NULL };
    vrt_cli_list_print(cli, &list, header, 2);
    return VRT_EXIT_OK;
}

static int
cmd_snapshot_dumpxml(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    return vrt_cli_print_xml(vrt_domain_snapshot_get_xml_desc(args->dom, args->pos[1], 0, &err), &err);
}

static int
cmd_snapshot_current(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    g_autofree char *name = vrt_domain_snapshot_current(args->dom, &err);
    if (!name)
        return vrt_cli_fail(err);
    printf("%s\n", name);
    return VRT_EXIT_OK;
}

static int
cmd_snapshot_revert(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    unsigned int flags = (vrt_cli_flag(args, "running") ? 1u : 0) | (vrt_cli_flag(args, "paused") ? 2u : 0);
    int r = vrt_domain_snapshot_revert(args->dom, args->pos[1], flags, &err);
    if (r < 0)
        return vrt_cli_fail(err);
    return VRT_EXIT_OK;
}

static int
cmd_snapshot_delete(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    vrt_error *err = NULL;
    unsigned int flags = (vrt_cli_flag(args, "children") ? 1u : 0) | (vrt_cli_flag(args, "metadata") ? 2u : 0) |
                         (vrt_cli_flag(args, "children-only") ? 4u : 0);
    return vrt_cli_done(vrt_domain_snapshot_delete(args->dom, args->pos[1], flags, &err), err,
                        "Domain snapshot %s deleted", args->pos[1]);
}

static const VrtOpt secret_list_opts[] = {
    { "ephemeral", false }, { "no-ephemeral", false }, { "private", false }, { "no-private", false }, { NULL, false },
};
static const VrtOpt save_opts[] = {
    { "bypass-cache", false },
    { "running", false },
    { "paused", false },
    { NULL, false },
};
static const VrtOpt snap_create_opts[] = { { "description", true }, { NULL, false } };
static const VrtOpt revert_opts[] = { { "running", false }, { "paused", false }, { NULL, false } };
static const VrtOpt delete_opts[] = {
    { "children", false },
    { "metadata", false },
    { "children-only", false },
    { NULL, false },
};

const VrtCmd vrt_cmds_secret[] = {
    { "secret-define", cmd_secret_define, "FILE", "define a secret from an XML file", NULL, VRT_ON_CONN, 1, true },
    { "secret-undefine", cmd_secret_undefine, "UUID", "remove a secret", NULL, VRT_ON_CONN, 1, false },
    { "secret-dumpxml", cmd_secret_dumpxml, "UUID", "a secret's XML", NULL, VRT_ON_CONN, 1, false },
    { "secret-set-value", cmd_secret_set_value, "UUID BASE64", "set a secret's value", NULL, VRT_ON_CONN, 2, false },
    { "secret-get-value", cmd_secret_get_value, "UUID", "a secret's value, in base64", NULL, VRT_ON_CONN, 1, false },
    { "secret-list", cmd_secret_list, "[--ephemeral] [--no-ephemeral] [--private] [--no-private]", "list secrets",
      secret_list_opts, VRT_ON_CONN, 0, false },
    { "save", cmd_save, "DOMAIN FILE [--running|--paused]", "save a running domain's state to a file", save_opts,
      VRT_ON_DOMAIN, 2, false },
    { "restore", cmd_restore, "FILE [--running|--paused]", "start a domain from a saved state file", save_opts,
      VRT_ON_CONN, 1, false },
    { "managedsave", cmd_managedsave, "DOMAIN [--running|--paused]", "save a domain's state for its next start",
      save_opts, VRT_ON_DOMAIN, 1, false },
    { "managedsave-remove", cmd_managedsave_remove, "DOMAIN", "remove a domain's managed save image", NULL,
      VRT_ON_DOMAIN, 1, false },
    { "snapshot-create-as", cmd_snapshot_create_as, "DOMAIN NAME [--description TEXT]", "take a snapshot",
      snap_create_opts, VRT_ON_DOMAIN, 2, false },
    { "snapshot-list", cmd_snapshot_list, "DOMAIN", "list a domain's snapshots, parents first", NULL, VRT_ON_DOMAIN, 1,
      false },
    { "snapshot-dumpxml", cmd_snapshot_dumpxml, "DOMAIN NAME", "a snapshot's XML", NULL, VRT_ON_DOMAIN, 2, false },
    { "snapshot-current", cmd_snapshot_current, "DOMAIN", "the domain's current snapshot", NULL, VRT_ON_DOMAIN, 1,
      false },
    { "snapshot-revert", cmd_snapshot_revert, "DOMAIN NAME [--running|--paused]", "revert to a snapshot", revert_opts,
      VRT_ON_DOMAIN, 2, false },
    { "snapshot-delete", cmd_snapshot_delete, "DOMAIN NAME [--children] [--metadata] [--children-only]",
      "delete a snapshot", delete_opts, VRT_ON_DOMAIN, 2, false },
    { NULL, NULL, NULL, NULL, NULL, VRT_ON_NONE },
};
