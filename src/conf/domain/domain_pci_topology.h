/*
 * PCI topology controllers (PCIe switch ports, expander buses) and the
 * <target> of every PCI controller: read, written, checked and filled as
 * libvirt 9.0 does (domain_pci_topology.c).
 */
#pragma once

#include "conf/domain/domain_conf.h"

/* The QEMU device libvirt names a PCI controller model with (its <model
 * name=>); NULL for the roots and unknown models. */
const char *vrt_pci_ctrl_default_model_name(const char *model);
/* True when c is a PCI controller of that model. */
bool vrt_pci_ctrl_is(const VrtDomainControllerDef *c, const char *model);
/* True when c has anything for <target>. */
bool vrt_pci_ctrl_has_target(const VrtDomainControllerDef *c);
/* libvirt's checks of the PCI controllers' options, machine types, NUMA
 * nodes and (for those with an address) the bus each is plugged into. */
bool vrt_pci_topology_validate(const VrtDomainDef *def, GError **error);
/* After addresses are assigned: model names, pci-bridge chassisNr, a
 * downstream port's chassis and port, an expander bus's busNr. */
bool vrt_pci_topology_fill(VrtDomainDef *def, GError **error);
