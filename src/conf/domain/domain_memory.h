/*
 * A domain's guest NUMA cells (<cpu><numa><cell .../></numa></cpu>) and
 * how its memory is backed (<memoryBacking>: hugepages, locked, source
 * type, access mode, allocation, discard). The QEMU driver turns them
 * into memory backend objects, -numa nodes and -overcommit.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct {
    guint id;
    char *cpus; /* canonical cpuset ("0-1,4"), NULL: a cell without CPUs */
    guint64 memory_kib;
    char *mem_access; /* memAccess=: "shared", "private", NULL */
} VrtDomainNumaCell;

typedef struct _VrtDomainMemDef {
    GPtrArray *cells; /* VrtDomainNumaCell*, in id order; empty = no <numa> */
    bool backing; /* a <memoryBacking> was written */
    bool hugepages;
    bool locked;
    bool discard;
    char *source_type; /* "anonymous", "memfd", NULL */
    char *access_mode; /* "shared", "private", NULL */
    char *allocation_mode; /* "immediate", "ondemand", NULL */
} VrtDomainMemDef;

void vrt_domain_mem_free(VrtDomainMemDef *mem);
