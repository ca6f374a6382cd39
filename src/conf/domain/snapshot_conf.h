/*
 * libvirt's domain snapshot XML (domainsnapshot.rng): what a client gives
 * to virsh snapshot-create (name, description, memory, disks), what
 * snapshot-dumpxml shows (with state, parent, creation time and the domain
 * as it was), and the metadata file vrt keeps per snapshot, which is the
 * same document with <active>1</active> when the snapshot is the current one.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *name; /* the disk's target ("vda") */
    char *snapshot; /* "internal", "external", "no" or NULL (default) */
    char *source; /* external: the overlay file (<source file=...>), NULL: not given */
} VrtSnapshotDiskDef;

typedef struct {
    char *name;
    char *description; /* may be NULL */
    char *parent; /* the parent snapshot's name, NULL for a root */
    char *state; /* the domain's state when taken: "running", "paused", "shutoff", "disk-snapshot" */
    gint64 creation_time; /* seconds since the epoch */
    char *memory; /* <memory snapshot=...>: "no", "internal", "external", NULL when not given */
    GPtrArray *disks; /* VrtSnapshotDiskDef* */
    char *domain_xml; /* the domain's definition then, NULL when not given */
    bool current; /* metadata only: this is the domain's current snapshot */
} VrtSnapshotDef;

void vrt_snapshot_def_free(VrtSnapshotDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VrtSnapshotDef, vrt_snapshot_def_free)

/* Parses a <domainsnapshot> document; every element of the full format is
 * read (a redefinition and the metadata file give them all). Errors are
 * VIR_ERR_XML_ERROR. */
VrtSnapshotDef *vrt_snapshot_def_parse(const char *xml, GError **error);
/* The document as libvirt shows it; with_current adds <active>, the
 * metadata file's form. */
char *vrt_snapshot_def_format(const VrtSnapshotDef *def, bool with_current);
