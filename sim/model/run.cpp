#include "sim/model/run.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "sim/model/engine.h"
#include "sim/model/random.h"
#include "sim/model/router.h"
#include "sim/model/serving.h"
#include "sim/model/traffic.h"

namespace canarysim {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPromoted: return "promoted";
    case Outcome::kRolledBack: return "rolled_back";
    case Outcome::kUnfinished: return "unfinished";
  }
  return "?";
}

namespace {

enum EventType : uint32_t {
  kArrival, kTick, kShape, kDrained, kIteration, kScale, kGolden, kEnd, kDrainStart, kApplyWeight
};
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kVersions = 2;

int index_of(Version v) { return static_cast<int>(v); }

// A request's patience percentile: from its own seed, so that no random stream shifts.
double patience_uniform(const Request& r) {
  return (static_cast<double>(mix64(r.embedding_seed ^ 0x243f6a8885a308d3ULL) >> 11) + 0.5) * 0x1.0p-53;
}

// What the active regressions do to one request on one version.
struct Effects {
  double ttft = 1, itl = 1;             // per-request latency multipliers
  double tail_probability = 0, tail_multiplier = 1;
  double error_set = -1, error_added = 0;
  double quality_drop = 0, hallucination_added = 0, unsafe_added = 0;
  double drift = 0, output = 1, cost = 1;
  double cache_hit = 1;  // multiplies the prompt's cached share
  bool hit = false;  // in scope of a regression that makes the canary bad
};

// A request inside a batched pool: what its completion needs besides the pool's timing.
struct InFlight {
  Version version;
  double arrival;             // at the front door
  PathTimes paths;                 // topology around the model
  double ttft_mult, itl_mult;      // per-request latency effects
  Completion outcome;              // all but the timings
  uint64_t embedding_seed;
  double drift;
  bool user_facing;                // a user's request (not a shadow copy)
};

}  // namespace

struct Simulator::Impl final : CompletionSink {
  Impl(const Scenario& full, const PolicyConfig& p)
      : simulated(shrink(full, p)),
        sc(simulated),
        pc(p),
        telemetry(sc.telemetry, p.max_lookback_s(), kMaxRecordedLatencyS),
        traffic(sc.traffic),
        users_hit((sc.traffic.users + 63) / 64),
        regs(sc.regressions.size()) {
    for (const Regression& g : sc.regressions) has_bad_release |= !g.shared;
    router.configure(sc.traffic.segments, sc.routing);
    const VersionSpec* specs[kVersions] = {&sc.baseline, &sc.canary};
    for (int v = 0; v < kVersions; ++v) {
      if (specs[v]->serving.batched)
        pools[v] = std::make_unique<BatchingPool>(specs[v]->serving.batching, engine, kIteration,
                                                  static_cast<uint32_t>(v), *this);
    }
  }

  const Scenario simulated;  // the scenario, or its scaled-down copy (sim/model/fidelity.h)
  const Scenario& sc;
  const PolicyConfig& pc;
  Engine engine;
  Telemetry telemetry;
  TrafficSource traffic;
  Router router;
  std::unique_ptr<BatchingPool> pools[kVersions];
  std::vector<uint64_t> users_hit;  // bitmap: users served by a bad canary

  struct RegressionState {
    double onset = kInf;  // when it started in this run
    double intensity = 0;
  };
  std::vector<RegressionState> regs;
  std::vector<uint32_t> active;  // regressions with intensity > 0, in scenario order
  double bad_since = kInf;       // earliest onset of a canary-specific regression
  bool has_bad_release = false;  // the scenario has a canary-specific regression
  bool promoted = false;         // counting a promoted bad canary's exposure until the end

  std::unique_ptr<Policy> policy;
  Rng golden{0, 0, Stream::kGolden};
  Request next;  // the request whose arrival event is pending
  std::vector<InFlight> inflight;
  // Slots of inflight free for reuse, by version: a pool reuses its own, whose
  // bookkeeping it touched last and so is still in cache (the other pool's is not).
  std::vector<uint32_t> free_slots[kVersions];
  double drain_s = 0;
  double canary_scale = 0;  // > 0: the canary pool is sized for this share of the fleet
  // Sampled versions' fleets (VersionSpec::replicas): replicas running, and their seconds.
  uint32_t fleet[kVersions] = {0, 0};
  double fleet_seconds[kVersions] = {0, 0}, fleet_since = 0;
  double pending_weight = -1;  // prescale: the weight to shift to once the canary is ready
  uint64_t ticks = 0;       // analysis ticks taken this run
  RunResult result;
  std::vector<TracePoint>* trace = nullptr;

  RunResult run(uint64_t seed, uint64_t run_index);
  // The canary serves only `segments` from now on (empty: the scenario's routing).
  void restrict_segments(const std::vector<std::string>& segments) {
    RoutingSpec r = sc.routing;
    if (!segments.empty() && segments.front() != "*") r.only = segments;
    router.configure(sc.traffic.segments, r);
  }
  void on_golden();
  void on_arrival();
  void draw_next_arrival(double now);  // the next request, and its arrival event
  void serve(Version v, const Request& r, bool user_facing);
  void on_tick();
  void on_shape(uint32_t regression);
  void on_scale(uint32_t target);
  void set_fleet(int v, uint32_t n);
  void account_fleets();
  void start_drain();
  void apply_weight(double weight);
  void finish(Outcome outcome);

  Effects effects_for(Version v, const Request& r) const;
  void apply_pool_effects();
  void start_regressions_at_weight(double weight);
  void rescale(double weight, double delay);
  void completed(const Job& job, double first_token, double done, Failure failure) override;
  void preempted(const Job& job) override;
  void leaving_soon(uint32_t id) override { prefetch(&inflight[id]); }
  void token_gaps(uint32_t pool_id, double gap, uint64_t n) override {
    telemetry.record_token_gaps(static_cast<Version>(pool_id), engine.now(), gap, n);
  }
  void count_exposure(const Request& r);
  void scale_to_fleet(uint32_t w);
  void count_failure(Version v, const Completion& c, bool user_facing);
  const VersionSpec& spec(Version v) const { return v == Version::kCanary ? sc.canary : sc.baseline; }
  SliSnapshot snapshot(Version v) const;
};

Simulator::Simulator(const Scenario& s, const PolicyConfig& p)
    : impl_(std::make_unique<Impl>(s, p)) {}
Simulator::~Simulator() = default;

RunResult Simulator::run(uint64_t seed, uint64_t run, std::vector<TracePoint>* trace) {
  impl_->trace = trace;
  return impl_->run(seed, run);
}

RunResult Simulator::Impl::run(uint64_t seed, uint64_t run_index) {
  engine.reset();
  telemetry.reset();
  traffic.reset(seed, run_index);
  std::fill(users_hit.begin(), users_hit.end(), 0);
  policy = pc.make();
  restrict_segments(policy->initial_segments());
  router.reset(Rng(seed, run_index, Stream::kUsers).next(), policy->initial_weight(),
               policy->initial_mirror());
  std::fill(regs.begin(), regs.end(), RegressionState{});
  active.clear();
  bad_since = kInf;
  inflight.clear();
  for (auto& slots : free_slots) slots.clear();
  drain_s = 0;
  canary_scale = 0;
  promoted = false;
  pending_weight = -1;
  fleet[0] = fleet[1] = 0;
  fleet_seconds[0] = fleet_seconds[1] = 0;
  fleet_since = 0;
  result = RunResult{};
  result.run = run_index;
  result.segment_blast_requests.assign(sc.traffic.segments.size(), 0);
  result.segment_blast_users.assign(sc.traffic.segments.size(), 0);
  rescale(router.weight(), /*delay=*/-1);
  if (trace) trace->push_back({0, router.weight(), "set_weight", "initial weight", {}, {}});

  // Onsets first, so that a regression at time 0 is in force for the first request.
  for (uint32_t i = 0; i < sc.regressions.size(); ++i)
    if (sc.regressions[i].onset_weight < 0) engine.schedule_at(sc.regressions[i].onset_s, kShape, i);
  start_regressions_at_weight(router.weight());
  draw_next_arrival(0);
  ticks = 0;
  engine.schedule_at(pc.interval_s(), kTick);
  golden = Rng(seed, run_index, Stream::kGolden);
  if (sc.telemetry.golden_every_s > 0) engine.schedule(sc.telemetry.golden_every_s, kGolden);

  engine.run(sc.horizon_s, [this](const Event& e) {
    // Most events are replica iterations: tested first, a branch instead of the table's jump.
    if (e.type == kIteration) [[likely]] {
      return pools[BatchingPool::pool_of(e.target)]->on_event(BatchingPool::target_of(e.target));
    }
    switch (e.type) {
      case kArrival: on_arrival(); break;
      case kTick: on_tick(); break;
      case kShape: on_shape(e.target); break;
      case kScale: on_scale(e.target); break;
      case kDrained: finish(Outcome::kRolledBack); break;
      case kGolden: on_golden(); break;
      case kEnd: engine.stop(); break;
      case kDrainStart: start_drain(); break;
      case kApplyWeight:
        if (pending_weight >= 0) apply_weight(pending_weight);
        break;
    }
  });

  if (result.outcome == Outcome::kUnfinished) {
    if (!std::isnan(result.decision_time_s)) {
      finish(Outcome::kRolledBack);  // the horizon cut a rollback's drain short
    } else {
      result.regression_active = bad_since <= engine.now();
    }
  }
  result.events = engine.processed();
  for (uint64_t word : users_hit) result.blast_radius_users += std::popcount(word);
  scale_to_fleet(sc.fidelity.sample);
  // Token costs were added request by request; replica costs are added here.
  account_fleets();
  for (int v = 0; v < kVersions; ++v) {
    const double rs = pools[v] ? pools[v]->replica_seconds() * sc.fidelity.sample : fleet_seconds[v];
    (v ? result.canary_replica_seconds : result.baseline_replica_seconds) = rs;
    if (pools[v]) result.gpu_hours += rs / 3600 * spec(static_cast<Version>(v)).serving.batching.gpus;
    (v ? result.canary_cost : result.baseline_cost) +=
        rs / 3600 * spec(static_cast<Version>(v)).replica_hour_cost;
  }
  return result;
}

// Scaled fidelity: a 1-in-w sample's totals as estimates of the whole fleet's (each user
// is in the sample with probability 1/w). Times are not scaled; nor are the events
// simulated (work done); replica-seconds of the pools are scaled where they are added.
void Simulator::Impl::scale_to_fleet(uint32_t w) {
  if (w == 1) return;
  RunResult& r = result;
  for (uint64_t* n : {&r.blast_radius_requests, &r.blast_radius_users, &r.requests, &r.failed_requests,
                      &r.canary_requests, &r.baseline_tokens, &r.canary_tokens})
    *n *= w;
  for (const RunCount& c : kRunCounts) r.*c.field *= w;
  r.baseline_cost *= w;  // token costs so far
  r.canary_cost *= w;
  for (uint64_t& n : r.segment_blast_requests) n *= w;
  for (uint64_t& n : r.segment_blast_users) n *= w;
}

Effects Simulator::Impl::effects_for(Version v, const Request& r) const {
  Effects e;
  for (uint32_t i : active) {
    const Regression& g = sc.regressions[i];
    const double s = regs[i].intensity;
    if (!g.component.empty()) continue;  // acts in the topology pass
    if (v != Version::kCanary || !g.in_scope(r.segment, r.prompt_tokens)) continue;
    e.hit = true;
    if (g.pool_wide() && pools[index_of(v)]) continue;  // acts on the pool
    switch (g.kind) {
      case Regression::Kind::kLatency:
        e.ttft *= 1 + s * (g.ttft_multiplier - 1);
        e.itl *= 1 + s * (g.itl_multiplier - 1);
        break;
      case Regression::Kind::kTailLatency:
        e.tail_probability = std::max(e.tail_probability, s * g.tail_probability);
        e.tail_multiplier = std::max(e.tail_multiplier, g.tail_multiplier);
        break;
      case Regression::Kind::kCapacityLoss: break;
      case Regression::Kind::kErrors:
        if (g.error_rate >= 0) e.error_set = std::max(e.error_set, s * g.error_rate);
        e.error_added += s * g.added_error_rate;
        break;
      case Regression::Kind::kQuality: e.quality_drop += s * g.quality_drop; break;
      case Regression::Kind::kHallucination: e.hallucination_added += s * g.hallucination_rate; break;
      case Regression::Kind::kDrift: e.drift += s * g.drift_shift; break;
      case Regression::Kind::kVerbosity: e.output *= 1 + s * (g.output_multiplier - 1); break;
      case Regression::Kind::kUnsafe: e.unsafe_added += s * g.unsafe_rate; break;
      case Regression::Kind::kCost: e.cost *= 1 + s * (g.cost_multiplier - 1); break;
      case Regression::Kind::kKvFootprint: break;  // pool-wide
      case Regression::Kind::kPrefixCache: e.cache_hit *= 1 + s * (g.cache_hit_multiplier - 1); break;
    }
  }
  return e;
}

void Simulator::Impl::on_arrival() {
  const double now = engine.now();
  const Request r = next;
  if (promoted) {  // every request goes to the promoted canary; only exposure is counted
    count_exposure(r);
    return draw_next_arrival(now);
  }
  const Version v = router.to_canary(r.user, r.embedding_seed, r.segment, now) ? Version::kCanary : Version::kBaseline;
  serve(v, r, /*user_facing=*/true);
  // Shadow traffic: a copy of some baseline requests, answered by the canary and discarded.
  // Which requests is a hash of the request's own seed, so no random stream shifts.
  if (v == Version::kBaseline && router.mirror() > 0 &&
      to_unit(mix64(r.embedding_seed ^ 0x5bd1e9955bd1e995ULL)) < router.mirror())
    serve(Version::kCanary, r, /*user_facing=*/false);
  draw_next_arrival(now);
}

void Simulator::Impl::draw_next_arrival(double now) {
  if (!traffic.next(now, next)) return;
  engine.schedule_at(next.arrival, kArrival);
  // While a bad release is live its requests are counted in the users' bitmap, one word
  // in (users / 64), out of cache at production sizes: fetched now, an arrival ahead.
  if (bad_since <= now) __builtin_prefetch(&users_hit[next.user >> 6]);
}

// Serves request r on version v: its outcome, the components around the model, the
// accounting, and the model itself (sampled now, or queued in the version's pool).
void Simulator::Impl::serve(Version v, const Request& r, bool user_facing) {
  const double now = engine.now();
  const VersionSpec& vs = spec(v);
  const Effects e = effects_for(v, r);

  // A request a pool serves waits in an in-flight slot; its outcome is built there, in
  // place (a copy of it, just written field by field, would be read back whole before the
  // writes had landed, a stall on every request).
  BatchingPool* pool = pools[index_of(v)].get();
  uint32_t slot = 0;
  if (pool) {
    std::vector<uint32_t>& reusable = free_slots[index_of(v)];
    if (reusable.empty()) {
      slot = static_cast<uint32_t>(inflight.size());
      inflight.emplace_back();
    } else {
      slot = reusable.back();
      reusable.pop_back();
    }
  }
  Completion sampled;
  Completion& c = pool ? inflight[slot].outcome : sampled;
  c = Completion{};

  // The outcome that does not depend on timing, from the request's own draws.
  const double p_error = std::min(1.0, std::max(vs.error_rate, e.error_set) + e.error_added);
  c.error = r.u_error < p_error || r.failed;
  c.failure = c.error ? Failure::kError : Failure::kNone;
  c.adversarial = r.adversarial;
  c.unsafe = r.adversarial && r.u_unsafe < std::min(1.0, vs.unsafe_rate + e.unsafe_added);
  c.hallucinated = r.u_hallucination < std::min(1.0, vs.hallucination_rate + e.hallucination_added);
  // A sample of responses is graded (quality score) and embedded (drift), as an
  // evaluation pipeline samples them.
  c.graded = to_unit(mix64(r.embedding_seed)) < sc.telemetry.eval_sample;
  if (c.graded) {
    c.quality = std::clamp(
        vs.quality_mean - e.quality_drop + vs.quality_sd * normal_quantile(r.u_quality), 0.0, 1.0);
  }
  c.prompt_tokens = r.prompt_tokens;
  c.output_tokens = token_count(r.output_tokens * vs.output_scale * e.output);
  const uint64_t tokens = c.prompt_tokens + c.output_tokens;
  c.cost = static_cast<double>(tokens) / 1e6 * vs.million_token_cost * e.cost;
  const bool tail = r.u_tail < e.tail_probability;
  const double ttft_mult = e.ttft * (tail ? e.tail_multiplier : 1);
  const double itl_mult = e.itl * (tail ? e.tail_multiplier : 1);

  // The components around the model (see sim/model/topology.h), from the request's own stream.
  PathTimes paths;
  if (!sc.topology.empty()) {
    Rng draws(r.embedding_seed, 0, Stream::kRequests);
    double latency[Topology::kMaxComponents];
    for (size_t k = 0; k < sc.topology.components.size(); ++k) {
      const Component& comp = sc.topology.components[k];
      latency[k] = comp.latency.quantile(draws.uniform_open());
      double p_fail = comp.error_rate;
      const double u_fail = draws.uniform(), u_tail = draws.uniform();
      for (uint32_t i : active) {
        const Regression& g = sc.regressions[i];
        if (g.component != comp.name || !g.in_scope(r.segment, r.prompt_tokens)) continue;
        if (!g.shared && v != Version::kCanary) continue;
        const double s = regs[i].intensity;
        if (g.kind == Regression::Kind::kLatency) latency[k] *= 1 + s * (g.ttft_multiplier - 1);
        if (g.kind == Regression::Kind::kTailLatency && u_tail < s * g.tail_probability)
          latency[k] *= g.tail_multiplier;
        if (g.kind == Regression::Kind::kErrors)
          p_fail = std::max(p_fail, s * g.error_rate) + s * g.added_error_rate;
      }
      if (k != sc.topology.model) c.error |= u_fail < p_fail;
    }
    paths = sc.topology.paths(latency);
  }

  if (user_facing) ++result.requests;
  if (v == Version::kCanary) {
    if (user_facing) ++result.canary_requests;
    result.canary_tokens += tokens;
    if (user_facing && e.hit && bad_since <= now) count_exposure(r);
  } else {
    result.baseline_tokens += tokens;
  }
  (v == Version::kCanary ? result.canary_cost : result.baseline_cost) += c.cost;

  if (pool) {
    InFlight& f = inflight[slot];
    f.version = v;
    f.arrival = now;
    f.paths = paths;
    f.ttft_mult = ttft_mult;
    f.itl_mult = itl_mult;
    f.embedding_seed = c.graded ? r.embedding_seed : 0;
    f.drift = e.drift;
    f.user_facing = user_facing;
    Job job;
    job.arrival = now + paths.pre;
    job.prompt_tokens = c.prompt_tokens;
    job.output_tokens = c.output_tokens;
    const double cached = r.cached_tokens >= 0 ? static_cast<double>(r.cached_tokens)
                                               : vs.prefix_cache_share * c.prompt_tokens;
    job.cached_tokens = static_cast<uint32_t>(cached * e.cache_hit);
    job.id = slot;
    pool->submit(job, vs.timeout_s > 0 ? now + vs.timeout_s : Job::kNever,
                 vs.has_patience ? now + vs.patience.quantile(patience_uniform(r)) : Job::kNever);
  } else {
    const ServingSpec& sv = vs.serving;
    const double model_ttft = sv.ttft.quantile(r.u_ttft) * ttft_mult;
    c.itl = sv.inter_token.quantile(r.u_itl) * itl_mult;
    const double model_latency = model_ttft + (c.output_tokens - 1) * c.itl;
    c.ttft = paths.pre + model_ttft;
    c.latency = std::max(paths.pre + model_latency + paths.post, paths.bypass);
    double embedding[kEmbeddingDims];
    if (c.graded) {
      Rng er(r.embedding_seed, 1, Stream::kRequests);
      for (double& x : embedding) x = er.normal() + e.drift / std::sqrt(double{kEmbeddingDims});
      c.embedding = embedding;
    }
    // A user gives up waiting for the first token; the server's deadline cuts the rest.
    double fail_after = kInf;
    if (!c.error && vs.has_patience) {
      const double patience = vs.patience.quantile(patience_uniform(r));
      if (c.ttft > patience) {
        fail_after = patience;
        c.failure = Failure::kAbandoned;
      }
    }
    if (!c.error && vs.timeout_s > 0 && c.latency > vs.timeout_s && vs.timeout_s < fail_after) {
      fail_after = vs.timeout_s;
      c.failure = Failure::kTimeout;
    }
    c.error |= c.failure != Failure::kNone;
    telemetry.record(v, now, now + (fail_after < kInf ? fail_after : c.latency), c);
    if (!c.error && c.output_tokens > 1) telemetry.record_token_gaps(v, now + std::min(c.latency, kMaxRecordedLatencyS), c.itl, c.output_tokens - 1);
    count_failure(v, c, user_facing);
  }
}

// A user-facing request reached the canary while a regression made it bad.
void Simulator::Impl::count_exposure(const Request& r) {
  if (promoted && (bad_since > engine.now() || !effects_for(Version::kCanary, r).hit)) return;
  ++result.blast_radius_requests;
  ++result.segment_blast_requests[r.segment];
  uint64_t& word = users_hit[r.user >> 6];
  const uint64_t bit = uint64_t{1} << (r.user & 63);
  if (!(word & bit)) ++result.segment_blast_users[r.segment];
  word |= bit;
}

void Simulator::Impl::count_failure(Version v, const Completion& c, bool user_facing) {
  if (!user_facing || !c.error) return;
  ++result.failed_requests;
  ++(v == Version::kCanary ? result.canary_failed_requests : result.baseline_failed_requests);
  result.timed_out_requests += c.failure == Failure::kTimeout;
  result.rejected_requests += c.failure == Failure::kRejected;
  result.abandoned_requests += c.failure == Failure::kAbandoned;
}

void Simulator::Impl::preempted(const Job& job) {
  telemetry.record_preemption(inflight[job.id].version, engine.now());
  ++result.preemptions;
}

void Simulator::Impl::completed(const Job& job, double first_token, double done, Failure failure) {
  InFlight& f = inflight[job.id];
  Completion c = f.outcome;
  if (failure != Failure::kNone) {
    // It did not finish: counted as a failure of its kind when it left, with no timing.
    c.error = true;
    c.failure = failure;
    telemetry.record(f.version, done, done, c);
    count_failure(f.version, c, f.user_facing);
    free_slots[index_of(f.version)].push_back(job.id);
    return;
  }
  const double model_ttft = (first_token - job.arrival) * f.ttft_mult;
  const double decode = (done - first_token) * f.itl_mult;
  c.ttft = f.paths.pre + model_ttft;
  c.itl = c.output_tokens > 1 ? decode / (c.output_tokens - 1) : 0;
  c.latency = std::max(f.paths.pre + model_ttft + decode + f.paths.post, f.paths.bypass);
  double embedding[kEmbeddingDims];
  if (f.embedding_seed) {
    Rng er(f.embedding_seed, 1, Stream::kRequests);
    for (double& x : embedding) x = er.normal() + f.drift / std::sqrt(double{kEmbeddingDims});
    c.embedding = embedding;
  }
  const double now = engine.now();
  telemetry.record(f.version, now, std::max(now, f.arrival + c.latency), c);
  count_failure(f.version, c, f.user_facing);
  free_slots[index_of(f.version)].push_back(job.id);
}

SliSnapshot Simulator::Impl::snapshot(Version v) const {
  const WindowStats w = telemetry.read(v, engine.now(), pc.max_lookback_s());
  SliSnapshot s;
  s.requests = w.requests;
  if (w.requests) s.error_rate = w.error_rate();
  if (w.ttft.count()) {
    s.ttft_p50_s = w.ttft.quantile(0.5);
    s.ttft_p99_s = w.ttft.quantile(0.99);
    s.itl_p50_s = w.itl.quantile(0.5);
    s.latency_p99_s = w.latency.quantile(0.99);
  }
  if (w.graded) s.quality_mean = w.quality_sum / static_cast<double>(w.graded);
  if (const BatchingPool* pool = pools[index_of(v)].get()) {
    s.replicas = pool->replicas();
    s.queued = pool->queued();
  }
  return s;
}

// A golden-set evaluation: both versions answer the same fixed prompts (one uniform per
// prompt, shared by the two versions), graded by their quality models; the canary's
// quality regressions of scope `all` apply.
void Simulator::Impl::on_golden() {
  if (promoted) return;
  const double now = engine.now();
  double drop = 0;
  for (uint32_t i : active) {
    const Regression& g = sc.regressions[i];
    if (g.kind == Regression::Kind::kQuality && g.segment < 0 && g.min_prompt_tokens == 0)
      drop += regs[i].intensity * g.quality_drop;
  }
  for (uint32_t k = 0; k < sc.telemetry.golden_size; ++k) {
    const double z = golden.normal();
    for (const Version v : {Version::kBaseline, Version::kCanary}) {
      const VersionSpec& vs = spec(v);
      const double q = vs.quality_mean - (v == Version::kCanary ? drop : 0) + vs.quality_sd * z;
      telemetry.record_golden(v, now, std::clamp(q, 0.0, 1.0));
    }
  }
  engine.schedule(sc.telemetry.golden_every_s, kGolden);
}

void Simulator::Impl::on_tick() {
  const double now = engine.now();
  const Decision d = policy->decide(Observation(now, router.weight(), telemetry));
  const double before = router.weight();
  if (d.action != Decision::Action::kHold) pending_weight = -1;  // a newer decision stands
  if (d.action == Decision::Action::kSetWeight) {
    const double w = std::clamp(d.weight, 0.0, 1.0);
    // Prescale: a canary fleet that follows its share grows first; traffic follows once
    // the new replicas serve (the autoscaler's lag, then start-up).
    const BatchingSpec& cb = sc.canary.serving.batching;
    const bool grows = pc.deployment.prescale && w > before &&
                       (pools[1] ? cb.autoscaled : sc.canary.replicas > 0);
    if (grows) {
      pending_weight = w;
      canary_scale = std::max(canary_scale, w);
      rescale(before, now);
      const double ready = (pools[1] ? cb.autoscale.lag_s : 0) + sc.canary.startup_s;
      engine.schedule(ready, kApplyWeight);
    } else {
      router.set_weight(w);
    }
  }
  if (d.action == Decision::Action::kPromote) router.set_weight(1);
  if (d.mirror >= 0) router.set_mirror(std::clamp(d.mirror, 0.0, 1.0));
  if (!d.segments.empty()) restrict_segments(d.segments);
  const bool rescaled = d.canary_scale >= 0 && d.canary_scale != canary_scale;
  if (rescaled) canary_scale = std::min(d.canary_scale, 1.0);
  if (trace) {
    trace->push_back({now, router.weight(), action_name(d.action), d.reason,
                      snapshot(Version::kCanary), snapshot(Version::kBaseline)});
  }
  if (router.weight() != before) start_regressions_at_weight(router.weight());
  if (router.weight() != before || rescaled) rescale(router.weight(), now);

  if (d.action == Decision::Action::kPromote) {
    result.reason = d.reason;
    finish(Outcome::kPromoted);
  } else if (d.action == Decision::Action::kRollback) {
    result.reason = d.reason;
    result.decision_time_s = now;
    result.regression_active = bad_since <= now;
    drain_s = d.drain_s;
    // A stable fleet that shrank with the canary's share (stable_scale: dynamic; a big
    // bang that replaced it) must start its replicas again before traffic can move back.
    if (pc.deployment.dynamic_stable && router.weight() > 0 && sc.baseline.startup_s > 0) {
      const BatchingSpec& bb = sc.baseline.serving.batching;
      if (pools[0]) pools[0]->set_replicas(bb.autoscaled ? std::clamp(bb.autoscale.fleet, bb.autoscale.min, bb.autoscale.max)
                                                         : bb.replicas);
      if (!pools[0] && sc.baseline.replicas > 0) set_fleet(0, sc.baseline.replicas);
      engine.schedule(sc.baseline.startup_s, kDrainStart);
      if (trace) trace->push_back({now, router.weight(), "redeploy", "the stable fleet starts again before traffic moves back",
                                   snapshot(Version::kCanary), snapshot(Version::kBaseline)});
    } else {
      start_drain();
    }
  } else {
    // Tick k at k x interval: multiplied, never accumulated, so that decimal intervals
    // (0.1 s) do not drift against the telemetry windows.
    engine.schedule_at(pc.interval_s() * static_cast<double>(++ticks + 1), kTick);
  }
}

// A regression starts, or its intensity changes: update the active list and the pools.
void Simulator::Impl::on_shape(uint32_t i) {
  const Regression& g = sc.regressions[i];
  const double now = engine.now();
  if (regs[i].onset == kInf) {
    regs[i].onset = now;
    if (!g.shared) bad_since = std::min(bad_since, now);
  }
  regs[i].intensity = g.intensity(now, regs[i].onset);
  active.clear();
  for (uint32_t k = 0; k < regs.size(); ++k)
    if (regs[k].intensity > 0) active.push_back(k);
  apply_pool_effects();
  const double next_change = g.next_change(now, regs[i].onset);
  if (next_change < sc.horizon_s) engine.schedule_at(next_change, kShape, i);
}

void Simulator::Impl::apply_pool_effects() {
  BatchingPool* pool = pools[index_of(Version::kCanary)].get();
  if (!pool) return;
  double prefill = 1, decode = 1;
  uint32_t lost = 0, error_above = 0;
  double kv = 1;
  for (uint32_t i : active) {
    const Regression& g = sc.regressions[i];
    if (!g.pool_wide()) continue;
    const double s = regs[i].intensity;
    if (g.kind == Regression::Kind::kLatency) {
      prefill *= 1 + s * (g.ttft_multiplier - 1);
      decode *= 1 + s * (g.itl_multiplier - 1);
    } else if (g.kind == Regression::Kind::kKvFootprint) {
      kv *= 1 + s * (g.kv_multiplier - 1);
    } else {
      lost += static_cast<uint32_t>(std::lround(s * g.replicas_lost));
      if (g.error_above_batch && s > 0)
        error_above = error_above ? std::min(error_above, g.error_above_batch) : g.error_above_batch;
    }
  }
  pool->set_slowdown(prefill, decode);
  pool->set_lost_replicas(lost);
  pool->set_error_above_batch(error_above);
  pool->set_kv_footprint(kv);
}

void Simulator::Impl::start_regressions_at_weight(double weight) {
  for (uint32_t i = 0; i < sc.regressions.size(); ++i) {
    const Regression& g = sc.regressions[i];
    if (g.onset_weight >= 0 && regs[i].onset == kInf && weight + 1e-12 >= g.onset_weight)
      engine.schedule(0, kShape, i);
  }
}

// Sizes the autoscaled pools for `weight` (the canary's for `canary_scale` of the fleet
// when the policy pre-scaled it), `delay` seconds from now (at once if < 0).
void Simulator::Impl::rescale(double weight, double delay) {
  const double traffic_share = router.canary_share(weight);
  const Deployment& dep = pc.deployment;
  // The canary carries its weight and any shadow copies; a full canary is a whole fleet.
  const double canary_share = dep.full_canary ? 1.0
                              : canary_scale > 0 ? std::max(canary_scale, router.mirror())
                                                 : std::max(traffic_share, router.mirror());
  auto share_of = [&](int v) { return v ? canary_share : 1 - traffic_share; };
  auto sized = [](double share, uint32_t fleet) { return static_cast<uint32_t>(std::ceil(share * fleet - 1e-9)); };
  for (int v = 0; v < kVersions; ++v) {
    const VersionSpec& vs = spec(static_cast<Version>(v));
    if (!pools[v]) {
      // A sampled fleet: the stable one whole unless dynamic, the canary by its share.
      if (vs.replicas == 0) continue;
      const uint32_t n = v || dep.dynamic_stable ? sized(share_of(v), vs.replicas) : vs.replicas;
      if (delay < 0 || n != fleet[v]) set_fleet(v, n);
      continue;
    }
    const BatchingSpec& b = vs.serving.batching;
    uint32_t n = b.replicas;
    if (b.autoscaled) {
      n = std::clamp(sized(share_of(v), b.autoscale.fleet), b.autoscale.min, b.autoscale.max);
    } else if (v == 0 && dep.dynamic_stable) {
      n = sized(share_of(v), b.replicas);  // shrinks at once; grows after start-up
      if (delay >= 0) pools[v]->set_replicas(n);
    }
    if (delay < 0) pools[v]->reset(n);
    else if (b.autoscaled) engine.schedule(b.autoscale.lag_s, kScale, (static_cast<uint32_t>(v) << 24) | n);
  }
}

// Rollback: the canary's weight falls to 0 over the policy's drain.
void Simulator::Impl::start_drain() {
  router.drain(engine.now(), drain_s);
  if (drain_s > 0) engine.schedule(drain_s, kDrained);
  else finish(Outcome::kRolledBack);
}

void Simulator::Impl::apply_weight(double weight) {
  pending_weight = -1;
  const double before = router.weight();
  router.set_weight(weight);
  if (trace) trace->push_back({engine.now(), weight, "set_weight", "prescaled canary ready", snapshot(Version::kCanary),
                               snapshot(Version::kBaseline)});
  if (weight != before) {
    start_regressions_at_weight(weight);
    rescale(weight, engine.now());
  }
}

// Adds the sampled fleets' replica-seconds up to now.
void Simulator::Impl::account_fleets() {
  const double now = engine.now();
  for (int k = 0; k < kVersions; ++k) fleet_seconds[k] += fleet[k] * (now - fleet_since);
  fleet_since = now;
}

// A sampled version's fleet runs n replicas from now on.
void Simulator::Impl::set_fleet(int v, uint32_t n) {
  account_fleets();
  fleet[v] = n;
}

void Simulator::Impl::on_scale(uint32_t target) {
  pools[BatchingPool::pool_of(target)]->set_replicas(BatchingPool::target_of(target));
}

void Simulator::Impl::finish(Outcome outcome) {
  const double now = engine.now();
  result.outcome = outcome;
  if (outcome == Outcome::kPromoted) {
    result.decision_time_s = now;
    result.regression_active = bad_since <= now;
  }
  // A promoted bad canary keeps exposing users until someone notices: arrivals go on
  // (counted, not served) until the incident-detection delay or the horizon.
  if (outcome == Outcome::kPromoted && has_bad_release) {
    result.rollout_duration_s = now;
    promoted = true;
    const double end = sc.incident_detection_s >= 0 ? now + sc.incident_detection_s : kInf;
    if (end < sc.horizon_s) engine.schedule_at(end, kEnd);
    return;
  }
  result.rollout_duration_s = now;
  if (outcome == Outcome::kRolledBack && result.regression_active) {
    // The first data that could show the regression: its onset's window, delivered after
    // the scrape delay. A rollback before then was not a detection.
    const double evidence = bad_since + sc.telemetry.window_s + sc.telemetry.scrape_delay_s;
    if (result.decision_time_s < evidence - 1e-9) result.before_evidence = true;
    else result.detection_time_s = result.decision_time_s - bad_since;
    result.time_to_mitigate_s = now - bad_since;
  }
  if (trace && outcome == Outcome::kRolledBack && drain_s > 0)
    trace->push_back({now, 0, "drained", "canary weight reached 0", snapshot(Version::kCanary),
                      snapshot(Version::kBaseline)});
  engine.stop();
}

}  // namespace canarysim
