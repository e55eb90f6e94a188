/* yaml_guard.h: cheap checks on YAML input that run before or beside libyaml's document
 * loader, shared by templates (core/template_parse.c) and config.yaml (core/config.c). */
#ifndef GANTRY_YAML_GUARD_H
#define GANTRY_YAML_GUARD_H

#include <stddef.h>
#include <yaml.h>

/* How deep collections may nest in any YAML file Gantry reads. */
#define YAML_GUARD_MAX_DEPTH 64

/* Walks the event stream of text and stops at the first sequence or mapping nested deeper
 * than max_depth: -1 and *cause = "LINE:COL: nesting deeper than N levels" (heap). It
 * returns 0 on a syntax error (the loader reports it, at the same place), so only the
 * nesting limit is decided here. libyaml's scanner is quadratic in the nesting depth of
 * flow collections and its loader recursive, so this must run before yaml_parser_load. */
int yaml_guard_depth(const char *text, size_t len, int max_depth, char **cause);

/* Every mapping of doc (each node once, aliases are not followed): -1 and
 * *cause = "LINE:COL: duplicate key 'K' (first at line L)" at the second of two equal
 * scalar keys. */
int yaml_guard_dup_keys(yaml_document_t *doc, char **cause);

#endif
