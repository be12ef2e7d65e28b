/* disk.c — datastores: space accounting and an M/M/c latency model with a fluid backlog.
 *
 * Parameters and where they come from:
 * - HDD service time: the textbook estimate of one random I/O on a rotating disk, average seek
 *   plus half a revolution (IOPS = 1 / (seek + rotational latency); e.g. the IOPS calculation
 *   in tech-jockey.blogspot.com 2016 "IOPS calculations" and the UPB "Rotational delay - IOPS
 *   calculations" lab). A 7,200 rpm disk turns once in 8.33 ms, so half a turn is 4.17 ms.
 *   The average seek time, 8.5 ms, is an ASSUMPTION (a typical 7,200 rpm SATA datasheet value;
 *   no source in reach states one for the seed's box). Together: 12.7 ms, 79 IOPS per spindle.
 * - SSD service time: 0.1 ms per 4 KB random read, one channel: an ASSUMPTION (order of
 *   magnitude of a SATA flash device at queue depth 1; no source in reach).
 * - Servers: one per datastore unless the scenario says how many spindles back it: an
 *   ASSUMPTION (the seed does not say how its 5 TB are built).
 * Every one of them can be set per datastore in the scenario. */
#include "models/disk.h"

#include <math.h>

/* A 7,200 rpm SATA disk (see the header comment): rpm is the disk's, the seek an assumption. */
#define DSK_HDD_RPM 7200.0
#define DSK_HDD_SEEK_S 8.5e-3
#define DSK_SSD_SERVICE_S 1.0e-4

/* The utilisation the latency formula is evaluated at, at most, when the load reaches the
 * capacity: beyond it the excess goes to the backlog, whose wait is added separately. */
#define DSK_RHO_CAP 0.999

struct dsk_store {
  char *name;
  dsk_media media;
  double service_s;
  int servers;
  uint64_t capacity, provisioned, allocated;
  double open_iops;  /* this tick */
  double backlog;    /* I/Os queued beyond what the servers could take */
  dsk_stats st;
};

double dsk_erlang_c(int servers, double erlangs) {
  g_assert(servers >= 1 && erlangs >= 0);
  if (erlangs >= servers) return 1.0;
  if (erlangs == 0) return 0.0;
  /* Erlang B by its recursion B(k) = a B(k-1) / (k + a B(k-1)), which never overflows, then
   * C = c B / (c - a (1 - B)). */
  double b = 1.0;
  for (int k = 1; k <= servers; k++) b = erlangs * b / (k + erlangs * b);
  return servers * b / (servers - erlangs * (1.0 - b));
}

double dsk_mmc_wait_s(int servers, double service_s, double lambda) {
  g_assert(servers >= 1 && service_s > 0 && lambda >= 0);
  double a = lambda * service_s;
  if (a >= servers) return INFINITY;
  /* Wq = C(c, a) / (c mu - lambda). */
  return dsk_erlang_c(servers, a) / (servers / service_s - lambda);
}

double dsk_hdd_service_s(double rpm, double seek_s) {
  g_assert(rpm > 0 && seek_s >= 0);
  return seek_s + 0.5 * 60.0 / rpm;
}

void dsk_media_defaults(dsk_media media, double *service_s, int *servers) {
  *service_s = media == DSK_SSD ? DSK_SSD_SERVICE_S : dsk_hdd_service_s(DSK_HDD_RPM, DSK_HDD_SEEK_S);
  *servers = 1;
}

dsk_store *dsk_new(const char *name, uint64_t capacity_bytes, dsk_media media, double service_s,
                   int servers) {
  g_assert(name);
  dsk_store *d = g_new0(dsk_store, 1);
  d->name = g_strdup(name);
  d->media = media;
  double def_s;
  int def_c;
  dsk_media_defaults(media, &def_s, &def_c);
  d->service_s = service_s > 0 ? service_s : def_s;
  d->servers = servers > 0 ? servers : def_c;
  d->capacity = capacity_bytes;
  return d;
}

void dsk_free(dsk_store *d) {
  if (!d) return;
  g_free(d->name);
  g_free(d);
}

const char *dsk_name(const dsk_store *d) { return d->name; }
dsk_media dsk_get_media(const dsk_store *d) { return d->media; }
double dsk_service_s(const dsk_store *d) { return d->service_s; }
int dsk_servers(const dsk_store *d) { return d->servers; }
double dsk_capacity_iops(const dsk_store *d) { return d->servers / d->service_s; }

void dsk_place(dsk_store *d, uint64_t size_bytes, bool thin, uint64_t written_bytes) {
  g_assert(written_bytes <= size_bytes);
  d->provisioned += size_bytes;
  d->allocated += thin ? written_bytes : size_bytes;
}

uint64_t dsk_capacity_bytes(const dsk_store *d) { return d->capacity; }
uint64_t dsk_provisioned_bytes(const dsk_store *d) { return d->provisioned; }
uint64_t dsk_allocated_bytes(const dsk_store *d) { return d->allocated; }

void dsk_tick_begin(dsk_store *d) { d->open_iops = 0; }

void dsk_add_load(dsk_store *d, double iops) {
  g_assert(iops >= 0);
  d->open_iops += iops;
}

double dsk_open_load(const dsk_store *d) { return d->open_iops; }

double dsk_spare_iops(const dsk_store *d, double util_max) {
  double spare = util_max * dsk_capacity_iops(d) - d->open_iops;
  return spare > 0 ? spare : 0;
}

double dsk_response_s(const dsk_store *d, double extra_iops) {
  double cap = dsk_capacity_iops(d);
  double lambda = MIN(d->open_iops + extra_iops, DSK_RHO_CAP * cap);
  /* The backlog drains at the full capacity ahead of the new arrival. */
  return d->service_s + dsk_mmc_wait_s(d->servers, d->service_s, lambda) + d->backlog / cap;
}

void dsk_tick_end(dsk_store *d, double dt, double reads, double writes, double response_s) {
  g_assert(dt > 0 && reads >= 0 && writes >= 0 && response_s >= 0);
  double cap = dsk_capacity_iops(d);
  double arrivals = reads + writes;
  /* Fluid backlog: what arrived beyond what the servers could complete stays queued. */
  d->backlog = MAX(0.0, d->backlog + arrivals - cap * dt);
  d->st.reads += reads;
  d->st.writes += writes;
  d->st.busy_s += dt;
  d->st.latency_sum_s += arrivals * response_s;
  d->st.wait_sum_s += arrivals * MAX(0.0, response_s - d->service_s);
  d->st.backlog = d->backlog;
}

void dsk_get_stats(const dsk_store *d, dsk_stats *out) { *out = d->st; }

void dsk_reset_stats(dsk_store *d) {
  double backlog = d->backlog;
  d->st = (dsk_stats){.backlog = backlog};
}
