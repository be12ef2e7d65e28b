/* disk.h — datastores: capacity with thick and thin provisioning, and a latency model in which
 * every I/O of every VM disk and swap file on a datastore waits in one M/M/c queue.
 *
 * A datastore is c identical servers (spindles, or the parallel channels of a flash device)
 * with exponential service of mean s, fed by Poisson arrivals. The memory model asks it, once
 * per tick, for the response time a swap-in would see at a given load (the Erlang C closed
 * form); it never simulates single I/Os, which would cost an event per page at the swap rates
 * of a thrashing host. When the offered load exceeds the servers' capacity the excess piles up
 * as a fluid backlog that every later request waits behind, so an overloaded datastore shows
 * latency growing with time instead of an infinity. */
#ifndef NESTSIM_MODELS_DISK_H
#define NESTSIM_MODELS_DISK_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum { DSK_HDD, DSK_SSD } dsk_media;

/* ---- Closed forms (exact results the tests compare against) ---- */

/* Erlang C: the probability that an arrival waits in an M/M/c queue with `servers` servers and
 * offered load `erlangs` = lambda x s; 1 when erlangs >= servers. */
double dsk_erlang_c(int servers, double erlangs);

/* Mean time an I/O waits in the queue before service (Wq) in an M/M/c queue; INFINITY when the
 * load is at or beyond capacity (lambda x s >= servers). */
double dsk_mmc_wait_s(int servers, double service_s, double lambda);

/* Mean service time of one random I/O on a rotating disk: an average seek plus half a
 * revolution (the textbook IOPS estimate 1 / (seek + rotational latency)). */
double dsk_hdd_service_s(double rpm, double seek_s);

/* The default service time and server count of a medium (see disk.c for their sources). */
void dsk_media_defaults(dsk_media media, double *service_s, int *servers);

/* ---- A datastore ---- */

typedef struct dsk_store dsk_store;

/* service_s <= 0 or servers <= 0: the medium's default. */
dsk_store *dsk_new(const char *name, uint64_t capacity_bytes, dsk_media media, double service_s,
                   int servers); /* transfer full */
void dsk_free(dsk_store *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(dsk_store, dsk_free)

const char *dsk_name(const dsk_store *d);
dsk_media dsk_get_media(const dsk_store *d);
double dsk_service_s(const dsk_store *d);
int dsk_servers(const dsk_store *d);
/* I/Os per second the servers complete when always busy: servers / service_s. */
double dsk_capacity_iops(const dsk_store *d);

/* Space. A thick file takes its whole size at creation; a thin one takes what has been
 * written to it (`written_bytes` <= size). Swap files are created thick (ESXi creates a VM's
 * .vswp of configured memory minus reservation at power-on). */
void dsk_place(dsk_store *d, uint64_t size_bytes, bool thin, uint64_t written_bytes);
uint64_t dsk_capacity_bytes(const dsk_store *d);
uint64_t dsk_provisioned_bytes(const dsk_store *d);  /* sum of the sizes of every file */
uint64_t dsk_allocated_bytes(const dsk_store *d);    /* thick sizes + thin written bytes */

/* Load over one tick. dsk_tick_begin forgets the previous tick's open load; the memory model
 * then adds every open stream (VM disk I/O, swap-out writes, double-paging reads) in I/Os per
 * second, asks for response times at candidate closed loads (swap-ins, whose rate falls as
 * their latency rises) and finally records what the tick carried. */
void dsk_tick_begin(dsk_store *d);
void dsk_add_load(dsk_store *d, double iops);
double dsk_open_load(const dsk_store *d);
/* Spare throughput below a utilisation ceiling: max(0, util_max x capacity - open load). */
double dsk_spare_iops(const dsk_store *d, double util_max);
/* Mean response time (queueing + service) of an I/O arriving while `extra_iops` join the open
 * load, including the wait behind any backlog. Finite always. */
double dsk_response_s(const dsk_store *d, double extra_iops);
/* Ends a tick of dt seconds that carried `reads` and `writes` I/Os in all, at a mean response
 * time `response_s`: updates the backlog and the counters. */
void dsk_tick_end(dsk_store *d, double dt, double reads, double writes, double response_s);

/* Counters since creation or the last dsk_reset_stats. */
typedef struct dsk_stats {
  double reads, writes;     /* I/Os */
  double busy_s;            /* seconds of elapsed time covered */
  double latency_sum_s;     /* sum over I/Os of their response time */
  double wait_sum_s;        /* sum over I/Os of their time in the queue */
  double backlog;           /* I/Os waiting beyond capacity now */
} dsk_stats;
void dsk_get_stats(const dsk_store *d, dsk_stats *out);
void dsk_reset_stats(dsk_store *d);

#endif
