/*
 * vrt's stream commands: `vrt console DOMAIN` (the domain's console on this
 * terminal, raw, until Ctrl-] or the domain's end, as virsh console) and
 * `vrt screenshot DOMAIN FILE` (the image written to FILE).
 */
#include "vrt-cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Ctrl-]: leaves the console, as in virsh and telnet. */
#define ESCAPE_CHAR 0x1d

typedef struct {
    vrt_stream *st;
    int wake; /* written when the stream ends */
    vrt_error *err; /* why it ended, when it failed */
} ConsoleReader;

/* The stream's data to stdout until its end. */
static gpointer
console_reader(gpointer data)
{
    ConsoleReader *r = data;
    char buf[4096];

    for (;;) {
        long n = vrt_stream_recv(r->st, buf, sizeof(buf), -1, &r->err);

        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));

            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += w;
        }
    }
    if (write(r->wake, "x", 1) < 0) {
        /* the main loop also ends when stdin does */
    }
    return NULL;
}

/* Copies stdin to the stream until Ctrl-], stdin's end or the stream's end. */
static void
console_writer(vrt_stream *st, int wake)
{
    char buf[4096];

    for (;;) {
        struct pollfd fds[2] = { { STDIN_FILENO, POLLIN, 0 }, { wake, POLLIN, 0 } };

        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (fds[1].revents)
            return;
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        char *esc = memchr(buf, ESCAPE_CHAR, (size_t)n);
        size_t len = esc ? (size_t)(esc - buf) : (size_t)n;
        vrt_error *err = NULL;

        if (len && vrt_stream_send(st, buf, len, &err) < 0) {
            vrt_error_free(err);
            return;
        }
        if (esc)
            return;
    }
}

static int
cmd_console(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    unsigned int flags = 0;
    vrt_error *err = NULL;
    struct termios saved;
    bool raw = false;
    int wake[2];

    if (vrt_cli_flag(args, "force"))
        flags |= VRT_DOMAIN_CONSOLE_FORCE;
    if (vrt_cli_flag(args, "safe"))
        flags |= VRT_DOMAIN_CONSOLE_SAFE;
    vrt_stream *st = vrt_domain_open_console(args->dom, vrt_cli_value(args, "devname"), flags, &err);
    if (!st)
        return vrt_cli_fail(err);
    if (pipe2(wake, O_CLOEXEC) < 0) {
        vrt_stream_free(st);
        return vrt_cli_failf("cannot create a pipe: %s", g_strerror(errno));
    }
    printf("Connected to domain '%s'\nEscape character is ^] (Ctrl + ])\n", args->pos[0]);
    fflush(stdout);
    /* Raw: every key goes to the guest as typed, the guest's echo shows it. */
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
        struct termios t = saved;

        cfmakeraw(&t);
        raw = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
    }

    ConsoleReader r = { st, wake[1], NULL };
    GThread *reader = g_thread_new("vrt-console", console_reader, &r);

    console_writer(st, wake[0]);
    /* Ends the reader too: its receive returns once the daemon confirms. */
    vrt_error *ferr = NULL;
    if (vrt_stream_finish(st, &ferr) < 0)
        vrt_error_free(ferr);
    g_thread_join(reader);
    if (raw)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    printf("\n");
    vrt_stream_free(st);
    close(wake[0]);
    close(wake[1]);
    if (r.err)
        return vrt_cli_fail(r.err);
    return VRT_EXIT_OK;
}

static int
cmd_screenshot(VrtCli *cli, const VrtCmd *cmd, VrtArgs *args)
{
    const char *path = args->pos[1];
    const char *screen_opt = vrt_cli_value(args, "screen");
    unsigned int screen = 0;
    g_autofree char *mime = NULL;
    vrt_error *err = NULL;
    char buf[65536];
    long n;

    if (screen_opt) {
        char *end;
        unsigned long v = strtoul(screen_opt, &end, 10);

        if (*screen_opt == '\0' || *end || v > G_MAXUINT)
            return vrt_cli_usage(cmd, "--screen takes a number");
        screen = (unsigned int)v;
    }
    vrt_stream *st = vrt_domain_screenshot(args->dom, screen, 0, &mime, &err);
    if (!st)
        return vrt_cli_fail(err);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        int errsv = errno;

        vrt_stream_abort(st, NULL);
        vrt_stream_free(st);
        return vrt_cli_failf("cannot create file %s: %s", path, g_strerror(errsv));
    }
    while ((n = vrt_stream_recv(st, buf, sizeof(buf), -1, &err)) > 0) {
        if (write(fd, buf, (size_t)n) != n) {
            int errsv = errno;

            close(fd);
            unlink(path);
            vrt_stream_abort(st, NULL);
            vrt_stream_free(st);
            return vrt_cli_failf("cannot write %s: %s", path, g_strerror(errsv));
        }
    }
    close(fd);
    if (n < 0 || vrt_stream_finish(st, &err) < 0) {
        unlink(path);
        vrt_stream_free(st);
        return vrt_cli_fail(err);
    }
    vrt_stream_free(st);
    printf("Screenshot saved to %s, with type of %s\n\n", path, mime ? mime : "?");
    return VRT_EXIT_OK;
}

static const VrtOpt console_opts[] = { { "devname", true }, { "force", false }, { "safe", false }, { NULL, false } };
static const VrtOpt screenshot_opts[] = { { "screen", true }, { NULL, false } };

const VrtCmd vrt_cmds_stream[] = {
    { "console", cmd_console, "DOMAIN [--devname NAME] [--force] [--safe]",
      "the domain's console on this terminal (Ctrl-] leaves)", console_opts, VRT_ON_DOMAIN, 1, false },
    { "screenshot", cmd_screenshot, "DOMAIN FILE [--screen N]", "save a running domain's screen to FILE",
      screenshot_opts, VRT_ON_DOMAIN, 2, false },
    { NULL, NULL, NULL, NULL, NULL, VRT_ON_NONE },
};
