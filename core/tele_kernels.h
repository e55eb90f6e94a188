/* tele_kernels.h: reading Jupyter's answer to GET /api/kernels (untrusted text from a
 * notebook server), kept apart from the engine so a fuzz target can call it. */
#ifndef GANTRY_TELE_KERNELS_H
#define GANTRY_TELE_KERNELS_H

#include <stdint.h>

/* body must be a JSON list of kernels: then 0, *busy = 1 when any kernel's execution_state
 * is not "idle" (else 0), and *activity_ms raised to the latest last_activity (Unix ms)
 * when one is later. Anything else: -1, nothing changed. */
int tele_kernels_parse(const char *body, int *busy, int64_t *activity_ms);
/* "2026-11-27T14:00:00.123456Z" -> Unix ms; 0 when it does not parse or is out of range. */
int64_t tele_kernels_iso_ms(const char *s);

#endif
