/*
 * What the vrt command's files share: the invocation state (URI, read-only,
 * JSON), the command table type, and helpers for connecting, reporting
 * errors, parsing a command's options and printing tables and JSON.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include "vrt.h"

enum {
    VRT_EXIT_OK = 0,
    VRT_EXIT_ERROR = 1, /* the operation failed */
    VRT_EXIT_USAGE = 2, /* bad command line */
};

typedef struct {
    const char *uri; /* NULL: $VRT_DEFAULT_URI or qemu:///system */
    bool readonly;
    bool json;
    vrt_conn *conn; /* opened on first use, closed by main */
} VrtCli;

/* An option a command accepts: "--name" or "--name VALUE" (also --name=VALUE). */
typedef struct {
    const char *name;
    bool has_value;
} VrtOpt;

/* A parsed command line: positional arguments and the options given, and
 * what the command's table row says it works on, found before it runs. */
typedef struct {
    char **pos; /* borrowed from argv */
    int npos;
    GHashTable *opts; /* option name -> value ("" for flags) */
    vrt_conn *conn; /* VRT_ON_CONN and the objects: the connection (cli's) */
    vrt_domain *dom; /* VRT_ON_DOMAIN: named by pos[0] */
    vrt_network *net; /* VRT_ON_NETWORK: named by pos[0] */
    vrt_nodedev *dev; /* VRT_ON_NODEDEV: named by pos[0] */
    char *xml; /* with file: the contents of the last positional argument */
} VrtArgs;

/* What a command works on. For all but VRT_ON_NONE the dispatcher checks
 * that there are nargs positional arguments, reads the file (a usage error
 * or a missing file is reported without a daemon), connects and looks up
 * the object, in that order, printing why any of them fails. */
typedef enum {
    VRT_ON_NONE, /* the command checks its arguments and connects itself */
    VRT_ON_CONN,
    VRT_ON_DOMAIN, /* by id, UUID or name, as virsh names it */
    VRT_ON_NETWORK,
    VRT_ON_NODEDEV,
} VrtCmdOn;

typedef struct VrtCmd VrtCmd;
typedef int (*VrtCmdFunc)(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args);

struct VrtCmd {
    const char *name;
    VrtCmdFunc func;
    const char *usage; /* arguments after the name, e.g. "NAME [--reason]" */
    const char *help;
    const VrtOpt *opts; /* terminated by { NULL }; NULL when none */
    VrtCmdOn on;
    int nargs; /* positional arguments, with on != VRT_ON_NONE */
    bool file; /* the last of them is a file of XML, read into args->xml */
};

/* Defines command fn as impl(cli, cmd, args, variant): for the commands that
 * are one shared operation with a fixed choice (start/destroy/...). */
#define VRT_CLI_CMD_VARIANT(fn, impl, variant)                   \
    static int fn(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args) \
    {                                                            \
        return impl(cli, cmd, args, variant);                    \
    }

bool vrt_cli_flag(VrtArgs *args, const char *name);
/* The value of an option, or NULL when it was not given. */
const char *vrt_cli_value(VrtArgs *args, const char *name);

extern const VrtCmd vrt_cmds_host[];
extern const VrtCmd vrt_cmds_domain[];
extern const VrtCmd vrt_cmds_domain_live[];
extern const VrtCmd vrt_cmds_agent[];
extern const VrtCmd vrt_cmds_network[];
extern const VrtCmd vrt_cmds_nodedev[];
extern const VrtCmd vrt_cmds_storage[];
extern const VrtCmd vrt_cmds_stream[];
extern const VrtCmd vrt_cmds_secret[];
extern const VrtCmd vrt_cmds_admin[];
extern const VrtCmd vrt_cmds_migrate[];

/* The connection, opened on first use; NULL after printing the error. */
vrt_conn *vrt_cli_conn(VrtCli *cli);
/* Prints "error: <message>" and frees err; returns VRT_EXIT_ERROR. */
int vrt_cli_fail(vrt_error *err);
/* Prints "error: <formatted>"; returns VRT_EXIT_ERROR. */
int vrt_cli_failf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* Prints the command's usage line on stderr; returns VRT_EXIT_USAGE. */
int vrt_cli_usage(const VrtCmd *cmd, const char *why);
/* Checks the number of positional arguments. */
bool vrt_cli_nargs(const VrtCmd *cmd, int nargs, int min, int max, int *rc);
/* Reads a whole file for define/attach commands; NULL after printing why. */
char *vrt_cli_read_file(const char *path);

/* Prints a JSON node (consumed) and a newline. */
void vrt_cli_print_json(JsonNode *node);
/* Prints the builder's root (a finished object or array) as vrt_cli_print_json does. */
void vrt_cli_print_builder(JsonBuilder *b);
/* Object members: a string, an integer, a boolean, and an id that is null when negative. */
void vrt_cli_json_str(JsonBuilder *b, const char *key, const char *v);
void vrt_cli_json_int(JsonBuilder *b, const char *key, gint64 v);
void vrt_cli_json_bool(JsonBuilder *b, const char *key, bool v);
void vrt_cli_json_id(JsonBuilder *b, const char *key, int id);
/* Prints text (XML) as the daemon sent it, with a newline unless it ends in one. */
void vrt_cli_print_text(const char *text);
/* The end of a dumpxml command: prints the XML a call returned and frees it,
 * or, when it is NULL, the call's error; returns the exit code. */
int vrt_cli_print_xml(char *xml, vrt_error **err);
/* A table as virsh prints it: header, dashes, rows; cols columns per row. */
void vrt_cli_print_table(const char *const *header, GPtrArray *rows, guint cols);
/* A list command's result: with --json the builder's array, else the table. */
void vrt_cli_print_list(VrtCli *cli, JsonBuilder *b, const char *const *header, GPtrArray *rows, guint cols);

/* A list command's output while it is built: the table's rows and, begun
 * as an array, the JSON of --json (one object or value per item). */
typedef struct {
    GPtrArray *rows; /* char** (NULL-terminated cells) */
    JsonBuilder *json;
} VrtCliList;
void vrt_cli_list_init(VrtCliList *list);
/* Adds a table row: its cells, then NULL. */
void vrt_cli_list_row(VrtCliList *list, const char *cell, ...) G_GNUC_NULL_TERMINATED;
/* Prints the list (the table under header, or the JSON array) and frees it. */
void vrt_cli_list_print(VrtCli *cli, VrtCliList *list, const char *const *header, guint cols);
/* The list flags of --all (none), --inactive or neither (active). */
unsigned int vrt_cli_list_flags(VrtArgs *args, unsigned int active, unsigned int inactive);
/* Frees the error of a call whose failure is not reported (an object gone
 * between a list and a query of it, a call an old daemon lacks). */
void vrt_cli_forget(vrt_error **err);
/* The end of a command that changes something: the error when r < 0, else
 * the formatted line and a blank one as virsh prints them; the exit code. */
int vrt_cli_done(int r, vrt_error *err, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* A domain named by id, UUID or name (as virsh does); NULL after printing why. */
vrt_domain *vrt_cli_domain(VrtCli *cli, const char *what);
int vrt_cli_cmd_event(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(vrt_domain, vrt_domain_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vrt_network, vrt_network_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vrt_nodedev, vrt_nodedev_free)

/* Formats libvirt's version number major*1000000+minor*1000+micro. */
char *vrt_cli_version_string(unsigned long long v);
