/*
 * Log outputs for vrtd (see log.h).
 */
#include "daemon/log.h"
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

typedef enum {
    OUT_STDERR,
    OUT_FILE,
    OUT_JOURNALD
} OutKind;

typedef struct {
    OutKind kind;
    int level;
    FILE *fp;
} Output;

struct _VrtLog {
    GMutex lock;
    GArray *outputs;
    int level; /* log_level: below it, no output shows a message (libvirt's default priority) */
};

static int
glib_to_level(GLogLevelFlags flags)
{
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return 4;
    if (flags & G_LOG_LEVEL_WARNING)
        return 3;
    if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return 2;
    return 1;
}

VrtLog *
vrt_log_new(int default_level, const char *outputs, GError **error)
{
    g_autofree char *spec = g_strdup(outputs && *outputs ? outputs : NULL);
    if (!spec)
        spec = g_strdup_printf("%d:stderr", default_level);
    VrtLog *log = g_new0(VrtLog, 1);
    g_mutex_init(&log->lock);
    log->level = default_level;
    log->outputs = g_array_new(FALSE, TRUE, sizeof(Output));
    g_auto(GStrv) items = g_strsplit_set(spec, " \t", -1);
    for (char **it = items; *it; it++) {
        if (!**it)
            continue;
        g_auto(GStrv) parts = g_strsplit(*it, ":", 3);
        char *end = NULL;
        long level = parts[0] ? strtol(parts[0], &end, 10) : 0;
        Output o = { 0 };
        if (!parts[0] || !parts[1] || end == parts[0] || *end || level < 1 || level > 4) {
            vrt_error_set(error, VIR_ERR_CONF_SYNTAX,
                          "log_outputs: '%s' is not LEVEL:stderr, LEVEL:file:PATH or LEVEL:journald", *it);
            vrt_log_free(log);
            return NULL;
        }
        o.level = (int)level;
        if (g_str_equal(parts[1], "stderr")) {
            o.kind = OUT_STDERR;
        } else if (g_str_equal(parts[1], "journald")) {
            o.kind = OUT_JOURNALD;
        } else if (g_str_equal(parts[1], "file") && parts[2] && *parts[2]) {
            o.kind = OUT_FILE;
            o.fp = fopen(parts[2], "ae");
            if (!o.fp) {
                vrt_error_set_errno(error, VIR_ERR_OPEN_FAILED, errno, "cannot open log file '%s'", parts[2]);
                vrt_log_free(log);
                return NULL;
            }
            setvbuf(o.fp, NULL, _IOLBF, 0);
        } else {
            vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "log_outputs: unknown output '%s'", *it);
            vrt_log_free(log);
            return NULL;
        }
        g_array_append_val(log->outputs, o);
    }
    return log;
}

static GLogWriterOutput
writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields, gpointer data)
{
    VrtLog *log = data;
    int level = glib_to_level(flags);
    const char *message = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "MESSAGE"))
            message = fields[i].value;
    }
    if (!message)
        return G_LOG_WRITER_UNHANDLED;
    /* As libvirt: a message below log_level reaches no output, whatever
     * the output's own level (it has no log_filters to lower it). */
    if (level < log->level)
        return G_LOG_WRITER_HANDLED;
    static const char *names[] = { "", "debug", "info", "warning", "error" };
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&log->lock);

        for (guint i = 0; i < log->outputs->len; i++) {
            Output *o = &g_array_index(log->outputs, Output, i);
            if (level < o->level)
                continue;
            switch (o->kind) {
            case OUT_STDERR:
                fprintf(stderr, "%.23s: %d: %s : %s\n", stamp, (int)getpid(), names[level], message);
                break;
            case OUT_FILE: fprintf(o->fp, "%.23s: %d: %s : %s\n", stamp, (int)getpid(), names[level], message); break;
            case OUT_JOURNALD:
                sd_journal_send("MESSAGE=%s", message, "PRIORITY=%d",
                                level == 4   ? 3
                                : level == 3 ? 4
                                : level == 2 ? 6
                                             : 7,
                                "SYSLOG_IDENTIFIER=vrtd", NULL);
                break;
            }
        }
    }
    return G_LOG_WRITER_HANDLED;
}

void
vrt_log_install(VrtLog *log)
{
    g_log_set_writer_func(writer, log, NULL);
}

void
vrt_log_free(VrtLog *log)
{
    if (!log)
        return;
    for (guint i = 0; i < log->outputs->len; i++) {
        Output *o = &g_array_index(log->outputs, Output, i);
        if (o->fp)
            fclose(o->fp);
    }
    g_array_free(log->outputs, TRUE);
    g_mutex_clear(&log->lock);
    g_free(log);
}
