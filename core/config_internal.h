/* config_internal.h: shared by core/config*.c only. */
#ifndef GANTRY_CONFIG_INTERNAL_H
#define GANTRY_CONFIG_INTERNAL_H

#include <yaml.h>

#include "core/config.h"

/* Reads `providers:` (a mapping of instance name -> mapping with `type:`) into c. */
int config_parse_providers(struct config *c, yaml_document_t *doc, yaml_node_t *node, char **cause);
void config_providers_free(struct config *c);
/* Reads `budgets:` (a list of {scope, name, monthly, soft, hard, action, grace}). */
int config_parse_budgets(struct config *c, yaml_document_t *doc, yaml_node_t *node, char **cause);
void config_budgets_free(struct config *c);
/* A duration: a number with s, m, h or d, or a plain number of unit_s; seconds, or -1 when
 * it is none of these or longer than max_s. */
int64_t config_duration(const char *v, double unit_s, double max_s);
/* Reads `history:` ({minutes: DURATION, hours: DURATION}) into c->history_1m_s/_1h_s. */
int config_parse_history(struct config *c, yaml_document_t *doc, yaml_node_t *node, char **cause);
/* Reads `logs:` ({max_size: SIZE}) into c->log_max_bytes (config_logs.c). */
int config_parse_logs(struct config *c, yaml_document_t *doc, yaml_node_t *node, char **cause);
/* Reads `job_env:` ({pass: [NAME or PREFIX*, ...]}) into c->job_env_pass. */
int config_parse_jobenv(struct config *c, yaml_document_t *doc, yaml_node_t *node, char **cause);
void config_jobenv_free(struct config *c);
/* Reads config.yaml's text (c->config_file names it in errors) into c, which holds the
 * defaults; the part of config_load a fuzz target calls. */
int config_parse_text(struct config *c, const char *text, size_t len, char **cause);
/* config_check.c: reads the whole of path into a heap buffer (NUL-terminated); -1 with
 * errno set when it cannot. */
int config_read_text(const char *path, char **text, size_t *len);
/* config_check.c: after the file is read, default_provider must name a configured provider
 * (or the built-in local) and theme a theme file; -1 with "FILE:LINE:COL: ..." naming the
 * known ones otherwise. */
int config_check_names(const struct config *c, char **cause);

#endif
