/*
 * A domain's <title>, <description> and <metadata> as virDomainSetMetadata
 * and virDomainGetMetadata see them: the title and description are plain
 * text, and <metadata> holds one element per XML namespace, which a
 * caller replaces, removes or reads by the namespace's URI. The domain
 * definition keeps <metadata> as standalone XML text (domain_parse.c), so
 * these edits parse that text, change it and write it back the same way.
 */
#include "conf/domain/domain_conf.h"
#include "util/error.h"
#include "util/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

/* The child of metadata in namespace uri, NULL when there is none. */
static xmlNodePtr
child_by_ns(xmlNodePtr metadata, const char *uri)
{
    for (xmlNodePtr c = metadata ? metadata->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && c->ns && g_strcmp0((const char *)c->ns->href, uri) == 0)
            return c;
    }
    return NULL;
}

/* Puts every element under node that has no namespace into ns: the
 * caller's XML arrives without one and is stored under its key. */
static void
give_ns(xmlNodePtr node, xmlNsPtr ns)
{
    for (xmlNodePtr c = node; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!c->ns)
            xmlSetNs(c, ns);
        give_ns(c->children, ns);
    }
}

/* Takes the elements in namespace uri out of it: what a reader gets back
 * is the element as it was given, without the prefix. */
static void
drop_ns(xmlNodePtr node, const char *uri)
{
    for (xmlNodePtr c = node; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (c->ns && g_strcmp0((const char *)c->ns->href, uri) == 0)
            xmlSetNs(c, NULL);
        drop_ns(c->children, uri);
    }
}

static char *
dump_node(xmlDocPtr doc, xmlNodePtr node, int format)
{
    xmlBufferPtr buf = xmlBufferCreate();
    char *ret;

    xmlNodeDump(buf, doc, node, 0, format);
    ret = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return ret;
}

static xmlDocPtr
parse_fragment(const char *text)
{
    return xmlReadMemory(text, (int)strlen(text), "metadata.xml", NULL, XML_PARSE_NONET);
}

char *
vrt_domain_def_get_metadata(const VrtDomainDef *def, int type, const char *uri, GError **error)
{
    char *ret = NULL;

    switch (type) {
    case VRT_DOMAIN_METADATA_DESCRIPTION: ret = g_strdup(def->description); break;
    case VRT_DOMAIN_METADATA_TITLE: ret = g_strdup(def->title); break;
    case VRT_DOMAIN_METADATA_ELEMENT:
        if (def->metadata && uri) {
            xmlDocPtr doc = parse_fragment(def->metadata);
            xmlNodePtr node = doc ? child_by_ns(xmlDocGetRootElement(doc), uri) : NULL;

            if (node) {
                xmlNodePtr copy = xmlDocCopyNode(node, doc, 1);
                xmlNsPtr prev = NULL;

                /* The copy carries the declarations it uses; the one of uri
                 * goes with the prefix. */
                xmlReconciliateNs(doc, copy);
                drop_ns(copy, uri);
                for (xmlNsPtr ns = copy->nsDef; ns; prev = ns, ns = ns->next) {
                    if (g_strcmp0((const char *)ns->href, uri) == 0) {
                        if (prev)
                            prev->next = ns->next;
                        else
                            copy->nsDef = ns->next;
                        xmlFreeNs(ns);
                        break;
                    }
                }
                ret = dump_node(doc, copy, 1);
                xmlFreeNode(copy);
            }
            if (doc)
                xmlFreeDoc(doc);
        }
        break;
    default: vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown metadata type '%d'", type); return NULL;
    }
    if (!ret)
        vrt_error_set(error, VIR_ERR_NO_DOMAIN_METADATA, "Requested metadata element is not present");
    return ret;
}

/* Sets or (metadata NULL) removes the element of namespace uri. */
static bool
set_element(VrtDomainDef *def, const char *metadata, const char *key, const char *uri, GError **error)
{
    xmlDocPtr doc = NULL;
    xmlDocPtr given = NULL;
    xmlNodePtr root, old;
    bool ok = false;

    if (!uri) {
        vrt_error_set(error, VIR_ERR_INVALID_ARG, "metadata element needs a namespace URI");
        return false;
    }
    if (metadata) {
        xmlNsPtr ns;

        given = parse_fragment(metadata);
        if (!given || !xmlDocGetRootElement(given)) {
            vrt_error_set(error, VIR_ERR_XML_DETAIL, "(metadata_xml): cannot parse the metadata XML");
            goto out;
        }
        if (!key || xmlValidateNCName((const xmlChar *)key, 1) != 0) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "failed to validate prefix for a new XML namespace");
            goto out;
        }
        root = xmlDocGetRootElement(given);
        ns = xmlNewNs(root, (const xmlChar *)uri, (const xmlChar *)key);
        if (!ns) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "failed to create a new XML namespace");
            goto out;
        }
        give_ns(root, ns);
    }
    doc = def->metadata ? parse_fragment(def->metadata) : xmlNewDoc((const xmlChar *)"1.0");
    if (!doc) {
        vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "cannot parse the domain's <metadata>");
        goto out;
    }
    root = xmlDocGetRootElement(doc);
    if (!root) {
        root = xmlNewDocNode(doc, NULL, (const xmlChar *)"metadata", NULL);
        xmlDocSetRootElement(doc, root);
    }
    while ((old = child_by_ns(root, uri))) {
        xmlUnlinkNode(old);
        xmlFreeNode(old);
    }
    if (given) {
        xmlNodePtr copy = xmlDocCopyNode(xmlDocGetRootElement(given), doc, 1);

        if (!copy || !xmlAddChild(root, copy)) {
            vrt_error_set(error, VIR_ERR_INTERNAL_ERROR, "failed to add metadata to XML document");
            goto out;
        }
        xmlReconciliateNs(doc, copy);
    }
    g_free(def->metadata);
    /* An empty <metadata/> is dropped, as libvirt writes none. */
    def->metadata = root->children ? dump_node(doc, root, 0) : NULL;
    ok = true;
out:
    if (doc)
        xmlFreeDoc(doc);
    if (given)
        xmlFreeDoc(given);
    return ok;
}

bool
vrt_domain_def_set_metadata(VrtDomainDef *def, int type, const char *metadata, const char *key, const char *uri,
                            GError **error)
{
    char **slot;

    switch (type) {
    case VRT_DOMAIN_METADATA_DESCRIPTION: slot = &def->description; break;
    case VRT_DOMAIN_METADATA_TITLE:
        if (metadata && strchr(metadata, '\n')) {
            vrt_error_set(error, VIR_ERR_INVALID_ARG, "metadata title can't contain newlines");
            return false;
        }
        slot = &def->title;
        break;
    case VRT_DOMAIN_METADATA_ELEMENT: return set_element(def, metadata, key, uri, error);
    default: vrt_error_set(error, VIR_ERR_INVALID_ARG, "unknown metadata type '%d'", type); return false;
    }
    g_free(*slot);
    *slot = metadata && *metadata ? g_strdup(metadata) : NULL;
    return true;
}
