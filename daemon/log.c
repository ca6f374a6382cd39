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
    char *path; /* OUT_FILE's */
} Output;

/* A log_filters item: messages whose log domain or text contains match are
 * shown from level on, whatever log_level says (the outputs' levels still
 * apply), as libvirt's filters. libvirt matches its source file name; vrt's
 * messages go through g_log, which carries none (GLib's structured log,
 * which would, defeats g_test_expect_message in the unit tests). */
typedef struct {
    int level;
    char *match;
    bool stack; /* written "+match": kept for the text, as libvirt's */
} Filter;

struct _VrtLog {
    GMutex lock;
    GArray *outputs; /* Output, under lock */
    GArray *filters; /* Filter, under lock */
    gint has_filters; /* log->filters is not empty (read without the lock) */
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

static void
output_clear(gpointer p)
{
    Output *o = p;
    if (o->fp)
        fclose(o->fp);
    g_free(o->path);
}

static void
filter_clear(gpointer p)
{
    g_free(((Filter *)p)->match);
}

/* The outputs of spec (see log.h), or NULL with *error naming the item. */
static GArray *
parse_outputs(const char *spec, GError **error)
{
    g_autoptr(GArray) outputs = g_array_new(FALSE, TRUE, sizeof(Output));
    g_array_set_clear_func(outputs, output_clear);
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
                return NULL;
            }
            setvbuf(o.fp, NULL, _IOLBF, 0);
            o.path = g_strdup(parts[2]);
        } else {
            vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "log_outputs: unknown output '%s'", *it);
            return NULL;
        }
        g_array_append_val(outputs, o);
    }
    return g_steal_pointer(&outputs);
}

VrtLog *
vrt_log_new(int default_level, const char *outputs, GError **error)
{
    g_autofree char *spec = g_strdup(outputs && *outputs ? outputs : NULL);
    if (!spec)
        spec = g_strdup_printf("%d:stderr", default_level);
    GArray *parsed = parse_outputs(spec, error);
    if (!parsed)
        return NULL;
    VrtLog *log = g_new0(VrtLog, 1);
    g_mutex_init(&log->lock);
    log->level = default_level;
    log->outputs = parsed;
    log->filters = g_array_new(FALSE, TRUE, sizeof(Filter));
    g_array_set_clear_func(log->filters, filter_clear);
    return log;
}

bool
vrt_log_set_outputs(VrtLog *log, const char *outputs, GError **error)
{
    g_autofree char *spec = g_strdup(outputs && *outputs ? outputs : NULL);
    if (!spec)
        spec = g_strdup_printf("%d:stderr", log->level);
    GArray *parsed = parse_outputs(spec, error);
    if (!parsed)
        return false;
    GArray *old;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&log->lock);

        old = log->outputs;
        log->outputs = parsed;
    }
    g_array_free(old, TRUE);
    return true;
}

char *
vrt_log_get_outputs(VrtLog *log, guint *count)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&log->lock);
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; i < log->outputs->len; i++) {
        Output *o = &g_array_index(log->outputs, Output, i);
        if (i)
            g_string_append_c(text, ' ');
        g_string_append_printf(text, "%d:%s%s", o->level,
                               o->kind == OUT_STDERR     ? "stderr"
                               : o->kind == OUT_JOURNALD ? "journald"
                                                         : "file:",
                               o->kind == OUT_FILE ? o->path : "");
    }
    *count = log->outputs->len;
    return g_string_free(g_steal_pointer(&text), FALSE);
}

bool
vrt_log_set_filters(VrtLog *log, const char *filters, GError **error)
{
    g_autoptr(GArray) parsed = g_array_new(FALSE, TRUE, sizeof(Filter));
    g_array_set_clear_func(parsed, filter_clear);
    g_auto(GStrv) items = g_strsplit_set(filters ? filters : "", " \t", -1);

    for (char **it = items; *it; it++) {
        if (!**it)
            continue;
        const char *colon = strchr(*it, ':');
        char *end = NULL;
        long level = strtol(*it, &end, 10);
        if (!colon || end != colon || end == *it || level < 1 || level > 4 || !colon[1] ||
            (colon[1] == '+' && !colon[2])) {
            vrt_error_set(error, VIR_ERR_CONF_SYNTAX, "log_filters: '%s' is not LEVEL:MATCH", *it);
            return false;
        }
        Filter f = { .level = (int)level, .stack = colon[1] == '+' };
        f.match = g_strdup(colon + 1 + f.stack);
        g_array_append_val(parsed, f);
    }
    GArray *old;
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&log->lock);

        old = log->filters;
        log->filters = g_steal_pointer(&parsed);
        log->has_filters = log->filters->len > 0;
    }
    g_array_free(old, TRUE);
    return true;
}

char *
vrt_log_get_filters(VrtLog *log, guint *count)
{
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&log->lock);
    g_autoptr(GString) text = g_string_new(NULL);

    for (guint i = 0; i < log->filters->len; i++) {
        Filter *f = &g_array_index(log->filters, Filter, i);
        g_string_append_printf(text, "%s%d:%s%s", i ? " " : "", f->level, f->stack ? "+" : "", f->match);
    }
    *count = log->filters->len;
    return g_string_free(g_steal_pointer(&text), FALSE);
}

/* The level from which a message shows: the first matching filter's, else
 * log_level. Under log->lock. */
static int
threshold_locked(VrtLog *log, const char *message, const char *domain)
{
    domain = domain ? domain : "";
    for (guint i = 0; i < log->filters->len; i++) {
        Filter *f = &g_array_index(log->filters, Filter, i);
        if (strstr(message, f->match) || strstr(domain, f->match))
            return f->level;
    }
    return log->level;
}

static GLogWriterOutput
writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields, gpointer data)
{
    VrtLog *log = data;
    int level = glib_to_level(flags);
    const char *message = NULL;
    const char *domain = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "MESSAGE"))
            message = fields[i].value;
        else if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
            domain = fields[i].value;
    }
    if (!message)
        return G_LOG_WRITER_UNHANDLED;
    /* As libvirt: a message below log_level, or below the level of the
     * first filter matching it, reaches no output, whatever the
     * output's own level. */
    if (level < log->level && !log->has_filters)
        return G_LOG_WRITER_HANDLED;
    static const char *names[] = { "", "debug", "info", "warning", "error" };
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    {
        g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&log->lock);

        if (level < threshold_locked(log, message, domain))
            return G_LOG_WRITER_HANDLED;
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
    g_array_free(log->outputs, TRUE);
    g_array_free(log->filters, TRUE);
    g_mutex_clear(&log->lock);
    g_free(log);
}
