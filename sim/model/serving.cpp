#include "sim/model/serving.h"

#include <algorithm>
#include <cassert>
#include <filesystem>
#include <limits>

#include "sim/io/config.h"

namespace canarysim {

namespace {
// Heap order for decoding sequences: the one finishing first on top.
constexpr auto later = [](const auto& a, const auto& b) { return a.finish > b.finish; };
}  // namespace

BatchingSpec BatchingSpec::parse(const ConfigMap& m) {
  m.allow({"profile", "iteration", "max_batch", "token_budget", "replicas", "autoscale"});
  BatchingSpec b;
  auto read_iteration = [&b](const ConfigMap& it) {
    it.allow({"base", "per_prefill_token", "per_decoding_sequence"});
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
    p.allow({"model", "hardware", "tensor_parallel", "iteration", "fit", "source"});
    read_iteration(p.map("iteration"));
  } else {
    read_iteration(m.map("iteration"));
  }
  b.max_batch = static_cast<uint32_t>(m.count("max_batch", b.max_batch, 1, 1 << 16));
  b.token_budget = static_cast<uint32_t>(m.count("token_budget", b.token_budget, 1, 1 << 24));
  if (m.has("replicas") && m.has("autoscale")) m.fail("autoscale", "either replicas or autoscale");
  b.replicas = static_cast<uint32_t>(m.count("replicas", b.replicas, 1, 1 << 20));
  if (m.has("autoscale")) {
    const ConfigMap a = m.map("autoscale");
    a.allow({"fleet", "min", "max", "lag"});
    b.autoscaled = true;
    b.autoscale.fleet = static_cast<uint32_t>(a.count("fleet", b.autoscale.fleet, 1, 1 << 20));
    b.autoscale.min = static_cast<uint32_t>(a.count("min", b.autoscale.min, 1, 1 << 20));
    b.autoscale.max =
        static_cast<uint32_t>(a.count("max", std::max(b.autoscale.fleet, b.autoscale.min), 1, 1 << 20));
    if (b.autoscale.max < b.autoscale.min) a.fail("max", "a maximum at least the minimum");
    b.autoscale.lag_s = a.duration("lag", b.autoscale.lag_s);
  }
  return b;
}

BatchingPool::BatchingPool(const BatchingSpec& spec, Engine& engine, uint32_t event_type,
                           uint32_t pool_id, CompletionSink& sink)
    : spec_(spec), engine_(engine), event_type_(event_type), pool_id_(pool_id), sink_(sink) {}

void BatchingPool::reset(uint32_t replicas) {
  replicas_.clear();
  queue_.clear();
  idle_.clear();
  target_ = lost_ = running_ = 0;
  prefill_slowdown_ = decode_slowdown_ = 1;
  error_above_batch_ = 0;
  replica_seconds_ = 0;
  last_account_ = engine_.now();
  set_replicas(replicas);
}

void BatchingPool::account() {
  const double now = engine_.now();
  replica_seconds_ += running_ * (now - last_account_);
  last_account_ = now;
}

double BatchingPool::replica_seconds() const {
  return replica_seconds_ + running_ * (engine_.now() - last_account_);
}

void BatchingPool::set_replicas(uint32_t n) {
  target_ = n;
  apply_size();
}

void BatchingPool::set_lost_replicas(uint32_t n) {
  lost_ = n;
  apply_size();
}

// Brings the running count towards target - lost: starts replicas (they take work at
// once), or retires idle ones now and busy ones when their batch empties.
void BatchingPool::apply_size() {
  account();
  const uint32_t want = target_ > lost_ ? target_ - lost_ : 0;
  uint32_t effective = 0;  // running and not retiring
  for (const Replica& r : replicas_) effective += r.running && !r.retiring;
  for (uint32_t i = 0; effective < want; ++i) {
    if (i == replicas_.size()) replicas_.emplace_back();
    Replica& r = replicas_[i];
    if (r.running && r.retiring) {  // un-retire first: it is still warm
      r.retiring = false;
      ++effective;
      if (!r.busy) idle_.push_back(i);
    } else if (!r.running) {
      r.running = true;
      ++running_;
      ++effective;
      idle_.push_back(i);
    }
  }
  for (uint32_t i = static_cast<uint32_t>(replicas_.size()); i-- > 0 && effective > want;) {
    Replica& r = replicas_[i];
    if (!r.running || r.retiring) continue;
    --effective;
    if (r.busy) {
      r.retiring = true;
    } else {
      r.running = false;
      --running_;
      idle_.erase(std::find(idle_.begin(), idle_.end(), i));
    }
  }
  // New replicas pull queued work now.
  while (!idle_.empty() && !queue_.empty()) {
    const uint32_t r = idle_.back();
    idle_.pop_back();
    start_iteration(r);
  }
}

void BatchingPool::submit(const Job& job) {
  queue_.push_back(job);
  if (!idle_.empty()) {
    const uint32_t r = idle_.back();
    idle_.pop_back();
    start_iteration(r);
  }
}

void BatchingPool::start_iteration(uint32_t index) {
  Replica& r = replicas_[index];
  uint64_t prefill_tokens = 0;
  while (!r.retiring && !queue_.empty()) {  // a retiring replica only finishes its batch
    const size_t batch = r.decoding.size() + r.prefilling.size();
    if (batch >= spec_.max_batch) break;
    const Job& next = queue_.front();
    // A prompt longer than the budget is prefilled alone: it waits for an iteration with
    // no other prefill, not for an empty batch (that would block the queue behind it).
    if (prefill_tokens > 0 && prefill_tokens + next.prompt_tokens > spec_.token_budget) break;
    if (error_above_batch_ > 0 && batch >= error_above_batch_) {
      // Failure under load: the replica cannot take more than this and rejects.
      const Job rejected = next;
      queue_.pop_front();
      sink_.completed(rejected, engine_.now(), engine_.now(), true);
      continue;
    }
    prefill_tokens += next.prompt_tokens;
    r.prefilling.push_back(next);
    queue_.pop_front();
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
  const double dt = spec_.b1_s * static_cast<double>(prefill_tokens) * prefill_slowdown_ +
                    (spec_.b0_s + spec_.b2_s * static_cast<double>(r.decoding.size())) *
                        decode_slowdown_;
  engine_.schedule(dt, event_type_, (pool_id_ << 24) | index);
}

void BatchingPool::on_iteration(uint32_t index) {
  Replica& r = replicas_[index];
  const double now = engine_.now();
  ++r.iterations;
  // Sequences decoding in this iteration produced a token; those whose last it was leave.
  while (!r.decoding.empty() && r.decoding.front().finish <= r.iterations) {
    std::pop_heap(r.decoding.begin(), r.decoding.end(), later);
    const Decoding d = r.decoding.back();
    r.decoding.pop_back();
    sink_.completed(d.job, d.first_token, now, false);
  }
  // Sequences prefilled in this iteration have their first token now.
  for (const Job& job : r.prefilling) {
    if (job.output_tokens <= 1) {
      sink_.completed(job, now, now, false);
      continue;
    }
    r.decoding.push_back({r.iterations + job.output_tokens - 1, now, job});
    std::push_heap(r.decoding.begin(), r.decoding.end(), later);
  }
  r.prefilling.clear();
  start_iteration(index);
}

}  // namespace canarysim
