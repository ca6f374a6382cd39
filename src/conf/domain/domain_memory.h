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
    int discard; /* discard= (a VrtTristate): the domain's <discard/> overridden */
} VrtDomainNumaCell;

/* <memoryBacking><hugepages><page size= nodeset=> */
typedef struct {
    guint64 size_kib; /* 0: the host's default huge page size (<hugepages/> alone) */
    char *nodeset; /* canonical guest NUMA node set; NULL: every node not named by another page */
} VrtDomainHugePage;

typedef struct _VrtDomainMemDef {
    GPtrArray *cells; /* VrtDomainNumaCell*, in id order; empty = no <numa> */
    bool backing; /* a <memoryBacking> was written */
    bool hugepages;
    GPtrArray *pages; /* VrtDomainHugePage*, as written; one of size 0 for a bare <hugepages/> */
    bool nosharepages; /* <nosharepages/>: QEMU's mem-merge=off */
    bool locked;
    bool discard;
    char *source_type; /* "anonymous", "memfd", NULL */
    char *access_mode; /* "shared", "private", NULL */
    char *allocation_mode; /* "immediate", "ondemand", NULL */
    bool allocation_set; /* an <allocation> was written */
    guint allocation_threads; /* threads=: preallocation threads, 0: QEMU's default */
    guint64 max_memory_kib; /* <maxMemory>, 0: no memory hotplug */
    guint slots;
    GPtrArray *devs; /* VrtDomainMemoryDevDef* (domain_memory_dev.h), in order */
} VrtDomainMemDef;

void vrt_domain_mem_free(VrtDomainMemDef *mem);
/* The huge page size (KiB, 0: the host's default) backing guest NUMA node
 * `cell` (-1: the whole memory of a domain without cells); false when that
 * memory is not on huge pages. */
bool vrt_domain_mem_page_kib(const VrtDomainMemDef *mem, int cell, guint64 *kib);
