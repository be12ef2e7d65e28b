/* run.c — wires a topology to the engine and the models, samples them at every interval, and
 * stops at the end of the run. */
#include "src/run.h"

#include "models/cpu.h"
#include "models/mem.h"
#include "models/net.h"
#include "sim/engine.h"

/* Every model of a run, in the order they are built and sampled. */
static const mdl_ops *const models[] = {&cpu_model, &mem_model, &net_model};
enum { N_MODELS = G_N_ELEMENTS(models) };

/* The sampler is the run's own entity: one event at each interval boundary and one at the end
 * of warm-up. */
typedef struct sampler {
  sim_entity ent;
  sim_event tick;
  sim_event warm;
  sim_time interval, last, end;
  void *state[N_MODELS];
} sampler;

enum { TAG_TICK, TAG_WARM };

static void sampler_handle(sim_engine *eng, sim_entity *self, sim_event *ev) {
  sampler *s = SIM_CONTAINER_OF(self, sampler, ent);
  sim_time now = sim_now(eng);
  if (ev->tag == TAG_WARM) {
    for (int i = 0; i < N_MODELS; i++)
      if (models[i]->reset) models[i]->reset(s->state[i], now);
    return;
  }
  for (int i = 0; i < N_MODELS; i++)
    if (models[i]->sample) models[i]->sample(s->state[i], s->last, now);
  s->last = now;
  if (now < s->end) sim_schedule(eng, &s->tick, MIN(now + s->interval, s->end));
}

static const sim_entity_type sampler_type = {.kind = "sampler", .handle = sampler_handle};

gboolean run_scenario(const topo_scenario *scn, GPtrArray *trace_paths, met_table *met,
                      run_result *res, GError **error) {
  g_assert(scn->duration_ns > 0 && scn->interval_ns > 0);
  sim_engine *eng = sim_engine_new();
  mdl_run run = {
      .eng = eng,
      .scn = scn,
      .met = met,
      .seed = scn->seed,
      .warmup = scn->warmup_ns,
      .end = scn->warmup_ns + scn->duration_ns,
      .trace_paths = trace_paths,
      .trace = trace_paths && trace_paths->len ? g_string_new("")
                                               : NULL,
  };
  sampler s = {.ent = {&sampler_type}, .interval = scn->interval_ns, .last = 0, .end = run.end};
  gboolean ok = TRUE;
  int built = 0;
  for (; built < N_MODELS; built++) {
    s.state[built] = models[built]->create(&run, error);
    if (!s.state[built]) {
      ok = FALSE;
      break;
    }
    /* The CPU model is built first; the others slow VMs down through it. */
    if (models[built] == &cpu_model) run.cpu = s.state[built];
  }
  if (ok) {
    /* The sampler's events are scheduled after the models' first events, so at an interval
     * boundary every model event due at that instant has run before the sample is taken. */
    sim_event_init(&s.tick, &s.ent, TAG_TICK);
    sim_event_init(&s.warm, &s.ent, TAG_WARM);
    if (run.warmup > 0) sim_schedule(eng, &s.warm, run.warmup);
    sim_schedule(eng, &s.tick, MIN(s.interval, run.end));
    sim_run_until(eng, run.end);
    for (int i = 0; i < N_MODELS; i++)
      if (models[i]->finish) models[i]->finish(s.state[i], run.end);
  }
  for (int i = built - 1; i >= 0; i--) models[i]->destroy(s.state[i]);
  res->events = sim_events_done(eng);
  res->trace = run.trace;
  if (!ok && res->trace) {
    g_string_free(res->trace, TRUE);
    res->trace = NULL;
  }
  sim_engine_free(eng);
  return ok;
}
