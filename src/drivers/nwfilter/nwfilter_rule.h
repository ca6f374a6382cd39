/*
 * A rule's protocol element (<tcp>, <ipv6>, <arp>, ...) as libvirt 9.0
 * reads it into typed fields and writes it back: the attributes in the
 * order of libvirt's table for that element (ones it does not know
 * dropped), each value in its canonical form (addresses as the C library
 * writes them, MAC addresses in lower case, masks as prefix lengths, known
 * EtherTypes, IP protocols and ARP opcodes by name, other numbers in the
 * base they were given in), $variables as libvirt writes them, and
 * match='no' only (match='yes' is the default). The element is the rule's
 * first child libvirt knows; later children of the same name add to it,
 * other children are dropped. libvirt's errors for a value it refuses
 * ("ATTR has illegal value VALUE") and for ports in <ip>/<ipv6> without a
 * protocol that has them.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

/* The protocol element of <rule> as libvirt writes it, one line per
 * element at indent levels of two spaces; "" when the rule has none,
 * NULL (and error) when libvirt refuses it. */
char *vrt_nwfilter_rule_element(xmlNodePtr rule, guint indent, GError **error);
