"""`meson install` as a packager runs it: a build configured with --prefix=/usr
installed into a staging directory (DESTDIR). Checks that the binaries, the
library, its header and pkg-config file, the man pages and the systemd units
land where a Debian package expects them; that a program builds against the
staged header and library through pkg-config; that each man page renders
without a warning; that systemd-analyze verify accepts the staged units; and
that the man pages keep up with the code: every setting daemon/config.c
accepts is in vrtd.conf(5) with its default, every vrtd option in vrtd(8),
every vrt command and option in vrt(1).

The install build lives in <build>/install-test (VRT_INSTALL_BUILD overrides
it), so a second run only rebuilds what changed."""
import os
import re
import shutil
import subprocess
import textwrap

import pytest

from vrt_fixtures import BUILD, SRC, needs, require

INSTALL_BUILD = os.environ.get("VRT_INSTALL_BUILD", os.path.join(BUILD, "install-test"))
UNITS = ("vrtd.service", "vrtd.socket", "vrtd-ro.socket", "vrtd-tcp.socket", "vrtd-tls.socket")
MAN_PAGES = ("man1/vrt.1", "man5/vrtd.conf.5", "man8/vrtd.8")


def run(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(args, **kw)


def meson_option(name):
    out = run(["meson", "introspect", "--buildoptions", INSTALL_BUILD], check=True).stdout
    import json
    for opt in json.loads(out):
        if opt["name"] == name:
            return opt["value"]
    raise AssertionError(f"meson has no option {name}")


@pytest.fixture(scope="module")
def staging(tmp_path_factory):
    """The tree `meson install --destdir` made; its paths are those under /."""
    require(shutil.which("meson"), "meson is not installed")
    if not os.path.exists(os.path.join(INSTALL_BUILD, "build.ninja")):
        p = run(["meson", "setup", "--prefix=/usr", "--buildtype=plain", INSTALL_BUILD, SRC])
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert meson_option("prefix") == "/usr", f"{INSTALL_BUILD} is not configured with --prefix=/usr"
    dest = str(tmp_path_factory.mktemp("staging"))
    p = run(["meson", "install", "-C", INSTALL_BUILD, "--destdir", dest])
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return dest


@pytest.fixture(scope="module")
def libdir(staging):
    # Debian's multiarch directory (lib/x86_64-linux-gnu), as meson picks it for /usr.
    d = meson_option("libdir")
    d = d if os.path.isabs(d) else os.path.join("/usr", d)
    assert d.startswith("/usr/lib"), d
    return d


def staged(staging, path):
    return os.path.join(staging, path.lstrip("/"))


def lib_env(staging, libdir):
    return dict(os.environ, LD_LIBRARY_PATH=staged(staging, libdir))


def test_files_land_where_a_packager_expects(staging, libdir):
    for exe in ("/usr/sbin/vrtd", "/usr/bin/vrt"):
        assert os.access(staged(staging, exe), os.X_OK), f"{exe} is not installed"
    assert os.path.isfile(staged(staging, "/usr/include/vrt.h"))
    # The development link, the soname link, the real file.
    so = staged(staging, f"{libdir}/libvrt.so")
    assert os.readlink(so) == "libvrt.so.0"
    assert os.path.isfile(os.path.realpath(so))
    assert os.path.isfile(staged(staging, f"{libdir}/pkgconfig/libvrt.pc"))
    for page in MAN_PAGES:
        assert os.path.isfile(staged(staging, f"/usr/share/man/{page}")), f"{page} is not installed"
    unit_dir = staged(staging, "/usr/lib/systemd/system")
    for unit in UNITS:
        with open(os.path.join(unit_dir, unit)) as f:
            text = f.read()
        assert re.search(r"^Documentation=.*\bman:vrtd\(8\)", text, re.M), f"{unit} does not name vrtd(8)"
    with open(os.path.join(unit_dir, "vrtd.service")) as f:
        assert re.search(r"^ExecStart=/usr/sbin/vrtd$", f.read(), re.M)

    # The staged programs run, vrt on the staged library.
    p = run([staged(staging, "/usr/sbin/vrtd"), "--version"])
    assert p.returncode == 0 and p.stdout.startswith("vrtd "), p.stderr
    version = p.stdout.split()[1]
    p = run([staged(staging, "/usr/bin/vrt"), "help"], env=lib_env(staging, libdir))
    assert p.returncode == 0 and "commands:" in p.stdout, p.stderr
    # The man pages carry the version installed.
    with open(staged(staging, "/usr/share/man/man8/vrtd.8")) as f:
        assert f'"vrt {version}"' in f.read()


def test_pkg_config_and_a_program_built_against_the_staged_library(staging, libdir, tmp_path):
    require(shutil.which("pkg-config"), "pkg-config is not installed")
    # PKG_CONFIG_SYSROOT_DIR is how a build uses a staged tree: every path in
    # the .pc file is taken under it.
    env = dict(os.environ, PKG_CONFIG_PATH=staged(staging, f"{libdir}/pkgconfig"),
               PKG_CONFIG_SYSROOT_DIR=staging, PKG_CONFIG_LIBDIR="")
    p = run(["pkg-config", "--modversion", "libvrt"], env=env)
    assert p.returncode == 0, p.stderr
    version = run([staged(staging, "/usr/sbin/vrtd"), "--version"]).stdout.split()[1]
    assert p.stdout.strip() == version
    p = run(["pkg-config", "--cflags", "--libs", "libvrt"], env=env)
    assert p.returncode == 0, p.stderr
    flags = p.stdout.split()
    assert "-lvrt" in flags
    # With the sysroot the flags name the staged directories (without it
    # pkgconf drops /usr/include and /usr/lib/<arch> as system ones).
    assert ("-I" + staged(staging, "/usr/include")) in flags, flags
    assert ("-L" + staged(staging, libdir)) in flags, flags

    src = tmp_path / "hello.c"
    src.write_text(textwrap.dedent("""\
        #include <stdio.h>
        #include <vrt.h>

        int
        main(void)
        {
            vrt_error *err = NULL;
            vrt_conn *conn = vrt_conn_open("qemu+unix:///system?socket=/nonexistent/vrtd-sock", 0, &err);
            if (conn || !err)
                return 3;
            printf("%lu %d %s\\n", vrt_lib_version(), err->code, err->message);
            vrt_error_free(err);
            return 0;
        }
        """))
    exe = tmp_path / "hello"
    p = run([os.environ.get("CC", "cc"), "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", str(exe), str(src)] + flags)
    assert p.returncode == 0, p.stderr
    p = run([str(exe)], env=lib_env(staging, libdir))
    assert p.returncode == 0, p.stderr
    lib_version, code, message = p.stdout.split(" ", 2)
    major, minor, micro = (int(x) for x in version.split("."))
    assert int(lib_version) == major * 1000000 + minor * 1000 + micro
    assert int(code) > 0 and "/nonexistent/vrtd-sock" in message


def render(path, width=80):
    """A man page as `man -l` shows it, with every groff warning on stderr."""
    env = dict(os.environ, MANWIDTH=str(width), LC_ALL="C.UTF-8", MANPAGER="cat", PAGER="cat")
    p = run(["man", "--warnings=w", "-l", path], env=env)
    assert p.returncode == 0, p.stderr
    assert p.stderr == "", f"{path} renders with warnings:\n{p.stderr}"
    # Debian's groff prints ASCII hyphens; others may use U+2010 or U+2212.
    return p.stdout.replace("\u2010", "-").replace("\u2212", "-")


@needs(shutil.which("man"), "man-db is not installed")
@pytest.mark.parametrize("page", MAN_PAGES)
def test_man_page_renders_without_warnings(staging, page):
    path = staged(staging, f"/usr/share/man/{page}")
    name = os.path.basename(page).rsplit(".", 1)[0]
    section = page[3]
    for width in (80, 60):
        text = render(path, width)
        assert text.startswith(f"{name.upper()}({section})"), text[:200]
        for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
            assert re.search(f"^{heading}$", text, re.M), f"{page} has no {heading}"
    if section in "18":
        for heading in ("ENVIRONMENT", "EXIT STATUS"):
            assert re.search(f"^{heading}$", text, re.M), f"{page} has no {heading}"
    if section == "8":
        for heading in ("FILES", "SIGNALS"):
            assert re.search(f"^{heading}$", text, re.M), f"{page} has no {heading}"


@needs(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_staged_units(staging, tmp_path):
    # PID 1 need not be systemd: verify works offline. With --root it reads
    # the units and checks ExecStart= in that tree, so it sees the staged
    # /usr/sbin/vrtd; the tree also needs the targets the units depend on
    # (sysinit.target, sockets.target, ...), which systemd, not vrt,
    # installs on a real host: they are copied from this host. MANPATH points
    # the check of Documentation=man:... at the staged pages.
    host_units = "/usr/lib/systemd/system"
    require(os.path.exists(os.path.join(host_units, "sysinit.target")), "systemd's own units are not installed")
    root = tmp_path / "root"
    shutil.copytree(staging, root, symlinks=True)
    targets = root / "etc" / "systemd" / "system"
    targets.mkdir(parents=True)
    for name in os.listdir(host_units):
        if name.endswith(".target") and os.path.isfile(os.path.join(host_units, name)):
            shutil.copy(os.path.join(host_units, name), targets / name)
    env = dict(os.environ, MANPATH=staged(staging, "/usr/share/man"))
    p = run(["systemd-analyze", "verify", f"--root={root}", *UNITS], env=env)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", p.stdout + p.stderr


def section_entries(text, section):
    """The .TP entries of a rendered man page section: {tag line: text}.
    Rendered at a width where nothing wraps, a tag sits at indent 7 and its
    paragraph at indent 14."""
    m = re.search(rf"^{section}\n(.*?)(?=^\S)", text, re.M | re.S)
    assert m, f"no section {section}"
    entries = {}
    tag = None
    for line in m.group(1).splitlines():
        if re.match(r"^ {7}\S", line):
            tag = line.strip()
            entries[tag] = ""
        elif re.match(r"^ {14}\S", line) and tag is not None:
            entries[tag] += line.strip() + " "
        elif line.strip():
            tag = None
    return entries


def test_vrtd_conf_documents_every_setting_and_its_default(staging):
    with open(os.path.join(SRC, "daemon", "config.c")) as f:
        code = f.read()
    accepted = set(re.findall(r'g_str_equal\(key, "(\w+)"\)', code))
    assert len(accepted) > 5, "cannot find the settings in daemon/config.c"
    init = re.search(r"^vrt_config_init\(.*?^\}", code, re.M | re.S).group(0)
    defaults = dict(re.findall(r"cfg->(\w+) = ([-\w]+);", init))

    text = render(staged(staging, "/usr/share/man/man5/vrtd.conf.5"), width=1000)
    entries = {tag: body for tag, body in section_entries(text, "SETTINGS").items() if re.fullmatch(r"\w+", tag)}
    assert set(entries) == accepted, \
        f"undocumented: {sorted(accepted - set(entries))}, documented but not accepted: {sorted(set(entries) - accepted)}"
    # libvirt's own files of settings, read when Debian's libvirt is installed
    libvirt_confs = {}
    for name in ("libvirtd.conf", "qemu.conf"):
        if os.path.exists(f"/etc/libvirt/{name}"):
            with open(f"/etc/libvirt/{name}") as f:
                libvirt_confs[name] = f.read()
    for key, body in entries.items():
        m = re.search(r"Default: (.*?)(?:\.\s|$)", body)
        assert m, f"{key}: no default in vrtd.conf(5)"
        if key in defaults:
            shown = re.match(r'"?(-?\w+)', m.group(1))
            assert shown and shown.group(1) == defaults[key], \
                f"{key}: vrtd.conf(5) says the default is {m.group(1)}, daemon/config.c sets {defaults[key]}"
        m = re.search(r"libvirt: (\S+)", body)
        assert m, f"{key}: vrtd.conf(5) does not give libvirt's name"
        conf = "qemu.conf" if re.search(r"libvirt: \S+ .*?\bin qemu\.conf", body) else "libvirtd.conf"
        if m.group(1) != "none;" and conf in libvirt_confs:
            assert re.search(rf"^#?{m.group(1)}\s*=", libvirt_confs[conf], re.M), \
                f"{key}: {conf} has no setting {m.group(1)}"


def test_vrtd_8_documents_every_option(staging):
    p = run([staged(staging, "/usr/sbin/vrtd"), "--help"])
    assert p.returncode == 0
    options = set(re.findall(r"(?<![\w-])(--?[\w-]+)", p.stdout))
    assert {"--root", "--config", "--host-root", "--daemon", "--version"} <= options
    entries = section_entries(render(staged(staging, "/usr/share/man/man8/vrtd.8"), width=1000), "OPTIONS")
    tags = " ".join(entries)
    for opt in options:
        assert re.search(rf"(?<![\w-]){opt}(?![\w-])", tags), f"vrtd(8) does not document {opt}"


def test_vrt_1_documents_every_command_and_option(staging, libdir):
    vrt = staged(staging, "/usr/bin/vrt")
    env = lib_env(staging, libdir)
    helptext = run([vrt, "help"], env=env).stdout
    commands = re.findall(r"^  ([a-z][\w-]*) ", helptext.split("commands:", 1)[1], re.M)
    assert len(commands) > 30
    entries = section_entries(render(staged(staging, "/usr/share/man/man1/vrt.1"), width=1000), "COMMANDS")
    # a command's options are given in its tag, or, for one with
    # subcommands (admin), in the text that lists them
    by_name = {tag.split()[0]: tag + " " + body for tag, body in entries.items()}
    for cmd in commands:
        assert cmd in by_name, f"vrt(1) does not document '{cmd}'"
        # The usage line vrt prints for a bad option lists the command's options.
        p = run([vrt, cmd, "--no-such-option"], env=env)
        assert p.returncode == 2
        usage = re.search(rf"^usage: vrt \[-c URI\] \[-r\] \[--json\] {re.escape(cmd)}(.*)$", p.stderr, re.M)
        assert usage, p.stderr
        for opt in re.findall(r"--[\w-]+", usage.group(1)):
            assert opt in by_name[cmd], f"vrt(1) does not give {opt} for '{cmd}'"
    # The global options.
    top = section_entries(render(staged(staging, "/usr/share/man/man1/vrt.1"), width=1000), "OPTIONS")
    tags = " ".join(top)
    for opt in re.findall(r"(?<![\w-])(--?[\w-]+)", helptext.split("commands:", 1)[0]):
        assert re.search(rf"(?<![\w-]){opt}(?![\w-])", tags), f"vrt(1) does not document {opt}"
