/* duration.h: durations as config and templates write them. */
#ifndef GANTRY_DURATION_H
#define GANTRY_DURATION_H

/* Seconds from "90", "90s", "30m", "12h", "2d" or a sum such as "1h30m" (at most ten
 * years); -1 if invalid or NULL. */
long duration_parse(const char *s);

#endif
