/* units.h — parsing of the quantities a scenario writes as strings or numbers ("32GB",
 * "2.6GHz", "50ms", "10min", "1Gbps", "1TB") into base units. */
#ifndef NESTSIM_SRC_UNITS_H
#define NESTSIM_SRC_UNITS_H

#include <glib.h>
#include <stdbool.h>

typedef enum {
  UNIT_BYTES,    /* B, KB, MB, GB, TB (powers of 1024, as vSphere shows memory and disks), KiB.. */
  UNIT_TIME,     /* ns, us, ms, s, min, h -> nanoseconds; a bare number is seconds */
  UNIT_FREQ,     /* Hz, kHz, MHz, GHz -> Hz; a bare number is MHz (as vSphere's limits) */
  UNIT_BITRATE,  /* bps, Kbps, Mbps, Gbps -> bits per second (powers of 1000) */
} unit_kind;

/* Parses text such as "32GB" or "2.6 GHz" (case-insensitive unit, optional space) into base
 * units. On failure returns false and OUT: *why says what was expected, for example
 * "expected a size such as \"32GB\"" (transfer full). */
bool unit_parse(unit_kind kind, const char *text, double *out, char **why);

/* Formats a value of that kind in the largest unit that keeps it >= 1 ("32 GB", "2.6 GHz"). */
char *unit_format(unit_kind kind, double value); /* transfer full */

#endif
