/* test-units.c — parsing and formatting of scenario quantities (src/units.c). Expected values
 * are the definitions of the units: sizes in powers of 1024 (as vSphere shows memory and
 * disks), bit rates in powers of 1000 (as NIC speeds are quoted), times to nanoseconds,
 * frequencies to Hz. */
#include <glib.h>
#include <math.h>

#include "src/units.h"

/* Parses text that must be valid and returns the value. */
static double parse_ok(unit_kind kind, const char *text) {
  double v = -1;
  char *why = NULL;
  gboolean ok = unit_parse(kind, text, &v, &why);
  if (!ok) g_test_message("'%s' failed: %s", text, why);
  g_assert_true(ok);
  g_assert_null(why);
  return v;
}

/* Parses text that must be rejected and returns the reason (caller frees). */
static char *parse_bad(unit_kind kind, const char *text) {
  double v = -1;
  char *why = NULL;
  gboolean ok = unit_parse(kind, text, &v, &why);
  if (ok) g_test_message("'%s' was accepted as %g", text, v);
  g_assert_false(ok);
  g_assert_cmpfloat(v, ==, -1); /* *out is left alone on failure */
  g_assert_nonnull(why);
  return why;
}

static void test_bytes(void) {
  /* 1 KB = 1024 B, and each step up multiplies by 1024. */
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "7B"), ==, 7);
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "1.5KB"), ==, 1536);
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "4MB"), ==, 4.0 * 1048576);
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "32GB"), ==, 32.0 * 1073741824);
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "1TB"), ==, 1099511627776.0);
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "2PB"), ==, 2.0 * 1125899906842624.0);
  /* IEC spellings mean the same. */
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "512MiB"), ==, 512.0 * 1048576);
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "1GiB"), ==, 1073741824.0);
  /* A bare number is bytes, the base unit. */
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "4096"), ==, 4096);
}

static void test_time(void) {
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "250ns"), ==, 250);
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "1us"), ==, 1e3);
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "1\xc2\xb5s"), ==, 1e3); /* µs */
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "50ms"), ==, 50e6);
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "3s"), ==, 3e9);
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "10min"), ==, 600e9);
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "2h"), ==, 7200e9);
  /* A bare number is seconds. */
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "2.5"), ==, 2.5e9);
}

static void test_frequency(void) {
  /* 2.6 GHz: 2.6e9 Hz up to the rounding of 2.6 in binary. */
  g_assert_cmpfloat_with_epsilon(parse_ok(UNIT_FREQ, "2.6GHz"), 2.6e9, 1e-3);
  g_assert_cmpfloat(parse_ok(UNIT_FREQ, "800MHz"), ==, 800e6);
  g_assert_cmpfloat(parse_ok(UNIT_FREQ, "1kHz"), ==, 1e3);
  g_assert_cmpfloat(parse_ok(UNIT_FREQ, "50Hz"), ==, 50);
  /* A bare number is MHz, as vSphere's reservations and limits. */
  g_assert_cmpfloat(parse_ok(UNIT_FREQ, "2600"), ==, 2.6e9);
}

static void test_bitrate(void) {
  /* Bit rates are decimal: 1 Gbps = 10^9 bit/s. */
  g_assert_cmpfloat(parse_ok(UNIT_BITRATE, "1Gbps"), ==, 1e9);
  g_assert_cmpfloat(parse_ok(UNIT_BITRATE, "100Mbps"), ==, 100e6);
  g_assert_cmpfloat(parse_ok(UNIT_BITRATE, "10Kbps"), ==, 10e3);
  g_assert_cmpfloat(parse_ok(UNIT_BITRATE, "9600bps"), ==, 9600);
  g_assert_cmpfloat(parse_ok(UNIT_BITRATE, "9600"), ==, 9600);
}

static void test_spaces_and_case(void) {
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, " 32 GB "), ==, 32.0 * 1073741824);
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "32gb"), ==, 32.0 * 1073741824);
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "\t32\tGb"), ==, 32.0 * 1073741824);
  g_assert_cmpfloat_with_epsilon(parse_ok(UNIT_FREQ, "2.6 ghz"), 2.6e9, 1e-3);
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "50 MS"), ==, 50e6);
  g_assert_cmpfloat(parse_ok(UNIT_BITRATE, "1 GBPS"), ==, 1e9);
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "1e3ms"), ==, 1e9);
  g_assert_cmpfloat(parse_ok(UNIT_TIME, ".5s"), ==, 0.5e9);
}

static void test_bad_text(void) {
  const char *bad_sizes[] = {"", "  ", "GB", "thirty GB", "32 G B", "32GiG", "32 GBs", "0x10GB",
                             "inf", "nan", "infGB", "1e", "--1GB", "1..2GB", "32GB extra",
                             "50ms" /* a time is not a size */, "1,5GB"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad_sizes); i++) {
    g_autofree char *why = parse_bad(UNIT_BYTES, bad_sizes[i]);
    g_assert_cmpstr(why, ==, "expected a size such as \"32GB\" (units B, KB, MB, GB, TB)");
  }
  g_autofree char *t = parse_bad(UNIT_TIME, "5 parsecs");
  g_assert_cmpstr(t, ==, "expected a time such as \"50ms\" (units ns, us, ms, s, min, h)");
  g_autofree char *f = parse_bad(UNIT_FREQ, "2.6GB");
  g_assert_cmpstr(f, ==, "expected a frequency such as \"2.6GHz\" (units Hz, kHz, MHz, GHz)");
  g_autofree char *b = parse_bad(UNIT_BITRATE, "1GB");
  g_assert_cmpstr(b, ==, "expected a bit rate such as \"1Gbps\" (units bps, Kbps, Mbps, Gbps)");
  g_autofree char *n = parse_bad(UNIT_BYTES, NULL);
  g_assert_nonnull(n);
}

/* Every value must stay below 2^63 base units, so that callers can hold it in an int64. */
static void test_overflow(void) {
  /* 8 EB = 8 * 2^60 = 2^63 bytes: the first size rejected; just below passes. */
  g_autofree char *a = parse_bad(UNIT_BYTES, "8EB");
  g_assert_cmpstr(a, ==, "expected a size below 8 EB");
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "7.99EB"), <, 9223372036854775808.0);
  g_autofree char *b = parse_bad(UNIT_BYTES, "1e400GB"); /* not even a finite double */
  g_assert_cmpstr(b, ==, "expected a size below 8 EB");
  /* 2^63 ns is about 292 years = 2.56e6 hours. */
  g_autofree char *c = parse_bad(UNIT_TIME, "3e6h");
  g_assert_cmpstr(c, ==, "expected a time below 292 years");
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "2e6h"), ==, 2e6 * 3600e9);
  g_autofree char *d = parse_bad(UNIT_TIME, "-3e6h"); /* the magnitude counts */
  g_assert_cmpstr(d, ==, "expected a time below 292 years");
}

/* The sign is parsed and kept: whether a negative value makes sense is the caller's call (the
 * loader rejects negative sizes with the key's own message). */
static void test_negative(void) {
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "-4GB"), ==, -4.0 * 1073741824);
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "-1s"), ==, -1e9);
  g_assert_cmpfloat(parse_ok(UNIT_TIME, "+1s"), ==, 1e9);
  g_assert_cmpfloat(parse_ok(UNIT_BYTES, "0"), ==, 0);
}

static void assert_format(unit_kind kind, double v, const char *want) {
  g_autofree char *got = unit_format(kind, v);
  g_assert_cmpstr(got, ==, want);
}

/* The largest unit that keeps the value >= 1, four significant digits. */
static void test_format(void) {
  assert_format(UNIT_BYTES, 32.0 * 1073741824, "32 GB");
  assert_format(UNIT_BYTES, 1536, "1.5 KB");
  assert_format(UNIT_BYTES, 1000, "1000 B");
  assert_format(UNIT_BYTES, 0, "0 B");
  assert_format(UNIT_TIME, 0, "0 s"); /* zero: in the unit of a bare number */
  assert_format(UNIT_FREQ, 0, "0 MHz");
  assert_format(UNIT_BYTES, 5.0 * 1099511627776.0, "5 TB");
  assert_format(UNIT_FREQ, 2.6e9, "2.6 GHz");
  assert_format(UNIT_FREQ, 800e6, "800 MHz");
  assert_format(UNIT_TIME, 600e9, "10 min");
  assert_format(UNIT_TIME, 30e9, "30 s");
  assert_format(UNIT_TIME, 50e6, "50 ms");
  assert_format(UNIT_TIME, 7200e9, "2 h");
  assert_format(UNIT_BITRATE, 1e9, "1 Gbps");
  assert_format(UNIT_BITRATE, -1e9, "-1 Gbps");
  /* What unit_format writes, unit_parse reads back. */
  const double sizes[] = {7, 1536, 32.0 * 1073741824, 5.0 * 1099511627776.0};
  for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
    g_autofree char *s = unit_format(UNIT_BYTES, sizes[i]);
    g_assert_cmpfloat(parse_ok(UNIT_BYTES, s), ==, sizes[i]);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/units/bytes/powers-of-1024-and-bare-bytes", test_bytes);
  g_test_add_func("/units/time/to-nanoseconds-bare-is-seconds", test_time);
  g_test_add_func("/units/frequency/to-hz-bare-is-mhz", test_frequency);
  g_test_add_func("/units/bitrate/powers-of-1000", test_bitrate);
  g_test_add_func("/units/spaces-and-case-are-ignored", test_spaces_and_case);
  g_test_add_func("/units/bad-text/rejected-with-what-was-expected", test_bad_text);
  g_test_add_func("/units/overflow/rejected-at-2^63", test_overflow);
  g_test_add_func("/units/negative/sign-kept-for-the-caller", test_negative);
  g_test_add_func("/units/format/largest-unit-round-trips", test_format);
  return g_test_run();
}
