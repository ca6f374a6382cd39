#!/usr/bin/env python3
"""Generate vrt's procedure table, vrtd's dispatch table and libvrt's stubs from
the programs' procedure files (remote_procs.tsv, qemu_procs.tsv).

Usage: gen_procs.py table|dispatch|stubs TSV [TSV...] OUTDIR

Each TSV is one RPC program: its first line that is not a comment names it
("@program NAME NUMBER VERSION"), the others are its procedures. A program
is data: the table is keyed by (program, version, procedure), the server
looks calls up there, and a program other than "remote" prefixes its enum
and handler names with its name (VRT_PROC_QEMU_..., vrt_handle_qemu_...).

  table     vrt_procs.h/.c, the table both sides share (protocol/): numbers,
            XDR filters, access, priority, error origin, and the flags each
            procedure accepts (remote_flags.tsv, beside TSV, checked against
            the args types of vrt_remote.x).
  dispatch  remote_dispatch.h/.c, vrtd's side (daemon/): one typed handler
            prototype per procedure vrtd serves and vrt_daemon_dispatch(), which
            calls them directly (no weak symbols: a missing or misspelled
            handler fails the link) and answers VIR_ERR_NO_SUPPORT for those
            the table marks nosupport.
  stubs     vrt_client_stubs.h/.c, libvrt's side (client/): one typed call per
            procedure of the remote program (libvrt speaks no other).

load() is also what gen_fuzz.py reads the table with.
"""
import os
import re
import sys

ORIGIN = {"connect": "VIR_FROM_REMOTE", "domain": "VIR_FROM_QEMU",
          "network": "VIR_FROM_NETWORK", "nodedev": "VIR_FROM_NODEDEV",
          "secret": "VIR_FROM_SECRET", "snapshot": "VIR_FROM_QEMU"}
# Their numbers in libvirt's virErrorDomain (fixed by its ABI). The table
# carries them as VRT_PROC_FROM_* so the protocol layer needs nothing of
# src/util/; src/rpc/server.c checks each against util/error.h.
ORIGIN_NUM = {"VIR_FROM_QEMU": 10, "VIR_FROM_REMOTE": 13, "VIR_FROM_NETWORK": 19, "VIR_FROM_DOMAIN": 20,
              "VIR_FROM_NODEDEV": 22,
              "VIR_FROM_SECRET": 30,
              "VIR_FROM_DOMAIN_SNAPSHOT": 35}
# The origin of a read-only refusal: libvirt's public API refuses the call
# (virCheckReadOnlyGoto, and "with secure flag") before any driver, with the
# VIR_FROM_THIS of its file: libvirt-domain.c and libvirt-host.c (the
# connect family's calls) VIR_FROM_DOMAIN, libvirt-network.c
# VIR_FROM_NETWORK, libvirt-nodedev.c VIR_FROM_NODEDEV, libvirt-secret.c
# VIR_FROM_SECRET, libvirt-domain-snapshot.c VIR_FROM_DOMAIN_SNAPSHOT (the
# snapshot family's driver errors are the QEMU driver's, VIR_FROM_QEMU).
RO_ORIGIN = {"connect": "VIR_FROM_DOMAIN", "domain": "VIR_FROM_DOMAIN",
             "network": "VIR_FROM_NETWORK", "nodedev": "VIR_FROM_NODEDEV"}
# Storage pools and volumes: libvirt's storage driver and libvirt-storage.c
# both report VIR_FROM_STORAGE.
ORIGIN["storage"] = RO_ORIGIN["storage"] = "VIR_FROM_STORAGE"
ORIGIN_NUM["VIR_FROM_STORAGE"] = 18

# Host interfaces (libvirt-interface.c, the udev backend) and network
# filters (libvirt-nwfilter.c, the nwfilter driver): VIR_FROM_INTERFACE and
# VIR_FROM_NWFILTER for their errors and read-only refusals alike.
ORIGIN.update({"interface": "VIR_FROM_INTERFACE", "nwfilter": "VIR_FROM_NWFILTER"})
ORIGIN_NUM.update({"VIR_FROM_INTERFACE": 26, "VIR_FROM_NWFILTER": 33})
RO_ORIGIN.update({"interface": "VIR_FROM_INTERFACE", "nwfilter": "VIR_FROM_NWFILTER"})
RO_ORIGIN.update({"secret": "VIR_FROM_SECRET", "snapshot": "VIR_FROM_DOMAIN_SNAPSHOT"})

# The admin program (admin_procs.tsv): libvirt's admin server reports
# VIR_FROM_ADMIN for its errors; it has no read-only connections.
ORIGIN["admin"] = RO_ORIGIN["admin"] = "VIR_FROM_ADMIN"
ORIGIN_NUM["VIR_FROM_ADMIN"] = 62


def origin_macro(family, table=ORIGIN):
    return "VRT_PROC_" + table[family][len("VIR_"):]


# Words libvirt's API names keep in capitals (virDomainGetXMLDesc).
API_UPPER = {"XML", "UUID", "ID", "URI", "CPU"}


def api_name(proc):
    """libvirt's API name of a procedure: DOMAIN_GET_XML_DESC -> virDomainGetXMLDesc."""
    return "vir" + "".join(w if w in API_UPPER else w.capitalize() for w in proc.split("_"))


def parse_access(text):
    """(readonly_ok, refused flags, they reveal secrets) of an access column:
    ro, rw, ro:secret=MASK or ro:write=MASK (see remote_procs.tsv)."""
    if text in ("ro", "rw"):
        return text == "ro", 0, False
    if text.startswith("ro:") and "=" in text:
        kind, mask = text[3:].split("=", 1)
        if kind in ("secret", "write"):
            return True, int(mask, 0), kind == "secret"
    raise ValueError(text)


def load_one(path):
    procs = []
    prog = None
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if prog is None:
                if len(cols) != 4 or cols[0] != "@program":
                    sys.exit(f"{path}:{lineno}: expected '@program NAME NUMBER VERSION' first")
                prog = dict(pname=cols[1], prog=int(cols[2], 0), vers=int(cols[3], 0),
                            prefix="" if cols[1] == "remote" else cols[1].upper() + "_")
                continue
            if len(cols) == 8:
                cols.append("-")
            if len(cols) != 9:
                sys.exit(f"{path}:{lineno}: expected 8 or 9 tab-separated columns, got {len(cols)}")
            num, name, args, ret, access, prio, family, server, api = cols
            try:
                ro, ro_flags, ro_secret = parse_access(access)
            except ValueError:
                sys.exit(f"{path}:{lineno}: bad access '{access}'")
            if prio not in ("high", "low") or family not in ORIGIN:
                sys.exit(f"{path}:{lineno}: bad priority/family")
            if server not in (("-",) if ret == "msg" else ("vrtd", "nosupport")):
                sys.exit(f"{path}:{lineno}: bad server '{server}' (vrtd or nosupport; - for an event)")
            if ro_flags and args == "-":
                sys.exit(f"{path}:{lineno}: refused flags on a procedure without arguments")
            name = prog["prefix"] + name
            procs.append(dict(prog, num=int(num), name=name, lname=name.lower(),
                              args=None if args == "-" else args,
                              ret=None if ret in ("-", "msg") else ret,
                              msg=(ret == "msg"), ro=ro, ro_flags=ro_flags, ro_secret=ro_secret,
                              high=(prio == "high"), family=family,
                              api=api_name(name) if api == "-" else api,
                              served=(server == "vrtd")))
    if prog is None:
        sys.exit(f"{path}: no '@program' line")
    procs.sort(key=lambda p: p["num"])
    nums = [p["num"] for p in procs]
    if len(set(nums)) != len(nums):
        sys.exit(f"{path}: duplicate procedure number")
    return procs


def load(*paths):
    """The procedures of every program given, ordered by (program, version,
    number): the order of the shared table, which lookups bisect."""
    procs = [p for path in paths for p in load_one(path)]
    procs.sort(key=lambda p: (p["prog"], p["vers"], p["num"]))
    return procs


def args_with_flags(x_path):
    """The struct types of vrt_remote.x that have a member `flags`."""
    with open(x_path) as f:
        text = f.read()
    return {m.group(1) for m in re.finditer(r"struct\s+(\w+)\s*\{(.*?)\};", text, re.S)
            if re.search(r"\bflags\s*;", m.group(2))}


def load_flags(procs, path, x_path):
    """Adds each procedure's accepted flags (remote_flags.tsv) to procs: mask
    (None: any) and func; exits naming a served procedure with flags but no
    line, or a line for a procedure that is not served or has no flags."""
    with_flags = args_with_flags(x_path)
    by_name = {p["name"]: p for p in procs if p["pname"] == "remote"}
    seen = set()
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 3:
                sys.exit(f"{path}:{lineno}: expected 3 tab-separated columns, got {len(cols)}")
            name, mask, func = cols
            p = by_name.get(name)
            if not p or not p["served"] or p["args"] not in with_flags:
                sys.exit(f"{path}:{lineno}: {name} is not a served procedure with flags")
            if name in seen:
                sys.exit(f"{path}:{lineno}: {name} listed twice")
            seen.add(name)
            try:
                p["flags_mask"] = None if mask == "any" else int(mask, 0)
            except ValueError:
                sys.exit(f"{path}:{lineno}: bad mask '{mask}'")
            p["flags_func"] = func
    for p in procs:
        if p["served"] and p["args"] in with_flags and p["name"] not in seen:
            sys.exit(f"{path}: {p['name']} has flags: add the ones libvirt accepts "
                     "(its driver's virCheckFlags) as a line here")


def load_acl(procs, path, pname):
    """Adds each procedure's permission checks (remote_acl.tsv, qemu_acl.tsv:
    libvirt's @acl and @aclfilter) to the procedures of program pname; exits
    naming a served procedure without a line."""
    by_name = {p["name"]: p for p in procs if p["pname"] == pname}
    prefix = "" if pname == "remote" else pname.upper() + "_"
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != 3:
                sys.exit(f"{path}:{lineno}: expected 3 tab-separated columns, got {len(cols)}")
            p = by_name.get(prefix + cols[0])
            if not p:
                continue
            checks = []
            for c in ([] if cols[1] == "none" else cols[1].split()):
                bits = c.split(":")
                if len(bits) not in (2, 3, 5) or len(bits) == 5 and bits[2]:
                    sys.exit(f"{path}:{lineno}: bad check '{c}'")
                flags = bits[2] if len(bits) == 3 else ""
                checks.append(dict(obj=bits[0], perm=bits[1].replace("_", "-"),
                                   none=flags.startswith("!"), flags=int(flags.lstrip("!") or "0", 0),
                                   param=bits[3] if len(bits) == 5 else None,
                                   value=int(bits[4], 0) if len(bits) == 5 else 0))
            if len({c["obj"] for c in checks}) > 1:
                sys.exit(f"{path}:{lineno}: checks of different objects")
            p["acl"] = checks
            p["aclfilter"] = None if cols[2] == "-" else cols[2].split(":")
    for p in procs:
        if p["pname"] == pname and p["served"] and "acl" not in p:
            sys.exit(f"{path}: {p['name']} is served but has no permission: add libvirt's @acl as a line here")


def domain_args(here):
    """The args types whose member `dom` is a remote_nonnull_domain."""
    found = set()
    for x in ("vrt_remote.x", "vrt_qemu.x"):
        with open(os.path.join(here, x)) as f:
            text = f.read()
        found |= {m.group(1) for m in re.finditer(r"struct\s+(\w+)\s*\{(.*?)\};", text, re.S)
                  if re.search(r"\bremote_nonnull_domain\s+dom\s*;", m.group(2))}
    return found


def gen_acl(procs, here):
    """The header and C text of the permission table, parallel to procs."""
    h = ("/* A permission a call checks (libvirt's @acl): object and perm name\n"
         " * polkit's action org.libvirt.api.OBJECT.PERM; applied when flags is 0, when\n"
         " * all of flags are set in the args' flags (none: when none is), or when\n"
         " * the args' member at param_offset is param_value. */\n"
         "typedef struct {\n    const char *object;\n    const char *perm;\n    unsigned int flags;\n"
         "    bool flags_none;\n    bool has_param;\n    size_t param_offset;\n    int param_value;\n"
         "} VrtProcAclCheck;\n\n"
         "typedef struct {\n    const VrtProcAclCheck *checks;\n    unsigned int n_checks;\n"
         "    const char *filter_object; /* @aclfilter: each listed object's (NULL: none) */\n"
         "    const char *filter_perm;\n    size_t flags_offset; /* of the args' flags, when a check reads them */\n"
         "    bool has_dom; /* the args name the domain checked (member dom) */\n    size_t dom_offset;\n"
         "} VrtProcAcl;\n\n"
         "/* info's permission checks. */\nconst VrtProcAcl *vrt_proc_acl(const VrtProcInfo *info);\n"
         "/* Whether check applies to a call with args. */\n"
         "bool vrt_proc_acl_applies(const VrtProcAcl *acl, const VrtProcAclCheck *check, const void *args);\n")
    c = []
    rows = []
    with_dom = domain_args(here)
    for i, p in enumerate(procs):
        checks = p.get("acl", [])
        if checks:
            c.append(f"static const VrtProcAclCheck acl_{i}[] = {{\n")
            for k in checks:
                off = f"offsetof({p['args']}, {k['param']})" if k["param"] else "0"
                c.append(f"    {{ \"{k['obj']}\", \"{k['perm']}\", {k['flags']:#x}, {str(k['none']).lower()}, "
                         f"{str(bool(k['param'])).lower()}, {off}, {k['value']} }},\n")
            c.append("};\n")
        f = p.get("aclfilter")
        fo = f"offsetof({p['args']}, flags)" if any(k["flags"] for k in checks) else "0"
        rows.append(f"    {{ {'acl_%d' % i if checks else 'NULL'}, {len(checks)}, "
                    f"{chr(34) + f[0] + chr(34) if f else 'NULL'}, "
                    f"{chr(34) + f[1].replace('_', '-') + chr(34) if f else 'NULL'}, {fo}, "
                    f"{str(p['args'] in with_dom).lower()}, "
                    f"{'offsetof(%s, dom)' % p['args'] if p['args'] in with_dom else '0'} }},\n")
    c.append("\nstatic const VrtProcAcl acls[] = {\n" + "".join(rows) + "};\n\n")
    c.append("const VrtProcAcl *\nvrt_proc_acl(const VrtProcInfo *info)\n{\n"
             "    return &acls[info - procs];\n}\n\n"
             "bool\nvrt_proc_acl_applies(const VrtProcAcl *acl, const VrtProcAclCheck *check, const void *args)\n{\n"
             "    if (check->has_param)\n"
             "        return args && *(const int *)((const char *)args + check->param_offset) == check->param_value;\n"
             "    if (!check->flags)\n        return true;\n"
             "    unsigned int flags = args ? *(const unsigned int *)((const char *)args + acl->flags_offset) : 0;\n"
             "    return check->flags_none ? (flags & check->flags) == 0 : (flags & check->flags) == check->flags;\n}\n")
    return h, "".join(c)


def xdr(t):
    return f"(xdrproc_t)xdr_{t}" if t else "(xdrproc_t)xdr_void"


def size(t):
    return f"sizeof({t})" if t else "0"


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def handler_params(p):
    params = ["VrtCall *call"]
    if p["args"]:
        params.append(f"{p['args']} *args")
    if p["ret"]:
        params.append(f"{p['ret']} *ret")
    params.append("GError **error")
    return ", ".join(params)


GEN = "/* Generated by protocol/gen_procs.py from the programs' .tsv files: do not edit. */\n"


def gen_table(procs, out, tsvs):
    here = os.path.dirname(tsvs[0])
    load_flags(procs, os.path.join(here, "remote_flags.tsv"), os.path.join(here, "vrt_remote.x"))
    for pname in sorted({p["pname"] for p in procs}):
        load_acl(procs, os.path.join(here, f"{pname}_acl.tsv"), pname)
    acl_h, acl_c = gen_acl(procs, here)
    h = [GEN, "#pragma once\n", "#include <glib.h>\n#include <stdbool.h>\n#include <stddef.h>\n#include \"vrt_remote.h\"\n#include \"vrt_qemu.h\"\n#include \"vrt_admin.h\"\n\n"]
    h.append("/* libvirt's VIR_FROM_* of each family's errors (see VrtProcInfo.origin). */\n")
    for name, num in ORIGIN_NUM.items():
        h.append(f"#define VRT_PROC_{name[len('VIR_'):]} {num}\n")
    h.append("\n")
    h.append("enum {\n")
    for p in procs:
        h.append(f"    VRT_PROC_{p['name']} = {p['num']},\n")
    h.append("};\n\n")
    h.append("typedef struct {\n"
             "    unsigned int prog; /* the RPC program (VRT_REMOTE_PROGRAM, VRT_QEMU_PROGRAM) */\n"
             "    unsigned int vers; /* its version */\n"
             "    int proc;\n    const char *name;\n"
             "    xdrproc_t args_filter;\n    size_t args_size;\n"
             "    xdrproc_t ret_filter;\n    size_t ret_size;\n"
             "    bool readonly_ok;  /* may be called on a read-only connection */\n"
             "    unsigned int ro_denied_flags; /* ...but not with these flags */\n"
             "    bool ro_denied_secret; /* they reveal secrets (else: they need write access) */\n"
             "    size_t flags_offset; /* of the args' flags member, when checked */\n"
             "    bool flags_checked; /* the args have flags, checked against supported_flags */\n"
             "    unsigned int supported_flags; /* the flags libvirt's driver accepts */\n"
             "    const char *flags_func; /* libvirt's function refusing the others, for messages */\n"
             "    const char *api;   /* libvirt's API name, for messages: virDomainGetXMLDesc */\n"
             "    bool high_priority; /* answered on the I/O thread */\n"
             "    bool is_message;   /* an event the server sends, never a call */\n"
             "    int origin;        /* VIR_FROM_* for errors of this procedure */\n"
             "    int ro_origin;     /* VIR_FROM_* of its read-only refusal (libvirt's public API) */\n"
             "} VrtProcInfo;\n\n")
    h.append("/* The entry for proc in program prog of version vers, or NULL. */\n"
             "const VrtProcInfo *vrt_proc_find(unsigned int prog, unsigned int vers, int proc);\n"
             "/* Whether vrt knows program prog of version vers. */\n"
             "bool vrt_proc_program_known(unsigned int prog, unsigned int vers);\n"
             "/* The entry for proc in the remote program, or NULL. */\n"
             "const VrtProcInfo *vrt_proc_lookup(int proc);\n"
             "/* Index of info in the table (for parallel tables). */\n"
             "size_t vrt_proc_index(const VrtProcInfo *info);\n"
             "/* Whether a read-only connection may make a call, as libvirt decides; the\n"
             " * caller words the refusal (VIR_ERR_OPERATION_DENIED, with info->api), so\n"
             " * the protocol layer needs no error code of its own. */\n"
             "typedef enum {\n"
             "    VRT_PROC_RO_ALLOWED = 0,\n"
             "    VRT_PROC_RO_DENIED_WRITE,  /* it needs write access: \"read only access prevents API\" */\n"
             "    VRT_PROC_RO_DENIED_SECRET, /* a flag reveals secrets: \"API with secure flag\" */\n"
             "} VrtProcRoVerdict;\n\n"
             "/* The verdict for info's call: denied when the procedure needs write\n"
             " * access and, when args (the decoded arguments) is given, when a flag of\n"
             " * them reveals secrets or needs write access. */\n"
             "VrtProcRoVerdict vrt_proc_readonly_verdict(const VrtProcInfo *info, const void *args);\n"
             "/* The bits of args' flags that info's procedure does not accept (0: none),\n"
             " * as libvirt's driver decides (remote_flags.tsv); the caller words the\n"
             " * refusal (VIR_ERR_INVALID_ARG, with info->flags_func). */\n"
             "unsigned int vrt_proc_unsupported_flags(const VrtProcInfo *info, const void *args);\n")
    h.append(acl_h)
    write(os.path.join(out, "vrt_procs.h"), "".join(h))

    c = [GEN, "#include \"vrt_procs.h\"\n#include <stddef.h>\n#include <stdlib.h>\n\n",
         "static const VrtProcInfo procs[] = {\n"]
    for p in procs:
        checked = p.get("flags_mask") is not None
        offset = f"offsetof({p['args']}, flags)" if p["ro_flags"] or checked else "0"
        func = f"\"{p['flags_func']}\"" if checked else "NULL"
        c.append(f"    {{ {p['prog']:#x}, {p['vers']}, {p['num']}, \"{p['name']}\", {xdr(p['args'])}, {size(p['args'])}, "
                 f"{xdr(p['ret'])}, {size(p['ret'])}, {str(p['ro']).lower()}, "
                 f"{p['ro_flags']:#x}, {str(p['ro_secret']).lower()}, {offset}, {str(checked).lower()}, "
                 f"{p.get('flags_mask') or 0:#x}, {func}, \"{p['api']}\", "
                 f"{str(p['high']).lower()}, {str(p['msg']).lower()}, {origin_macro(p['family'])}, "
                 f"{origin_macro(p['family'], RO_ORIGIN)} }},\n")
    c.append("};\n\n")
    c.append("static int\ncmp_proc(const void *key, const void *elem)\n{\n"
             "    const VrtProcInfo *k = key;\n    const VrtProcInfo *e = elem;\n"
             "    if (k->prog != e->prog)\n        return k->prog > e->prog ? 1 : -1;\n"
             "    if (k->vers != e->vers)\n        return k->vers > e->vers ? 1 : -1;\n"
             "    return (k->proc > e->proc) - (k->proc < e->proc);\n}\n\n"
             "const VrtProcInfo *\nvrt_proc_find(unsigned int prog, unsigned int vers, int proc)\n{\n"
             "    VrtProcInfo key = { .prog = prog, .vers = vers, .proc = proc };\n"
             "    return bsearch(&key, procs, G_N_ELEMENTS(procs), sizeof(procs[0]), cmp_proc);\n}\n\n"
             "bool\nvrt_proc_program_known(unsigned int prog, unsigned int vers)\n{\n"
             + "".join(f"    if (prog == {pv[0]:#x} && vers == {pv[1]})\n        return true;\n"
                       for pv in sorted({(p["prog"], p["vers"]) for p in procs}))
             + "    return false;\n}\n\n"
             "const VrtProcInfo *\nvrt_proc_lookup(int proc)\n{\n"
             "    return vrt_proc_find(VRT_REMOTE_PROGRAM, VRT_REMOTE_VERSION, proc);\n}\n\n"
             "size_t\nvrt_proc_index(const VrtProcInfo *info)\n{\n    return (size_t)(info - procs);\n}\n\n"
             "VrtProcRoVerdict\nvrt_proc_readonly_verdict(const VrtProcInfo *info, const void *args)\n{\n"
             "    if (!info->readonly_ok)\n        return VRT_PROC_RO_DENIED_WRITE;\n"
             "    if (!args || !info->ro_denied_flags)\n        return VRT_PROC_RO_ALLOWED;\n"
             "    unsigned int flags = *(const unsigned int *)((const char *)args + info->flags_offset);\n"
             "    if (!(flags & info->ro_denied_flags))\n        return VRT_PROC_RO_ALLOWED;\n"
             "    return info->ro_denied_secret ? VRT_PROC_RO_DENIED_SECRET : VRT_PROC_RO_DENIED_WRITE;\n}\n\n"
             "unsigned int\nvrt_proc_unsupported_flags(const VrtProcInfo *info, const void *args)\n{\n"
             "    if (!args || !info->flags_checked)\n        return 0;\n"
             "    unsigned int flags = *(const unsigned int *)((const char *)args + info->flags_offset);\n"
             "    return flags & ~info->supported_flags;\n}\n\n")
    c.append(acl_c)
    write(os.path.join(out, "vrt_procs.c"), "".join(c))


def gen_dispatch(procs, out):
    """vrtd's dispatch: a served procedure's entry calls its handler, declared
    here, so the compiler checks its signature and the linker that it exists."""
    dh = [GEN, "#pragma once\n", "#include <glib.h>\n#include \"rpc/server.h\"\n\n",
          "/* Runs the handler of info's procedure with the decoded arguments; false\n"
          " * with *error set when it failed or when vrtd does not serve it (nosupport\n"
          " * in its program's .tsv: VIR_ERR_NO_SUPPORT). The server's VrtDispatch. */\n",
          "bool vrt_daemon_dispatch(VrtCall *call, const VrtProcInfo *info, void *args, void *ret,\n"
          "                         GError **error);\n\n",
          "/* The handlers, one per procedure vrtd serves (daemon/remote_*.c). */\n"]
    for p in procs:
        if p["served"]:
            dh.append(f"bool vrt_handle_{p['lname']}({handler_params(p)});\n")
    write(os.path.join(out, "remote_dispatch.h"), "".join(dh))

    dc = [GEN, "#include \"remote_dispatch.h\"\n#include \"util/error.h\"\n\n",
          "typedef bool (*DispatchFunc)(VrtCall *call, void *args, void *ret, GError **error);\n\n"]
    for p in procs:
        if p["msg"]:
            continue
        n = p["lname"]
        dc.append(f"static bool\ndispatch_{n}(VrtCall *call, void *args, void *ret, GError **error)\n{{\n")
        if not p["served"]:
            dc.append("    (void)call;\n    (void)args;\n    (void)ret;\n"
                      f"    vrt_error_set(error, VIR_ERR_NO_SUPPORT, \"%s\", \"{p['api']}\");\n"
                      "    return false;\n}\n\n")
            continue
        call_args = ["call"] + (["args"] if p["args"] else []) + (["ret"] if p["ret"] else []) + ["error"]
        if not p["args"]:
            dc.append("    (void)args;\n")
        if not p["ret"]:
            dc.append("    (void)ret;\n")
        dc.append(f"    return vrt_handle_{n}({', '.join(call_args)});\n}}\n\n")
    dc.append("/* In the order of the shared table (vrt_proc_index); NULL for an event. */\n"
              "static const DispatchFunc funcs[] = {\n")
    for p in procs:
        dc.append(f"    {'NULL' if p['msg'] else 'dispatch_' + p['lname']},\n")
    dc.append("};\n\nbool\nvrt_daemon_dispatch(VrtCall *call, const VrtProcInfo *info, void *args, void *ret, "
              "GError **error)\n{\n"
              "    G_STATIC_ASSERT(G_N_ELEMENTS(funcs) == " + str(len(procs)) + ");\n"
              "    DispatchFunc func = funcs[vrt_proc_index(info)];\n"
              "    if (!func) {\n"
              "        vrt_error_set(error, VIR_ERR_NO_SUPPORT, \"%s is an event, not a call\", info->name);\n"
              "        return false;\n    }\n"
              "    return func(call, args, ret, error);\n}\n")
    write(os.path.join(out, "remote_dispatch.c"), "".join(dc))


def gen_stubs(procs, out):
    ch = [GEN, "#pragma once\n", "#include <glib.h>\n#include \"vrt_procs.h\"\n#include \"rpc/client.h\"\n\n"]
    cc = [GEN, "#include \"vrt_client_stubs.h\"\n\n"]
    for p in procs:
        if p["msg"] or p["pname"] != "remote":
            continue
        params = ["VrtRpcClient *client"]
        if p["args"]:
            params.append(f"{p['args']} *args")
        if p["ret"]:
            params.append(f"{p['ret']} *ret")
        params.append("GError **error")
        sig = f"bool vrt_call_{p['lname']}({', '.join(params)})"
        ch.append(sig + ";\n")
        a = "args" if p["args"] else "NULL"
        r = "ret" if p["ret"] else "NULL"
        cc.append(sig.replace("bool ", "bool\n", 1) + "\n{\n"
                  f"    return vrt_rpc_client_call(client, VRT_PROC_{p['name']}, {xdr(p['args'])}, {a},\n"
                  f"                               {xdr(p['ret'])}, {r}, error);\n}}\n\n")
    write(os.path.join(out, "vrt_client_stubs.h"), "".join(ch))
    write(os.path.join(out, "vrt_client_stubs.c"), "".join(cc))


def main():
    gens = {"table": gen_table, "dispatch": gen_dispatch, "stubs": gen_stubs}
    if len(sys.argv) < 4 or sys.argv[1] not in gens:
        sys.exit("usage: gen_procs.py table|dispatch|stubs TSV [TSV...] OUTDIR")
    procs = load(*sys.argv[2:-1])
    if sys.argv[1] == "table":
        gen_table(procs, sys.argv[-1], sys.argv[2:-1])
    else:
        gens[sys.argv[1]](procs, sys.argv[-1])


if __name__ == "__main__":
    main()
