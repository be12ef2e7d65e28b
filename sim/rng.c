/* rng.c — per-entity GSL random streams, each derived from the run seed and the entity's path
 * name alone, so that a stream does not depend on which other entities exist or in which
 * order they were created.
 *
 * Deriving a seed. The path is hashed with 64-bit FNV-1a: byte-wise, no length needed, and
 * every byte changes the hash. FNV-1a alone is a weak mixer, though: its last step is a
 * multiplication, so a change in the last character ("vm1" vs "vm2") reaches only the bits
 * at and above it, and the low bits of similar names stay correlated. The splitmix64
 * finalizer (Stafford's "mix13", the output function of Java's SplittableRandom) is a
 * bijection of 64-bit words in which each input bit flips each output bit with probability
 * close to 1/2; it is applied twice:
 *
 *     derive(seed, path) = mix(fnv1a(path) ^ mix(seed + golden_gamma))
 *
 * The inner mix spreads nearby run seeds (1, 2, 3 ...) over all 64 bits before they meet the
 * hash, so a change of seed cannot cancel a structured change of name; the outer mix
 * spreads the combination. Both steps are bijections for a fixed other argument, so two
 * paths collide only if their FNV-1a hashes do (about n^2 / 2^65 for n paths) and two seeds
 * never collide for the same path.
 *
 * Seeding taus2. gsl_rng_set(taus2, s) keeps only the low 32 bits of s (its seeding LCG is
 * computed modulo 2^32) and maps s = 0 onto s = 1. With 32-bit seeds, 10^5 streams — one
 * per vCPU in a large datacenter — would contain on average one pair of identical streams
 * (birthday bound n^2 / 2^33). So the three 32-bit components of the taus2 state are filled
 * directly, through GSL's documented gsl_rng_state accessor, from a splitmix64 sequence
 * started at the derived 64-bit value, redrawing the rare values below taus2's minimums
 * (s1 >= 2, s2 >= 8, s3 >= 16, L'Ecuyer 1996). Every 64-bit derived value, 0 included, thus
 * gives a valid state, and distinct values give distinct streams. */
#include "sim/rng.h"

#include <glib.h>

#define FNV64_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV64_PRIME UINT64_C(0x100000001b3)
#define GOLDEN_GAMMA UINT64_C(0x9e3779b97f4a7c15)

/* The splitmix64 finalizer. */
static uint64_t rng_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

uint64_t sim_rng_derive(uint64_t run_seed, const char *path) {
  g_assert(path != NULL);
  uint64_t h = FNV64_OFFSET;
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    h ^= *p;
    h *= FNV64_PRIME;
  }
  return rng_mix(h ^ rng_mix(run_seed + GOLDEN_GAMMA));
}

/* The next 32-bit word of a splitmix64 sequence that is at least `min`. */
static unsigned long rng_component(uint64_t *state, unsigned long min) {
  for (;;) {
    *state += GOLDEN_GAMMA;
    unsigned long v = (unsigned long)(rng_mix(*state) >> 32);
    if (v >= min) return v;
  }
}

gsl_rng *sim_rng_new(uint64_t run_seed, const char *path) {
  gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
  if (!r) g_error("%s:%d: out of memory allocating a random stream", __FILE__, __LINE__);
  /* GSL's taus2 state is three unsigned longs, each used modulo 2^32. A different layout
   * would mean a different GSL: refuse rather than seed it wrongly. */
  if (gsl_rng_size(r) != 3 * sizeof(unsigned long))
    g_error("%s:%d: GSL's taus2 state is %zu bytes, expected 3 unsigned longs; this GSL "
            "changed its layout — update sim_rng_new to seed it with gsl_rng_set",
            __FILE__, __LINE__, gsl_rng_size(r));
  unsigned long *s = gsl_rng_state(r);
  uint64_t sm = sim_rng_derive(run_seed, path);
  s[0] = rng_component(&sm, 2);
  s[1] = rng_component(&sm, 8);
  s[2] = rng_component(&sm, 16);
  return r;
}
