/*
 * The one libxml2 helper library of vrt's XML families (domain, network
 * and network port, node device): reading a document with the safe
 * parser options (no network, no entity expansion, errors kept from
 * stderr), walking elements, typed attribute readers whose errors name the
 * element, attribute and value, the "not supported" error for an element
 * vrt does not model, and escaping for the formatters.
 *
 * The families word some errors differently, and clients have always seen
 * those words (libvirt clients print the message as received), so a
 * document is read with its family's VrtXmlWording and every error the
 * helpers raise for one of its nodes uses it. The code paths are the same.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <libxml/tree.h>

#include "util/pciaddr.h"
#include "util/tristate.h"

typedef enum {
    /* "invalid value 'x' for attribute 'a' of <e> (line N): ...",
     * "element <e> in <parent> (line N) is not supported" */
    VRT_XML_STYLE_DOMAIN = 0,
    /* "invalid a='x' in <e> (at most N)",
     * "element <e> in <parent> is not supported by vrt" */
    VRT_XML_STYLE_NETWORK,
} VrtXmlStyle;

/* A family's wording; a static constant the document points to while it
 * lives. NULL stands for the domain wording with its 10 MiB limit. */
typedef struct {
    VrtXmlStyle style;
    gsize max_bytes; /* larger documents are refused before libxml2 sees them */
    /* How "not supported" names a child of the root element (network:
     * "network XML"); other elements are named "<parent>". */
    const char *root_label;
} VrtXmlWording;

/* Parses a whole document. `what` names it in errors, like libvirt's
 * "(network_definition)" or "domain_definition"; a root other than
 * root_name (when given) is refused. Malformed input gives
 * VIR_ERR_XML_ERROR with the parser's line. Never prints to stderr. */
xmlDocPtr vrt_xml_read(const char *xml, const char *what, const char *root_name, const VrtXmlWording *wording,
                       GError **error);

/* Where Debian's libvirt packages install libvirt's RELAX NG schemas,
 * which the *_VALIDATE flags check a document against, as libvirt does. */
#define VRT_LIBVIRT_SCHEMA_DIR "/usr/share/libvirt/schemas"

/* Validates doc against libvirt's schema file `schema` (e.g. "domain.rng")
 * in VRT_LIBVIRT_SCHEMA_DIR. A document the schema refuses gives
 * VIR_ERR_XML_INVALID_SCHEMA "XML document failed to validate against
 * schema: Unable to validate doc against PATH" and the validator's
 * messages, one per line, as libvirt words it; a missing schema
 * VIR_ERR_OPERATION_FAILED naming it. */
bool vrt_xml_validate(xmlDocPtr doc, const char *schema, GError **error);
/* vrt_xml_validate() of a document given as text; a malformed one gives
 * VIR_ERR_XML_ERROR as vrt_xml_read() does. */
bool vrt_xml_validate_string(const char *xml, const char *what, const char *schema, GError **error);

/* Refuses any attribute of node that is not in the NULL-terminated list
 * (VIR_ERR_CONFIG_UNSUPPORTED naming element, attribute and line). */
bool vrt_xml_check_attrs(xmlNodePtr node, GError **error, ...) G_GNUC_NULL_TERMINATED;
/* VIR_ERR_CONFIG_UNSUPPORTED for an element vrt does not handle; returns
 * false. */
bool vrt_xml_unsupported(xmlNodePtr node, GError **error);
/* Next element sibling starting at node (node itself if an element). */
xmlNodePtr vrt_xml_next_element(xmlNodePtr node);
#define VRT_XML_FOREACH_CHILD(child, parent) \
    for (xmlNodePtr child = vrt_xml_next_element((parent)->children); child; child = vrt_xml_next_element(child->next))
/* True when node is an element named name in no namespace. */
bool vrt_xml_is(xmlNodePtr node, const char *name);

/* Attribute value (no namespace), NULL when absent. */
char *vrt_xml_prop(xmlNodePtr node, const char *name);
/* Text content of an element as written (callers trim where the family
 * does); never NULL. */
char *vrt_xml_text(xmlNodePtr node);

/* Unsigned number attribute (decimal, 0x hex, blanks around ignored) up
 * to max; absent: *out untouched, *present (optional) false. Garbage or
 * too large: VIR_ERR_XML_ERROR. */
bool vrt_xml_prop_uint(xmlNodePtr node, const char *name, guint max, guint *out, bool *present, GError **error);
/* The same for an attribute that must be given (VIR_ERR_XML_ERROR when
 * absent). */
bool vrt_xml_prop_uint_required(xmlNodePtr node, const char *name, guint max, guint *out, GError **error);
/* yes/no (or on/off when onoff) attribute into a tristate; absent leaves
 * *out untouched. */
bool vrt_xml_prop_tristate(xmlNodePtr node, const char *name, bool onoff, VrtTristate *out, GError **error);
/* yes/no attribute as -1 (absent), 0 (no) or 1 (yes). */
bool vrt_xml_prop_yes_no(xmlNodePtr node, const char *name, int *out, GError **error);
/* Index of str in a NULL-terminated table, -1 when absent or str NULL. */
int vrt_enum_from_string(const char *const *table, const char *str);
/* Enum attribute looked up in table; required => error when absent.
 * *out is left untouched when absent and not required. An unknown value
 * is VIR_ERR_CONFIG_UNSUPPORTED. */
bool vrt_xml_prop_enum(xmlNodePtr node, const char *name, const char *const *table, bool required, int *out,
                       GError **error);
/* An attribute whose value must be one of table's (NULL-terminated), into
 * *out (its old value freed); absent leaves *out as it is. Another value
 * is libvirt's VIR_ERR_XML_ERROR "Invalid value for attribute 'a' in
 * element 'e': 'v'." */
bool vrt_xml_prop_choice(xmlNodePtr node, const char *name, const char *const *table, char **out, GError **error);

/* Flags of vrt_xml_prop_pci_addr */
#define VRT_XML_PCI_REQUIRED (1u << 0) /* bus, slot and function must be given */
#define VRT_XML_PCI_MULTIFUNCTION (1u << 1) /* read multifunction='on|off' too */
/* domain/bus/slot/function attributes of a PCI <address> into addr
 * (attributes not given leave their field untouched). The type= and the
 * allowed attributes are the caller's to check. */
bool vrt_xml_prop_pci_addr(xmlNodePtr node, guint flags, VrtPciAddr *addr, GError **error);

/* Text escaped for element content or a quoted attribute (both quote
 * characters, '<', '>', '&'); NULL for NULL. */
char *vrt_xml_escape(const char *s);
/* Appends one line of XML: indent levels of two spaces, fmt, a newline. */
void vrt_xml_line(GString *buf, guint indent, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Appends " name='escaped value'" when value is non-NULL. */
void vrt_xml_format_attr(GString *out, const char *name, const char *value);
