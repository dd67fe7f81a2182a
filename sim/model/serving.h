// How a version serves requests: a cheap sampled latency model, or a pool of replicas
// running continuous batching at iteration level.
//
// Sampled (no load dependence): TTFT and inter-token latency drawn per request.
//   ttft: {median: 400ms, p99: 1.5s}
//   inter_token: {median: 30ms, p99: 60ms}
//
// Batched (latency grows with load; a canary pool can saturate):
//   batching:
//     profile: ../profiles/llama2-70b-h100-tp8.yaml  # the three coefficients, from calibrate
//     iteration: {base: 30ms, per_prefill_token: 90us, per_decoding_sequence: 320us}
//     max_batch: 64        # sequences in one iteration (default 64)
//     token_budget: 8192   # prefill tokens admitted per iteration (default 8192)
//     replicas: 8          # a fixed pool; or:
//     autoscale: {fleet: 16, min: 1, max: 16, lag: 3m}
//
// One iteration of a replica takes b0 + b1 * (prompt tokens prefilled in it) + b2 *
// (sequences decoding in it). Waiting requests are admitted at the start of an iteration,
// first come first served, while the batch has room and the prefill fits the token budget
// (a prompt longer than the budget is prefilled alone in an iteration). A request's first
// token comes at the end
// of the iteration that prefilled it (TTFT = queueing + prefill); then one token per
// iteration until its output is complete. One event per replica iteration, none per token.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "sim/model/engine.h"
#include "sim/model/traffic.h"

namespace canarysim {

class ConfigMap;

struct Autoscale {
  // Replicas the pool would need for all traffic; a pool serving share s of it asks for
  // ceil(s * fleet), within [min, max], and gets them `lag_s` later (replica start-up).
  uint32_t fleet = 8, min = 1, max = 64;
  double lag_s = 120;
};

struct BatchingSpec {
  double b0_s = 0.030;          // per iteration, seconds
  double b1_s = 0.00009;        // per prompt token prefilled, seconds
  double b2_s = 0.00032;        // per sequence decoding, seconds
  uint32_t max_batch = 64;
  uint32_t token_budget = 8192;
  uint32_t replicas = 8;        // fixed size, when not autoscaled
  bool autoscaled = false;
  Autoscale autoscale;

  static BatchingSpec parse(const ConfigMap& m);
};

struct ServingSpec {
  bool batched = false;
  Distribution ttft = Distribution::from_median_p99(0.4, 1.5);           // sampled, seconds
  Distribution inter_token = Distribution::from_median_p99(0.03, 0.06);  // sampled, s/token
  BatchingSpec batching;
};

// A request inside a pool.
struct Job {
  double arrival = 0;  // when it reached the pool
  uint32_t prompt_tokens = 1, output_tokens = 1;
  uint32_t id = 0;     // the caller's handle for the request's other data
};

// Receives requests as they leave a pool.
class CompletionSink {
 public:
  virtual ~CompletionSink() = default;
  // `failed`: rejected at admission (see BatchingPool::set_error_above_batch); then
  // first_token == done == the rejection time.
  virtual void completed(const Job& job, double first_token, double done, bool failed) = 0;
};

// A pool of replicas with continuous batching. Events it schedules have type
// `event_type` and target (pool_id << 24 | replica); the run passes them to on_iteration.
class BatchingPool {
 public:
  BatchingPool(const BatchingSpec& spec, Engine& engine, uint32_t event_type, uint32_t pool_id,
               CompletionSink& sink);

  void reset(uint32_t replicas);
  // A request arrives at the pool now.
  void submit(const Job& job);
  // The iteration of `replica` ended now.
  void on_iteration(uint32_t replica);

  // Replicas the pool should run; extra ones retire when their batch is empty.
  void set_replicas(uint32_t n);
  // Regressions: iteration time multipliers (prefill part, and base plus decode part),
  // replicas lost, and a batch size above which admissions fail (0: none).
  void set_slowdown(double prefill, double decode) {
    prefill_slowdown_ = prefill;
    decode_slowdown_ = decode;
  }
  void set_lost_replicas(uint32_t n);
  void set_error_above_batch(uint32_t n) { error_above_batch_ = n; }

  uint32_t replicas() const { return target_; }
  size_t queued() const { return queue_.size(); }
  // Replica-seconds of running replicas since reset, up to now.
  double replica_seconds() const;

  static uint32_t target_of(uint32_t event_target) { return event_target & 0xffffff; }
  static uint32_t pool_of(uint32_t event_target) { return event_target >> 24; }

 private:
  struct Decoding {
    uint64_t finish;  // the replica's iteration count at which the last token is out
    double first_token;
    Job job;
  };
  struct Replica {
    bool running = false;  // counted in the pool (it may still be finishing when retiring)
    bool busy = false;     // an iteration is in flight
    bool retiring = false;
    uint64_t iterations = 0;
    std::vector<Job> prefilling;       // admitted in the iteration in flight
    std::vector<Decoding> decoding;    // min-heap on finish
  };

  void start_iteration(uint32_t r);
  void account();  // adds running replicas x elapsed time to replica_seconds_
  void apply_size();

  const BatchingSpec& spec_;
  Engine& engine_;
  uint32_t event_type_, pool_id_;
  CompletionSink& sink_;
  std::vector<Replica> replicas_;
  std::deque<Job> queue_;
  std::vector<uint32_t> idle_;  // running, not busy, not retiring
  uint32_t target_ = 0, lost_ = 0, running_ = 0;
  double prefill_slowdown_ = 1, decode_slowdown_ = 1;
  uint32_t error_above_batch_ = 0;
  double replica_seconds_ = 0, last_account_ = 0;
};

}  // namespace canarysim
