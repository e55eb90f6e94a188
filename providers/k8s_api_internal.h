/* k8s_api_internal.h: helpers shared by the files of the Kubernetes API module
 * (providers/k8s_api*.c, k8s_kubeconfig.c, k8s_prom.c); not for the provider. */
#ifndef GANTRY_K8S_API_INTERNAL_H
#define GANTRY_K8S_API_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define K8S_TEXT_MAX       200     /* remote text kept in a reason or an error line */
#define K8S_STR_MAX        4096    /* a string field of an answer (longer ones are cut) */
#define K8S_ITEMS_MAX      1000000 /* items in one list answer */
#define K8S_LABELS_MAX     256     /* labels or annotations kept per object */
#define K8S_CONTAINERS_MAX 64      /* container statuses kept per pod */
#define K8S_COUNT_MAX      10000000

/* Remote text for one line: sanitised (no newline), cut at max bytes on a UTF-8 boundary
 * with "..." (heap; NULL stays NULL). */
char *k8s_text(const char *s, size_t max);
/* A string member: a copy cut at K8S_STR_MAX, or NULL when missing or not a string. */
char *k8s_jstr(const json_t *o, const char *key);
/* The same, sanitised to one line of at most K8S_TEXT_MAX bytes (reasons, messages). */
char *k8s_jtext(const json_t *o, const char *key);
/* An integer member in [min, max]: 1 and *out, 0 when missing/null/wrong type/out of range. */
int k8s_jint(const json_t *o, const char *key, long long min, long long max, long long *out);
/* RFC 3339 time ("2024-05-01T10:00:00Z", fractions, offsets) as Unix ms, 0 when bad. */
int64_t k8s_time_ms(const char *s);
int64_t k8s_jtime(const json_t *o, const char *key);
/* Standard base64 (padding optional, whitespace ignored): heap bytes + NUL, or NULL. */
char *k8s_base64_decode(const char *s, size_t len, size_t *outlen);
/* Standard base64 with padding (heap). */
char *k8s_base64_encode(const unsigned char *data, size_t len);
/* Wipes and frees a secret. */
void k8s_wipe(char *s, size_t len);
/* DNS-1123 label (ns) / subdomain (names): 1 when valid. */
int k8s_dns_label(const char *s);
int k8s_dns_subdomain(const char *s);
/* A resourceVersion or continue token that can go into a query string as it is: 1 to 1024
 * characters of [A-Za-z0-9._~=-]. */
int k8s_token_ok(const char *s);

#endif
