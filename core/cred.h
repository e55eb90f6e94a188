/* cred.h: credentials referenced from config, never stored. A provider's settings name a
 * secret either as NAME_file: PATH (a regular file owned by the user, mode 0600 or stricter,
 * opened without following links; its first line is the value) or NAME_env: VAR (an
 * environment variable of Gantry's own process). Exactly one of the two must be given.
 * Errors name the setting and its FILE:LINE:COL, never the value. */
#ifndef GANTRY_CRED_H
#define GANTRY_CRED_H

#include "core/kvlist.h"

/* Reads the credential `name` ("api_key") from settings (keys "api_key_file" /
 * "api_key_env"; pos gives FILE:LINE:COL of each key). Returns 0 with a heap *value, 1 when
 * neither key is present (and required == 0), -1 with *cause. The caller wipes and frees the
 * value with cred_free. */
int cred_get(const struct kvlist *settings, const struct kvlist *pos, const char *name,
             int required, char **value, char **cause);
/* Overwrites the value with zeros and frees it. */
void cred_free(char *value);

#endif
