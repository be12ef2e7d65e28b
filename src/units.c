/* units.c — parsing and formatting of scenario quantities ("32GB", "2.6 GHz", "50ms").
 *
 * The grammar is deliberately small: optional spaces, a decimal number (optional sign,
 * digits with an optional fraction, an optional exponent), optional spaces, an optional
 * unit, optional spaces. No hexadecimal, no "inf" or "nan": a quantity a person writes never
 * needs them, and accepting them would let a typo through. Units are matched without regard
 * to case, since "32gb" and "32GB" can only mean one thing within one kind of quantity.
 *
 * Every result must be below 2^63 base units in magnitude, so that callers may convert it to
 * a 64-bit integer (bytes, nanoseconds) without overflow. The sign is parsed and kept: which
 * range makes sense (sizes > 0, warm-up >= 0) is the caller's to check, with its own message.
 * On failure *out is left alone. */
#include "src/units.h"

#include <math.h>
#include <string.h>

typedef struct {
  const char *name;
  double factor;
} unit_def;

/* Sizes in powers of 1024, as vSphere shows memory and disks ("32 GB" of RAM is 32 GiB); the
 * IEC spellings are accepted as synonyms. */
static const unit_def bytes_units[] = {
    {"B", 1.0},
    {"KB", 1024.0}, {"MB", 1048576.0}, {"GB", 1073741824.0},
    {"TB", 1099511627776.0}, {"PB", 1125899906842624.0}, {"EB", 1152921504606846976.0},
    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
    {"TiB", 1099511627776.0}, {"PiB", 1125899906842624.0}, {"EiB", 1152921504606846976.0},
    {NULL, 0}};
static const unit_def time_units[] = {
    {"ns", 1.0}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"sec", 1e9},
    {"min", 60e9}, {"h", 3600e9}, {NULL, 0}};
static const unit_def freq_units[] = {
    {"Hz", 1.0}, {"kHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}, {NULL, 0}};
static const unit_def bitrate_units[] = {
    {"bps", 1.0}, {"Kbps", 1e3}, {"Mbps", 1e6}, {"Gbps", 1e9}, {"Tbps", 1e12}, {NULL, 0}};

/* What each kind is called in messages, an example, what a bare number means, and the units
 * unit_format picks from (largest first; a subset of what is parsed). */
typedef struct {
  const char *noun;
  const char *example;
  const char *units_list;
  double bare;
  const unit_def *units;
  const char *limit; /* how 2^63 base units reads */
} kind_def;

static const kind_def kinds[] = {
    [UNIT_BYTES] = {"size", "32GB", "B, KB, MB, GB, TB", 1.0, bytes_units, "8 EB"},
    [UNIT_TIME] = {"time", "50ms", "ns, us, ms, s, min, h", 1e9, time_units, "292 years"},
    [UNIT_FREQ] = {"frequency", "2.6GHz", "Hz, kHz, MHz, GHz", 1e6, freq_units, "9.2e18 Hz"},
    [UNIT_BITRATE] = {"bit rate", "1Gbps", "bps, Kbps, Mbps, Gbps", 1.0, bitrate_units,
                      "9.2e18 bps"},
};

/* 2^63: the first magnitude that does not fit a signed 64-bit integer. */
#define UNIT_LIMIT 9223372036854775808.0

static const char *skip_spaces(const char *p) {
  while (*p == ' ' || *p == '\t') p++;
  return p;
}

/* Length of the decimal number at p, 0 if there is none. */
static size_t number_length(const char *p) {
  const char *q = p;
  if (*q == '+' || *q == '-') q++;
  size_t digits = 0;
  while (g_ascii_isdigit(*q)) q++, digits++;
  if (*q == '.') {
    q++;
    while (g_ascii_isdigit(*q)) q++, digits++;
  }
  if (!digits) return 0;
  if (*q == 'e' || *q == 'E') {
    const char *e = q + 1;
    if (*e == '+' || *e == '-') e++;
    if (g_ascii_isdigit(*e)) {
      while (g_ascii_isdigit(*e)) e++;
      q = e;
    }
  }
  return (size_t)(q - p);
}

static bool fail(const kind_def *k, char **why) {
  if (why)
    *why = g_strdup_printf("expected a %s such as \"%s\" (units %s)", k->noun, k->example,
                           k->units_list);
  return false;
}

bool unit_parse(unit_kind kind, const char *text, double *out, char **why) {
  g_assert((unsigned)kind < G_N_ELEMENTS(kinds) && out != NULL);
  const kind_def *k = &kinds[kind];
  if (why) *why = NULL;
  if (!text) return fail(k, why);
  const char *p = skip_spaces(text);
  size_t n = number_length(p);
  if (!n) return fail(k, why);
  char buf[64];
  if (n >= sizeof buf) return fail(k, why);
  memcpy(buf, p, n);
  buf[n] = '\0';
  double v = g_ascii_strtod(buf, NULL);
  p = skip_spaces(p + n);
  const char *u = p;
  while (*p && *p != ' ' && *p != '\t') p++;
  size_t ulen = (size_t)(p - u);
  if (*skip_spaces(p)) return fail(k, why);
  double factor = k->bare;
  if (ulen) {
    factor = 0;
    for (const unit_def *d = k->units; d->name; d++)
      if (strlen(d->name) == ulen && !g_ascii_strncasecmp(d->name, u, ulen)) {
        factor = d->factor;
        break;
      }
    if (factor == 0) return fail(k, why);
  }
  double r = v * factor;
  if (!isfinite(r) || fabs(r) >= UNIT_LIMIT) {
    if (why) *why = g_strdup_printf("expected a %s below %s", k->noun, k->limit);
    return false;
  }
  *out = r;
  return true;
}

char *unit_format(unit_kind kind, double value) {
  g_assert((unsigned)kind < G_N_ELEMENTS(kinds));
  /* The ladder of units to show, smallest first: the largest that keeps the value >= 1. */
  static const char *const bytes_show[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB", NULL};
  static const char *const time_show[] = {"ns", "us", "ms", "s", "min", "h", NULL};
  static const char *const freq_show[] = {"Hz", "kHz", "MHz", "GHz", NULL};
  static const char *const bitrate_show[] = {"bps", "Kbps", "Mbps", "Gbps", "Tbps", NULL};
  static const char *const *const show[] = {
      [UNIT_BYTES] = bytes_show, [UNIT_TIME] = time_show, [UNIT_FREQ] = freq_show,
      [UNIT_BITRATE] = bitrate_show};
  const kind_def *k = &kinds[kind];
  const char *best = show[kind][0];
  double best_factor = 1.0;
  /* Zero has no largest unit: it is shown in the unit a bare number means ("0 s"). */
  for (const char *const *s = show[kind]; *s; s++)
    for (const unit_def *d = k->units; d->name; d++)
      if (!strcmp(d->name, *s) &&
          (value == 0 ? d->factor == k->bare : fabs(value) >= d->factor)) {
        best = *s;
        best_factor = d->factor;
      }
  char num[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(num, sizeof num, "%.4g", value / best_factor);
  return g_strdup_printf("%s %s", num, best);
}
