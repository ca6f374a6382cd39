/*
 * A source whose transfer had completed does not know where its guest
 * runs after a restart, or after a finish that failed without an answer
 * it can trust: qemu_migration_settle.c asks the destination's daemon
 * (its URI recorded with the phase: a peer-to-peer source's, or the one a
 * client-managed destination named in its cookie) on a worker thread of
 * the driver's, after vrtd listens, while the
 * domain stays paused under a migration job (VRT_QEMU_JOB_MIGRATION_OUT);
 * the answer ends the local copy (the destination runs it) or resumes it.
 * Inside the QEMU driver only.
 */
#pragma once

#include "drivers/qemu/qemu_domain.h"

#include <glib.h>
#include <stdbool.h>

typedef struct _VrtQemuSettler VrtQemuSettler;

VrtQemuSettler *vrt_qemu_settler_new(void);
/* Driver shutdown: wakes the workers and joins them (each gives its job
 * back and leaves the phase file for the next start). Called before the
 * monitors close. */
void vrt_qemu_settler_free(VrtQemuSettler *settler);

/* Takes obj's job (VRT_QEMU_JOB_MIGRATION_OUT) and starts a worker that
 * asks the destination at dconnuri until it answers (bounded), then runs
 * the confirm under that job. False (logged) when the job cannot be taken:
 * the domain stays paused, its phase kept. */
bool vrt_qemu_settler_add(VrtQemuDriver *drv, VrtQemuDom *obj, const char *dconnuri, guint flags);

/* qemu_migration.c: vrt_qemu_migrate_confirm with the domain's job already
 * held in *job (of any kind; switched to the confirm's own). The job is
 * ended on return. */
bool vrt_qemu_migrate_confirm_held(VrtQemuJob *job, guint flags, bool cancelled, GError **error);
/* qemu_migration.c: forgets the domain's migration phase (its file) and
 * its replug record (a destroyed source plugs nothing back). */
void vrt_qemu_migration_phase_clear(VrtQemuDriver *drv, const guchar *uuid);
