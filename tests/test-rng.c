/* test-rng.c — per-entity random streams (sim/rng.c): reproducibility, independence of
 * streams from one another, and the spread of derived seeds. */
#include <glib.h>
#include <string.h>

#include "sim/rng.h"

/* ---- sim_rng_derive ---- */

/* The construction rng.c documents, derive(seed, path) = mix(fnv1a(path) ^ mix(seed + gamma)),
 * checked against published test vectors of its two parts rather than against its own output:
 * FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c and of "foobar" 0x85944171f73967e8 (the FNV test
 * suite, isthe.com/chongo/tech/comp/fnv), and splitmix64 started at 0 outputs
 * 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f (Vigna's splitmix64.c). */
static uint64_t ref_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static void test_derive_matches_published_fnv1a_and_splitmix64(void) {
  const uint64_t gamma = UINT64_C(0x9e3779b97f4a7c15);
  /* First make sure the test's own mix is splitmix64's finalizer. */
  g_assert_cmphex(ref_mix(1 * gamma), ==, UINT64_C(0xe220a8397b1dcdaf));
  g_assert_cmphex(ref_mix(2 * gamma), ==, UINT64_C(0x6e789e6aa1b965f4));
  g_assert_cmphex(ref_mix(3 * gamma), ==, UINT64_C(0x06c45d188009454f));
  /* Seed 0: the inner mix is splitmix64's first output. */
  g_assert_cmphex(sim_rng_derive(0, "a"), ==,
                  ref_mix(UINT64_C(0xaf63dc4c8601ec8c) ^ UINT64_C(0xe220a8397b1dcdaf)));
  /* Seed gamma: the inner mix is its second output. */
  g_assert_cmphex(sim_rng_derive(gamma, "foobar"), ==,
                  ref_mix(UINT64_C(0x85944171f73967e8) ^ UINT64_C(0x6e789e6aa1b965f4)));
  /* The empty path hashes to FNV's offset basis. */
  g_assert_cmphex(sim_rng_derive(0, ""), ==,
                  ref_mix(UINT64_C(0xcbf29ce484222325) ^ UINT64_C(0xe220a8397b1dcdaf)));
}

static void test_derive_same_inputs_same_value(void) {
  g_assert_cmphex(sim_rng_derive(42, "esx01/vESX1/web1"), ==, sim_rng_derive(42, "esx01/vESX1/web1"));
}

/* Checks that a set of n derived values looks like n independent uniform 64-bit words:
 * all distinct, each bit set in about half of them. For n = 4096 the count of ones in a bit
 * is Binomial(4096, 1/2): mean 2048, standard deviation 32; the bound of 6 standard
 * deviations (+-192) is never crossed by a good mix and would be by any bit that a plain
 * FNV-1a or a raw seed leaves biased. */
static void assert_spread(const uint64_t *v, size_t n) {
  GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (size_t i = 0; i < n; i++) {
    g_assert_false(g_hash_table_contains(seen, &v[i]));
    g_hash_table_add(seen, (gpointer)&v[i]);
  }
  g_hash_table_destroy(seen);
  for (int bit = 0; bit < 64; bit++) {
    size_t ones = 0;
    for (size_t i = 0; i < n; i++) ones += (v[i] >> bit) & 1;
    g_assert_cmpint((int)ones, >=, (int)n / 2 - 192);
    g_assert_cmpint((int)ones, <=, (int)n / 2 + 192);
  }
}

/* The average number of differing bits between neighbours (v[i], v[i+1]): 32 for unrelated
 * words. Each distance is Binomial(64, 1/2) with standard deviation 4, so over 4095 pairs the
 * mean has a standard deviation of 0.06; +-1 is 16 of them. */
static void assert_avalanche(const uint64_t *v, size_t n) {
  double total = 0;
  for (size_t i = 0; i + 1 < n; i++) total += __builtin_popcountll(v[i] ^ v[i + 1]);
  double mean = total / (double)(n - 1);
  g_assert_cmpfloat(mean, >, 31.0);
  g_assert_cmpfloat(mean, <, 33.0);
}

static void test_derive_spreads_similar_names(void) {
  enum { N = 4096 };
  uint64_t *v = g_new(uint64_t, N);
  /* Names differing only in a trailing counter, the usual shape of a scenario's loops. */
  for (size_t i = 0; i < N; i++) {
    g_autofree char *path = g_strdup_printf("esx01/vESX%zu/web1", i);
    v[i] = sim_rng_derive(1, path);
  }
  assert_spread(v, N);
  assert_avalanche(v, N);
  for (size_t i = 0; i < N; i++) {
    g_autofree char *path = g_strdup_printf("dc/host/vm%zu", i);
    v[i] = sim_rng_derive(1, path);
  }
  assert_spread(v, N);
  assert_avalanche(v, N);
  g_free(v);
}

static void test_derive_spreads_nearby_seeds(void) {
  enum { N = 4096 };
  uint64_t *v = g_new(uint64_t, N);
  for (size_t i = 0; i < N; i++) v[i] = sim_rng_derive(i, "esx01/vESX1/web1");
  assert_spread(v, N);
  assert_avalanche(v, N);
  g_free(v);
}

/* ---- streams ---- */

static void test_stream_same_seed_and_path_same_draws(void) {
  gsl_rng *a = sim_rng_new(7, "esx01/vm1");
  gsl_rng *b = sim_rng_new(7, "esx01/vm1");
  for (int i = 0; i < 1000; i++) g_assert_cmpuint(gsl_rng_get(a), ==, gsl_rng_get(b));
  gsl_rng_free(a);
  gsl_rng_free(b);
}

/* Counts equal draws at equal positions among 1000 draws of two streams. Two unrelated
 * 32-bit streams agree at a position with probability 2^-32, so a single coincidence in
 * 1000 is already a 1-in-4-million event: the test asks for none. */
static int coincidences(gsl_rng *a, gsl_rng *b) {
  int same = 0;
  for (int i = 0; i < 1000; i++) same += gsl_rng_get(a) == gsl_rng_get(b);
  return same;
}

static void test_stream_other_seed_different_draws(void) {
  gsl_rng *a = sim_rng_new(7, "esx01/vm1");
  gsl_rng *b = sim_rng_new(8, "esx01/vm1");
  g_assert_cmpint(coincidences(a, b), ==, 0);
  gsl_rng_free(a);
  gsl_rng_free(b);
}

static void test_stream_other_path_different_draws(void) {
  gsl_rng *a = sim_rng_new(7, "esx01/vm1");
  gsl_rng *b = sim_rng_new(7, "esx01/vm2");
  g_assert_cmpint(coincidences(a, b), ==, 0);
  gsl_rng_free(a);
  gsl_rng_free(b);
}

/* Draws `per` values from each named stream, round-robin, and returns those of `watch`. */
static GArray *draws_of(uint64_t seed, const char *const *names, size_t n, const char *watch,
                        int per) {
  gsl_rng **r = g_new(gsl_rng *, n);
  for (size_t i = 0; i < n; i++) r[i] = sim_rng_new(seed, names[i]);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(unsigned long));
  for (int k = 0; k < per; k++)
    for (size_t i = 0; i < n; i++) {
      unsigned long x = gsl_rng_get(r[i]);
      if (!strcmp(names[i], watch)) g_array_append_val(out, x);
    }
  for (size_t i = 0; i < n; i++) gsl_rng_free(r[i]);
  g_free(r);
  return out;
}

static void test_stream_adding_an_entity_leaves_others_unchanged(void) {
  /* The same three entities, then a fourth inserted in the middle, created and drawn from
   * in a different order: web2's draws must not change, because its stream depends on the
   * run seed and its own name only. */
  const char *const before[] = {"esx01/web1", "esx01/web2", "esx01/db1"};
  const char *const after[] = {"esx01/db1", "esx01/new", "esx01/web1", "esx01/web2"};
  GArray *a = draws_of(99, before, G_N_ELEMENTS(before), "esx01/web2", 200);
  GArray *b = draws_of(99, after, G_N_ELEMENTS(after), "esx01/web2", 200);
  g_assert_cmpuint(a->len, ==, 200);
  g_assert_cmpmem(a->data, a->len * sizeof(unsigned long), b->data, b->len * sizeof(unsigned long));
  g_array_free(a, TRUE);
  g_array_free(b, TRUE);
}

static void test_stream_many_streams_all_differ(void) {
  /* 2 * 10^5 streams (a large datacenter's vCPUs), compared by their first two draws (64
   * bits). With 64-bit derived seeds and the full 88-bit taus2 state, the chance that any
   * two agree is about n^2/2 / 2^64 = 10^-9. Had the streams been seeded through
   * gsl_rng_set, which keeps 32 bits of the seed, about n^2/2 / 2^32 = 4.7 pairs would be
   * identical (and a test failure near certain). */
  enum { N = 200000 };
  GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
  uint64_t *first = g_new(uint64_t, N);
  for (size_t i = 0; i < N; i++) {
    char path[32];
    g_snprintf(path, sizeof path, "dc/h%zu/vcpu%zu", i / 128, i % 128);
    gsl_rng *r = sim_rng_new(2024, path);
    uint64_t hi = gsl_rng_get(r);
    first[i] = hi << 32 | gsl_rng_get(r);
    gsl_rng_free(r);
    g_assert_false(g_hash_table_contains(seen, &first[i]));
    g_hash_table_add(seen, &first[i]);
  }
  g_hash_table_destroy(seen);
  g_free(first);
}

static void test_stream_draws_are_uniform(void) {
  /* A sanity check that the state seeded directly is a working taus2: the mean of 10^5
   * uniform (0,1) draws is 1/2 with standard deviation sqrt(1/12 / 10^5) = 0.00091; +-0.005
   * is 5.5 of them. The stream at derived value 0 is not reachable by choice, so the empty
   * path with seed 0 stands in for "an arbitrary edge of the input space". */
  gsl_rng *r = sim_rng_new(0, "");
  double sum = 0;
  for (int i = 0; i < 100000; i++) sum += gsl_rng_uniform(r);
  g_assert_cmpfloat_with_epsilon(sum / 100000, 0.5, 0.005);
  g_assert_cmpstr(gsl_rng_name(r), ==, "taus2");
  gsl_rng_free(r);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rng/derive/matches-published-fnv1a-and-splitmix64", test_derive_matches_published_fnv1a_and_splitmix64);
  g_test_add_func("/rng/derive/same-inputs-same-value", test_derive_same_inputs_same_value);
  g_test_add_func("/rng/derive/spreads-similar-names", test_derive_spreads_similar_names);
  g_test_add_func("/rng/derive/spreads-nearby-seeds", test_derive_spreads_nearby_seeds);
  g_test_add_func("/rng/stream/same-seed-and-path-same-draws", test_stream_same_seed_and_path_same_draws);
  g_test_add_func("/rng/stream/other-seed-different-draws", test_stream_other_seed_different_draws);
  g_test_add_func("/rng/stream/other-path-different-draws", test_stream_other_path_different_draws);
  g_test_add_func("/rng/stream/adding-an-entity-leaves-others-unchanged", test_stream_adding_an_entity_leaves_others_unchanged);
  g_test_add_func("/rng/stream/two-hundred-thousand-streams-all-differ", test_stream_many_streams_all_differ);
  g_test_add_func("/rng/stream/draws-are-uniform", test_stream_draws_are_uniform);
  return g_test_run();
}
