#include "sim/model/serving.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <filesystem>
#include <limits>

#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {

namespace {
// Heap orders: the decoding sequence finishing first, the earliest deadline, on top.
constexpr auto later = [](const auto& a, const auto& b) { return a.finish > b.finish; };

// std::pop_heap(h.begin(), h.end(), later), move for move as libstdc++ does it (the hole
// goes down to a leaf by the earlier child, then the last element rises into it), so
// that sequences finishing at the same step leave in the same order as ever; the earlier
// child is picked without a branch, where a mispredicted one cost most of the pop.
// REQUIRES: h is a heap on `later`.
template <class T>
void pop_earliest(std::vector<T>& h) {
  if (h.size() < 2) return;
  const size_t len = h.size() - 1;  // the heap's size once the top is at the back
  const T value = h[len];
  h[len] = h[0];
  size_t hole = 0, child = 0;
  while (child < (len - 1) / 2) {
    child = 2 * (child + 1);
    child -= static_cast<size_t>(later(h[child], h[child - 1]));
    h[hole] = h[child];
    hole = child;
  }
  if ((len & 1) == 0 && child == (len - 2) / 2) {
    child = 2 * (child + 1);
    h[hole] = h[child - 1];
    hole = child - 1;
  }
  for (size_t parent = (hole - 1) / 2; hole > 0 && later(h[parent], value); parent = (hole - 1) / 2) {
    h[hole] = h[parent];
    hole = parent;
  }
  h[hole] = value;
}

// Context tokens a job holds in the KV cache once prefilled: its prompt and what it had
// generated before a preemption.
int64_t context_of(const Job& j) { return int64_t{j.prompt_tokens} + j.generated; }
}  // namespace

uint64_t KvCacheSpec::derive(double gpus, double gpu_memory_gb, double memory_utilization,
                             double weights_gb, double layers, double kv_heads, double head_dim,
                             double bytes_per_value) {
  const double bytes_per_token = 2 * layers * kv_heads * head_dim * bytes_per_value;
  const double free_bytes = (gpus * gpu_memory_gb * memory_utilization - weights_gb) * 1e9;
  if (!(bytes_per_token > 0) || !(free_bytes > 0)) return 0;
  return static_cast<uint64_t>(free_bytes / bytes_per_token);
}

namespace {

using namespace schema;

const Section kBatching{"scenario", "baseline.batching, canary.batching", "A pool of replicas with continuous batching (iteration-level scheduling, as vLLM's): its latency comes from its iterations and its queue.", {
    {"profile", kFile, "(none)", "", "a calibrated profile file (canarysim calibrate); or iteration"},
    {"iteration", kMap, "(none)", "", "the iteration time model: section batching.iteration; or profile"},
    {"max_batch", kCount, "64", "[1, 65536]", "sequences decoding at once per replica"},
    {"token_budget", kCount, "8192", "[1, 2^24]", "prompt tokens prefilled per iteration per replica"},
    {"scheduler", kText, "mixed", "mixed, prefill_first", "mixed: prefill and decode in one iteration; prefill_first: prefill iterations first"},
    {"chunk_tokens", kCount, "0", "[1, 2^24]", "mixed: chunked prefill, tokens per chunk (0: no chunks)"},
    {"kv_cache", kMap, "(none)", "", "KV-cache memory, which preempts sequences when full: section batching.kv_cache"},
    {"gpus", kCount, "the profile's tensor_parallel, else 1", "[1, 1024]", "GPUs per replica (for GPU-hours)"},
    {"replicas", kCount | kText, "8", "[1, 2^20] or auto", "a fixed pool size, or auto: sized for target_utilization at peak"},
    {"autoscale", kMap, "(none)", "", "an autoscaled pool: section batching.autoscale (not with replicas)"},
    {"target_utilization", kFraction, "70%", "(0, 1]", "what auto sizing aims for"},
}};

const Section kIteration{"scenario", "batching.iteration", "One iteration's time: base + per prefill token x prompt tokens + per decoding sequence x sequences.", {
    {"base", kDuration, "", ">= 0", "fixed time per iteration"},
    {"per_prefill_token", kDuration, "", ">= 0", "time per prompt token prefilled"},
    {"per_decoding_sequence", kDuration, "", ">= 0", "time per sequence decoding"},
}};

const Section kProfile{"profile", "(top level)", "A calibrated serving profile, as `canarysim calibrate --out` writes it.", {
    {"model", kText, "(none)", "", "the model measured"},
    {"hardware", kText, "(none)", "", "the hardware"},
    {"tensor_parallel", kCount, "1", "[1, 1024]", "GPUs per replica"},
    {"iteration", kMap, "", "", "section batching.iteration"},
    {"fit", kAny, "(none)", "", "the fit's quality, for people"},
    {"source", kAny, "(none)", "", "where the measurements came from"},
}};

const Section kKvCache{"scenario", "batching.kv_cache", "KV-cache memory per replica: tokens, or the model's shape from which they are derived.", {
    {"tokens", kCount, "(none)", "[1, 2^40]", "KV-cache capacity in tokens; or the shape below"},
    {"gpu_memory_gb", kNumber, "(none)", "[0.001, 10^6]", "memory per GPU"},
    {"memory_utilization", kFraction, "90%", "[0, 1]", "share of GPU memory the server may use"},
    {"weights_gb", kNumber, "(none)", "[0, 10^7]", "model weights per replica"},
    {"layers", kNumber, "(none)", "[1, 10^4]", "transformer layers"},
    {"kv_heads", kNumber, "(none)", "[1, 10^4]", "key-value heads"},
    {"head_dim", kNumber, "(none)", "[1, 10^5]", "head dimension"},
    {"bytes_per_value", kNumber, "2", "[0.125, 8]", "bytes per cached value (2: fp16)"},
}};

const Section kAutoscale{"scenario", "batching.autoscale", "A pool that grows and shrinks with the canary's weight (a Kubernetes HPA's behaviour).", {
    {"fleet", kCount | kText, "8", "[1, 2^20] or auto", "replicas for all traffic (auto: sized for target_utilization)"},
    {"min", kCount, "1", "[1, 2^20]", "fewest replicas"},
    {"max", kCount, "the larger of fleet and min", "[min, 2^20]", "most replicas"},
    {"lag", kDuration, "2m", ">= 0", "how late the pool follows its target size"},
}};

}  // namespace

BatchingSpec BatchingSpec::parse(const ConfigMap& m) {
  m.allow(kBatching);
  BatchingSpec b;
  auto read_iteration = [&b](const ConfigMap& it) {
    it.allow(kIteration);
    b.b0_s = it.duration("base");
    b.b1_s = it.duration("per_prefill_token");
    b.b2_s = it.duration("per_decoding_sequence");
    if (b.b0_s + b.b1_s + b.b2_s <= 0) it.fail("base", "an iteration that takes time");
  };
  if (m.has("profile") == m.has("iteration"))
    m.fail("profile", "exactly one of profile (a calibrated file) or iteration");
  if (m.has("profile")) {
    const std::string path = m.file_path("profile");
    if (!file_exists(path)) m.reject_missing("profile", "no such profile file " + path);
    const ConfigMap p = ConfigMap::parse_file(path);
    p.allow(kProfile);
    read_iteration(p.map("iteration"));
    b.gpus = static_cast<uint32_t>(p.count("tensor_parallel", b.gpus, 1, 1024));
  } else {
    read_iteration(m.map("iteration"));
  }
  b.gpus = static_cast<uint32_t>(m.count("gpus", b.gpus, 1, 1024));
  b.max_batch = static_cast<uint32_t>(m.count("max_batch", b.max_batch, 1, 1 << 16));
  b.token_budget = static_cast<uint32_t>(m.count("token_budget", b.token_budget, 1, 1 << 24));
  const std::string scheduler = m.text("scheduler", "mixed");
  if (scheduler == "prefill_first") b.scheduler = Scheduler::kPrefillFirst;
  else if (scheduler != "mixed") m.fail("scheduler", "mixed or prefill_first");
  b.chunk_tokens = static_cast<uint32_t>(m.count("chunk_tokens", 0, 1, 1 << 24));
  if (b.chunk_tokens && b.scheduler != Scheduler::kMixed)
    m.fail("chunk_tokens", "no chunk_tokens with scheduler prefill_first (chunked prefill mixes "
                           "prefill chunks into decoding iterations)");
  if (m.has("kv_cache")) {
    const ConfigMap k = m.map("kv_cache");
    k.allow(kKvCache);
    if (k.has("tokens")) {
      for (const char* other : {"gpu_memory_gb", "weights_gb", "layers", "kv_heads", "head_dim"})
        if (k.has(other)) k.fail(other, "either tokens or the model's shape, not both");
      b.kv_cache.tokens = k.count("tokens", 0, 1, uint64_t{1} << 40);
    } else {
      b.kv_cache.tokens = KvCacheSpec::derive(
          b.gpus, k.number("gpu_memory_gb", 0.001, 1e6), k.probability("memory_utilization", 0.9),
          k.number("weights_gb", 0, 1e7), k.number("layers", 1, 1e4), k.number("kv_heads", 1, 1e4),
          k.number("head_dim", 1, 1e5), k.number("bytes_per_value", 2, 0.125, 8));
      if (b.kv_cache.tokens == 0)
        k.fail("weights_gb", "weights that leave KV-cache memory free (gpus x gpu_memory_gb x "
                             "memory_utilization above weights_gb)");
    }
  }
  if (m.has("replicas") && m.has("autoscale")) m.fail("autoscale", "either replicas or autoscale");
  auto is_auto = [](const ConfigMap& c, const char* key) { return c.has(key) && !c.is_map(key) && c.text(key) == "auto"; };
  if (is_auto(m, "replicas")) b.auto_size = true;
  else b.replicas = static_cast<uint32_t>(m.count("replicas", b.replicas, 1, 1 << 20));
  if (m.has("autoscale")) {
    const ConfigMap a = m.map("autoscale");
    a.allow(kAutoscale);
    b.autoscaled = true;
    if (is_auto(a, "fleet")) {
      b.auto_size = true;
      if (a.has("max")) a.fail("max", "no max with fleet: auto (the sized fleet is the maximum)");
    } else {
      b.autoscale.fleet = static_cast<uint32_t>(a.count("fleet", b.autoscale.fleet, 1, 1 << 20));
    }
    b.autoscale.min = static_cast<uint32_t>(a.count("min", b.autoscale.min, 1, 1 << 20));
    b.autoscale.max =
        static_cast<uint32_t>(a.count("max", std::max(b.autoscale.fleet, b.autoscale.min), 1, 1 << 20));
    if (b.autoscale.max < b.autoscale.min) a.fail("max", "a maximum at least the minimum");
    b.autoscale.lag_s = a.duration("lag", b.autoscale.lag_s);
  }
  b.target_utilization = m.probability("target_utilization", b.target_utilization);
  if (b.target_utilization <= 0) m.fail("target_utilization", "a utilization above 0 %");
  if (m.has("target_utilization") && !b.auto_size)
    m.fail("target_utilization", "replicas: auto or autoscale: {fleet: auto} with target_utilization");
  return b;
}

double replica_capacity(const BatchingSpec& b, double prefill_tokens, double context_tokens,
                        double output_tokens) {
  double n = b.max_batch;
  if (b.kv_cache.tokens > 0)
    n = std::min(n, std::max(1.0, static_cast<double>(b.kv_cache.tokens) / (context_tokens + output_tokens / 2 + 1)));
  return n / (output_tokens * (b.b0_s + b.b2_s * n) + b.b1_s * prefill_tokens * n);
}

BatchingPool::BatchingPool(const BatchingSpec& spec, Engine& engine, uint32_t event_type,
                           uint32_t pool_id, CompletionSink& sink)
    : spec_(spec), engine_(engine), event_type_(event_type), pool_id_(pool_id), sink_(sink) {}

void BatchingPool::reset(uint32_t replicas) {
  replicas_.clear();
  queue_.clear();
  live_queued_ = 0;
  idle_.clear();
  track_.clear();
  expiries_.clear();
  in_order_.clear();
  in_order_first_ = 0;
  next_deadline_event_ = Job::kNever;
  target_ = lost_ = running_ = 0;
  prefill_slowdown_ = decode_slowdown_ = kv_factor_ = 1;
  error_above_batch_ = 0;
  replica_seconds_ = 0;
  last_account_ = engine_.now();
  target_ = replicas;
  account();
  for (uint32_t i = 0; i < replicas; ++i) start_replica(i, /*at_once=*/true);
}

void BatchingPool::account() {
  const double now = engine_.now();
  replica_seconds_ += running_ * (now - last_account_);
  last_account_ = now;
}

double BatchingPool::replica_seconds() const {
  return replica_seconds_ + running_ * (engine_.now() - last_account_);
}

uint32_t BatchingPool::ready_replicas() const {
  uint32_t n = 0;
  for (const Replica& r : replicas_) n += r.running && !r.retiring && !r.starting;
  return n;
}

void BatchingPool::set_replicas(uint32_t n) {
  target_ = n;
  apply_size();
}

void BatchingPool::set_lost_replicas(uint32_t n) {
  lost_ = n;
  apply_size();
}

// Starts replica i: it serves at once, or after the start-up time (an event).
void BatchingPool::start_replica(uint32_t i, bool at_once) {
  if (i == replicas_.size()) replicas_.emplace_back();
  Replica& r = replicas_[i];
  r = Replica{};
  r.running = true;
  ++running_;
  if (at_once || spec_.startup_s <= 0) {
    r.ready_at = engine_.now();
    idle_.push_back(i);
  } else {
    r.starting = true;
    r.ready_at = engine_.now() + spec_.startup_s;
    engine_.schedule_at(r.ready_at, event_type_, (pool_id_ << 24) | i);
  }
}

// Brings the running count towards target - lost: starts replicas (they take work once
// started up), or retires idle or starting ones now and busy ones when their batch empties.
void BatchingPool::apply_size() {
  account();
  const uint32_t want = target_ > lost_ ? target_ - lost_ : 0;
  uint32_t effective = 0;  // running and not retiring
  for (const Replica& r : replicas_) effective += r.running && !r.retiring;
  for (uint32_t i = 0; effective < want; ++i) {
    if (i < replicas_.size() && replicas_[i].running && replicas_[i].retiring) {
      Replica& r = replicas_[i];  // un-retire first: it is still warm
      r.retiring = false;
      ++effective;
      if (!r.busy) idle_.push_back(i);
    } else if (i == replicas_.size() || !replicas_[i].running) {
      start_replica(i, /*at_once=*/false);
      ++effective;
    }
  }
  for (uint32_t i = static_cast<uint32_t>(replicas_.size()); i-- > 0 && effective > want;) {
    Replica& r = replicas_[i];
    if (!r.running || r.retiring) continue;
    --effective;
    if (r.busy) {
      r.retiring = true;
    } else {
      if (!r.starting) idle_.erase(std::find(idle_.begin(), idle_.end(), i));
      r.running = r.starting = false;
      --running_;
    }
  }
  // Ready replicas pull queued work now.
  while (!idle_.empty() && live_queued_ > 0) {
    const uint32_t r = idle_.back();
    idle_.pop_back();
    start_iteration(r);
  }
}

void BatchingPool::submit(const Job& job, double deadline, double give_up) {
  if (job.id >= track_.size()) track_.resize(job.id + 1);
  Track& t = track_[job.id];
  const uint32_t gen = t.job.gen + 1;
  t.job = job;  // then its own fields (writing them in `job` first would stall the copy)
  t.job.gen = gen;
  t.job.generated = t.job.prefilled = 0;
  t.job.first_token = t.job.last_token = -1;
  if (spec_.max_queue > 0 && live_queued_ >= spec_.max_queue) {
    t.where = Where::kGone;
    sink_.completed(t.job, -1, engine_.now(), Failure::kRejected);
    return;
  }
  t.where = Where::kQueued;
  queue_.push_back({job.id, gen});
  ++live_queued_;
  if (deadline < Job::kNever) watch(deadline, job.id, gen, /*abandon=*/false);
  if (give_up < deadline) watch(give_up, job.id, gen, /*abandon=*/true);
  if (!idle_.empty()) {
    const uint32_t r = idle_.back();
    idle_.pop_back();
    start_iteration(r);
  }
}

void BatchingPool::sift_expiry_up(size_t i) {
  const Expiry e = expiries_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!(e.at < expiries_[parent].at)) break;
    place_expiry(i, expiries_[parent]);
    i = parent;
  }
  place_expiry(i, e);
}

void BatchingPool::sift_expiry_down(size_t i) {
  const Expiry e = expiries_[i];
  const size_t n = expiries_.size();
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && expiries_[child + 1].at < expiries_[child].at) ++child;
    if (!(expiries_[child].at < e.at)) break;
    place_expiry(i, expiries_[child]);
    i = child;
  }
  place_expiry(i, e);
}

void BatchingPool::drop_watched_expiry(uint32_t id, bool abandon) {
  if (!abandon && track_[id].in_order != kNoOrder) {
    in_order_[track_[id].in_order - in_order_first_].id = kNoExpiry;
    track_[id].in_order = kNoOrder;
    while (!in_order_.empty() && in_order_.front().id == kNoExpiry) {
      in_order_.pop_front();
      ++in_order_first_;
    }
    return;
  }
  uint32_t& pos = track_[id].expiry[abandon];
  if (pos == kNoExpiry) return;
  const size_t i = pos;
  pos = kNoExpiry;
  const Expiry last = expiries_.back();
  expiries_.pop_back();
  if (i == expiries_.size()) return;
  place_expiry(i, last);
  sift_expiry_down(i);
  sift_expiry_up(track_[last.id].expiry[last.abandon]);
}

const BatchingPool::Expiry* BatchingPool::next_expiry() {
  const Expiry* a = in_order_.empty() ? nullptr : &in_order_.front();
  const Expiry* b = expiries_.empty() ? nullptr : &expiries_.front();
  if (!a || !b) return a ? a : b;
  return a->at <= b->at ? a : b;
}

void BatchingPool::watch(double at, uint32_t id, uint32_t gen, bool abandon) {
  if (!abandon && (in_order_.empty() || at >= in_order_.back().at)) {
    track_[id].in_order = in_order_first_ + in_order_.size();
    in_order_.push_back({at, id, gen, abandon});
  } else {
    expiries_.push_back({at, id, gen, abandon});
    sift_expiry_up(expiries_.size() - 1);
  }
  if (at < next_deadline_event_) {
    next_deadline_event_ = at;
    engine_.schedule_at(at, event_type_, (pool_id_ << 24) | kDeadlineTarget);
  }
}

void BatchingPool::leave(uint32_t id, Failure failure) {
  drop_expiry(id, false);
  drop_expiry(id, true);
  Track& t = track_[id];
  t.where = Where::kGone;
  sink_.completed(t.job, t.job.first_token, engine_.now(), failure);
}

// The events on_event() leaves to the general path: deadlines, start-ups, stale events,
// and iterations that end with a change (a sequence finishing, joining or prefilling).
void BatchingPool::on_other_event(uint32_t target) {
  if (target == kDeadlineTarget) return on_deadlines();
  Replica& r = replicas_[target];
  if (r.starting) {
    // A start-up ended: this start's if due now (a replica stopped while starting and
    // started again has a later ready time; the earlier event finds it still starting).
    if (r.ready_at != engine_.now()) return;
    r.starting = false;
    return start_iteration(target);
  }
  if (!r.busy) return;  // a stale start-up of a stopped replica
  end_iteration(target);
}

// Takes a decoding sequence out of replica r's heap.
void BatchingPool::remove_decoding(Replica& r, std::vector<Decoding>::iterator it) {
  r.kv_offsets -= it->offset;
  *it = r.decoding.back();
  r.decoding.pop_back();
  std::make_heap(r.decoding.begin(), r.decoding.end(), later);
  heap_changed(r);
}

// Deadlines that came: requests still queued, prefilling or decoding fail now.
void BatchingPool::on_deadlines() {
  const double now = engine_.now();
  if (now >= next_deadline_event_) next_deadline_event_ = Job::kNever;
  for (const Expiry* next; (next = next_expiry()) && next->at <= now;) {
    const Expiry e = *next;
    drop_expiry(e.id, e.abandon);
    Track& t = track_[e.id];
    if (t.job.gen != e.gen || t.where == Where::kGone) continue;
    if (e.abandon && (t.where != Where::kQueued || t.job.first_token >= 0)) continue;
    if (t.where == Where::kQueued) {
      --live_queued_;  // its queue entry is skipped when it reaches the front
    } else if (t.where == Where::kDecoding) {
      Replica& r = replicas_[t.replica];
      const auto it = std::find_if(r.decoding.begin(), r.decoding.end(),
                                   [&](const Decoding& d) { return d.id == e.id; });
      assert(it != r.decoding.end());
      remove_decoding(r, it);
    } else {
      // A prefilling job stays in its iteration (the work is spent) and is dropped at its
      // end; its memory is free now.
      replicas_[t.replica].kv_reserved -= context_of(t.job) + 1;
    }
    leave(e.id, e.abandon ? Failure::kAbandoned : Failure::kTimeout);
  }
  if (const Expiry* next = next_expiry(); next && next->at < next_deadline_event_) {
    next_deadline_event_ = next->at;
    engine_.schedule_at(next_deadline_event_, event_type_, (pool_id_ << 24) | kDeadlineTarget);
  }
}

// KV-cache tokens replica r will hold once its next iteration grows every decoding
// sequence by a token, at footprint 1.
double BatchingPool::kv_next(const Replica& r) const {
  const auto n = static_cast<int64_t>(r.decoding.size());
  return static_cast<double>(r.kv_offsets + n * static_cast<int64_t>(r.steps + 1) + r.kv_reserved);
}

// Preempts decoding sequences, most recent arrival first, until the next iteration's
// growth fits; a sequence too long for the whole cache fails.
void BatchingPool::preempt_for_memory(Replica& r) {
  const double capacity = kv_capacity();
  while (!r.decoding.empty() && kv_next(r) > capacity) {
    auto victim = r.decoding.begin();
    for (auto it = r.decoding.begin(); it != r.decoding.end(); ++it)
      if (track_[it->id].job.arrival > track_[victim->id].job.arrival) victim = it;
    const uint32_t id = victim->id;
    const int64_t context = victim->offset + static_cast<int64_t>(r.steps);
    remove_decoding(r, victim);
    if (r.decoding.empty() && r.kv_reserved == 0) {
      leave(id, Failure::kError);  // alone and still over: no preemption makes room for it
      break;
    }
    Track& t = track_[id];
    t.job.generated = static_cast<uint32_t>(context) - t.job.prompt_tokens;
    t.job.prefilled = 0;
    t.job.last_token = r.last_decode_end;
    t.where = Where::kQueued;
    queue_.push_front({id, t.job.gen});
    ++live_queued_;
    sink_.preempted(t.job);
  }
}

void BatchingPool::start_iteration(uint32_t index) {
  Replica& r = replicas_[index];
  const bool kv = spec_.kv_cache.tokens > 0;
  if (kv) preempt_for_memory(r);
  const double capacity = kv ? kv_capacity() : 0;
  // Prefill tokens of this iteration: chunks of prompts carried over first (chunked only).
  uint64_t prefill_tokens = 0;
  for (const Ticket& k : r.prefilling) {
    const Job& j = track_[k.id].job;
    const auto left = static_cast<uint64_t>(context_of(j) - j.prefilled);
    const uint64_t c = std::min<uint64_t>(left, spec_.chunk_tokens - prefill_tokens);
    r.chunk.push_back(static_cast<uint32_t>(c));
    prefill_tokens += c;
  }
  const uint64_t budget = spec_.chunk_tokens ? spec_.chunk_tokens : spec_.token_budget;
  while (!r.retiring && !queue_.empty()) {  // a retiring replica only finishes its batch
    const Ticket next = queue_.front();
    if (!live(next, Where::kQueued)) {  // timed out or abandoned while waiting
      queue_.pop_front();
      continue;
    }
    const size_t batch = r.decoding.size() + r.prefilling.size();
    if (batch >= spec_.max_batch) break;
    Job& job = track_[next.id].job;
    const int64_t context = context_of(job);
    const auto todo = static_cast<uint64_t>(context - std::min<int64_t>(job.cached_tokens, context - 1));
    uint64_t chunk = todo;
    if (spec_.chunk_tokens) {
      if (prefill_tokens >= budget) break;
      chunk = std::min(todo, budget - prefill_tokens);
    } else if (prefill_tokens > 0 && prefill_tokens + todo > budget) {
      // A prompt longer than the budget is prefilled alone: it waits for an iteration with
      // no other prefill, not for an empty batch (that would block the queue behind it).
      break;
    }
    if (kv && kv_next(r) + static_cast<double>(context + 1) > capacity) {
      if (batch > 0) break;  // waits for memory to free
      queue_.pop_front();    // an empty replica cannot hold it: it never can
      --live_queued_;
      leave(next.id, Failure::kError);
      continue;
    }
    queue_.pop_front();
    --live_queued_;
    if (error_above_batch_ > 0 && batch >= error_above_batch_) {
      // Failure under load: the replica cannot take more than this and rejects.
      leave(next.id, Failure::kError);
      continue;
    }
    job.prefilled = static_cast<uint32_t>(context) - static_cast<uint32_t>(todo);
    track_[next.id].where = Where::kPrefilling;
    drop_expiry(next.id, /*abandon=*/true);  // admitted: its user no longer waits to give up
    track_[next.id].replica = index;
    r.kv_reserved += context + 1;
    r.prefilling.push_back(next);
    r.chunk.push_back(static_cast<uint32_t>(chunk));
    prefill_tokens += chunk;
  }
  if (r.prefilling.empty() && r.decoding.empty()) {
    r.busy = false;
    if (r.retiring) {
      account();
      r.running = r.retiring = false;
      --running_;
    } else {
      idle_.push_back(index);
    }
    return;
  }
  r.busy = true;
  // prefill_first: an iteration with prefills runs only them; decoding waits.
  r.decodes = !r.decoding.empty() &&
              (spec_.scheduler == Scheduler::kMixed || r.prefilling.empty());
  const double decoding = r.decodes ? static_cast<double>(r.decoding.size()) : 0;
  schedule_iteration(index, iteration_time(prefill_tokens, decoding));
}

// Sequences whose last token the iteration just begun produces leave at its end. With
// thousands of requests in flight their bookkeeping (here and the sink's) is out of cache
// by then; it is fetched now, while other replicas' events run. Results are unchanged.
void BatchingPool::prefetch_leaving(const Replica& r) {
  // Those finishing are the top of the decoding heap (ordered on finish): walk it while
  // finish is due, from the root (due: the caller checked), with a bounded stack (it is a
  // hint; a few missed cost only time).
  const uint64_t due = r.steps + 1;
  const size_t size = r.decoding.size();
  uint32_t stack[16], n = 0;
  for (uint32_t i = 0;;) {
    const Decoding& d = r.decoding[i];
    prefetch(&track_[d.id]);
    // Its timeout's entry in in_order_, which leave() marks (the queue holds fewer than
    // 2^32 entries, so the low bits give its place).
    const auto place = static_cast<uint32_t>(d.order - static_cast<uint32_t>(in_order_first_));
    if (place < in_order_.size()) __builtin_prefetch(&in_order_[place]);
    sink_.leaving_soon(d.id);
    for (uint32_t c = 2 * i + 1; c <= 2 * i + 2 && c < size; ++c)
      if (r.decoding[c].finish <= due && n < 16) stack[n++] = c;
    if (n == 0) break;
    i = stack[--n];
  }
}

void BatchingPool::end_iteration(uint32_t index) {
  Replica& r = replicas_[index];
  const double now = engine_.now();
  if (r.decodes) {
    ++r.steps;
    // Every decoding sequence has a token now, a gap after its previous one: the last
    // decoding iteration's end, or its first token if it joined since.
    uint64_t joined = 0;
    for (const auto& [at, n] : r.joined) {
      sink_.token_gaps(pool_id_, now - at, n);
      joined += n;
    }
    if (r.decoding.size() > joined) sink_.token_gaps(pool_id_, now - r.last_decode_end, r.decoding.size() - joined);
    r.joined.clear();
    r.last_decode_end = now;
  }
  // Sequences decoding in this iteration produced a token; those whose last it was leave.
  while (r.next_finish <= r.steps) {
    pop_earliest(r.decoding);
    const Decoding d = r.decoding.back();
    r.decoding.pop_back();
    heap_changed(r);
    r.kv_offsets -= d.offset;
    leave(d.id, Failure::kNone);
  }
  // Sequences whose prefill ended have their next token now (the first, unless resumed
  // after a preemption); chunked prompts with more to go carry over.
  if (r.prefilling.empty()) return start_iteration(index);
  size_t kept = 0;
  uint32_t joining = 0;
  for (size_t k = 0; k < r.prefilling.size(); ++k) {
    const Ticket ticket = r.prefilling[k];
    Job& j = track_[ticket.id].job;
    if (!live(ticket, Where::kPrefilling)) continue;  // timed out during the iteration
    const int64_t context = context_of(j);
    j.prefilled += r.chunk[k];
    if (j.prefilled < context) {
      r.prefilling[kept++] = ticket;
      continue;
    }
    r.kv_reserved -= context + 1;
    if (j.first_token < 0) j.first_token = now;
    else sink_.token_gaps(pool_id_, now - j.last_token, 1);  // resumed after a preemption
    ++j.generated;
    if (j.generated >= j.output_tokens) {
      leave(ticket.id, Failure::kNone);
      continue;
    }
    const int64_t offset = context + 1 - static_cast<int64_t>(r.steps);
    r.kv_offsets += offset;
    track_[ticket.id].where = Where::kDecoding;
    r.decoding.push_back({r.steps + (j.output_tokens - j.generated), offset, ticket.id,
                          static_cast<uint32_t>(track_[ticket.id].in_order)});
    std::push_heap(r.decoding.begin(), r.decoding.end(), later);
    ++joining;
  }
  if (joining > 0) heap_changed(r);
  r.prefilling.resize(kept);
  r.chunk.clear();
  // Joining at the decoding iteration's end (mixed), they count with the others.
  if (joining > 0 && now != r.last_decode_end) r.joined.emplace_back(now, joining);
  start_iteration(index);
}

}  // namespace canarysim
