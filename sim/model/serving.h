// How a version serves requests: a cheap sampled latency model, or a pool of replicas
// running continuous batching at iteration level.
//
// Sampled (no load dependence): TTFT and inter-token latency drawn per request.
//   ttft: {median: 400ms, p99: 1.5s}
//   inter_token: {median: 30ms, p99: 60ms}
//
// Batched (latency grows with load; a pool can saturate, time out and reject):
//   batching:
//     profile: ../profiles/llama2-70b-h100-tp8.yaml  # the three coefficients, from calibrate
//     iteration: {base: 30ms, per_prefill_token: 90us, per_decoding_sequence: 320us}
//     max_batch: 64        # sequences in one iteration (default 64)
//     token_budget: 8192   # prefill tokens admitted per iteration (default 8192)
//     scheduler: mixed     # or prefill_first (see Scheduler)
//     chunk_tokens: 512    # mixed only: chunked prefill, at most this many prompt tokens
//                          # per iteration, a long prompt split over iterations
//     kv_cache: {tokens: 1200000}   # KV-cache capacity per replica (see KvCacheSpec)
//     gpus: 8              # per replica (default: the profile's tensor_parallel, else 1)
//     replicas: 8          # a fixed pool (or auto: sized by the capacity check); or:
//     autoscale: {fleet: 16, min: 1, max: 16, lag: 3m}   # fleet: auto sizes it too
//     target_utilization: 70%   # what `auto` sizes for (default 70 %)
//
// One iteration of a replica takes b0 + b1 * (prompt tokens prefilled in it) + b2 *
// (sequences decoding in it). Waiting requests are admitted at the start of an iteration,
// first come first served, while the batch has room, the prefill fits the token budget
// (a prompt longer than the budget is prefilled alone in an iteration, unless chunked)
// and the KV cache holds its prompt. A request's first token comes at the end of the
// iteration that finished its prefill (TTFT = queueing + prefill); then one token per
// decoding iteration until its output is complete. One event per replica iteration,
// none per token.
//
// KV cache: a sequence holds its context (prompt plus tokens generated so far) times the
// pool's footprint factor (1, or more under a kv_footprint regression). When the next
// iteration's growth would not fit, the most recently arrived decoding sequence is
// preempted by recomputation, as vLLM does: it goes back to the front of the queue and,
// when readmitted, prefills its prompt and the tokens it had generated.
//
// Failures: a request still unfinished at its deadline (the version's `timeout`) fails
// then and frees its batch slot and memory; a request still queued when its user's
// patience runs out is abandoned; an arrival that finds `max_queue` requests waiting is
// rejected at once (HTTP 429). Each reaches the sink as a completion with its Failure.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sim/model/engine.h"
#include "sim/model/ring.h"
#include "sim/model/telemetry.h"
#include "sim/model/traffic.h"

namespace canarysim {

class ConfigMap;

struct Autoscale {
  // Replicas the pool would need for all traffic; a pool serving share s of it asks for
  // ceil(s * fleet), within [min, max], and gets them `lag_s` later (the autoscaler's
  // reaction; each new replica then takes the pool's `startup` before it serves).
  uint32_t fleet = 8, min = 1, max = 64;
  double lag_s = 120;
};

// The KV cache of one replica, in tokens of context. Given directly (`tokens`), or
// derived from the model's shape and the GPUs' memory as vLLM sizes it:
//   bytes per token = 2 (K and V) x layers x kv_heads x head_dim x bytes_per_value
//   tokens = (gpus x gpu_memory_gb x memory_utilization - weights_gb) x 1e9 / bytes per token
// e.g. llama-2-70B (80 layers, 8 KV heads of 128, fp16: 320 KiB a token) on 8 x 80 GB at
// 90 % with 138 GB of weights: about 1.33 M tokens.
struct KvCacheSpec {
  uint64_t tokens = 0;  // 0: unlimited (concurrency capped by max_batch only)
  static uint64_t derive(double gpus, double gpu_memory_gb, double memory_utilization,
                         double weights_gb, double layers, double kv_heads, double head_dim,
                         double bytes_per_value);
};

// How a replica's iterations mix prompt prefill and decoding.
//   mixed: waiting prompts are prefilled in the same iteration as the running sequences
//     decode (Orca-style continuous batching; with chunk_tokens, chunked prefill as in
//     Sarathi-Serve, vLLM's chunked-prefill mode and TensorRT-LLM's in-flight batching).
//   prefill_first: an iteration that can admit waiting prompts runs only their prefill
//     and decoding waits (vLLM's classic scheduler): each admission stalls every
//     running sequence, which is what makes inter-token p99 a multiple of its p50.
enum class Scheduler : uint8_t { kMixed, kPrefillFirst };

struct BatchingSpec {
  double b0_s = 0.030;          // per iteration, seconds
  double b1_s = 0.00009;        // per prompt token prefilled, seconds
  double b2_s = 0.00032;        // per sequence decoding, seconds
  uint32_t max_batch = 64;
  uint32_t token_budget = 8192;
  Scheduler scheduler = Scheduler::kMixed;
  uint32_t chunk_tokens = 0;    // mixed: prefill tokens per iteration when chunking (0: no chunks)
  KvCacheSpec kv_cache;
  uint32_t gpus = 1;            // per replica, for GPU-hours
  uint32_t replicas = 8;        // fixed size, when not autoscaled
  bool autoscaled = false;
  Autoscale autoscale;
  bool auto_size = false;           // replicas: auto / fleet: auto, resolved by the scenario
  double target_utilization = 0.7;  // what auto sizes for
  double startup_s = 0;             // a new replica serves this long after it starts (the version's startup)
  uint32_t max_queue = 0;           // requests waiting beyond which arrivals are rejected (0: none)

  static BatchingSpec parse(const ConfigMap& m);
  // The replicas for all traffic: `replicas`, or autoscale's `fleet`.
  uint32_t fleet() const { return autoscaled ? autoscale.fleet : replicas; }
};

struct ServingSpec {
  bool batched = false;
  Distribution ttft = Distribution::from_median_p99(0.4, 1.5);           // sampled, seconds
  Distribution inter_token = Distribution::from_median_p99(0.03, 0.06);  // sampled, s/token
  BatchingSpec batching;
};

// A request inside a pool.
struct Job {
  static constexpr double kNever = std::numeric_limits<double>::infinity();
  double arrival = 0;  // when it reached the pool
  uint32_t prompt_tokens = 1, output_tokens = 1;
  uint32_t id = 0;     // the caller's handle for the request's other data
  uint32_t cached_tokens = 0;  // of the prompt, served from the prefix cache (not prefilled)
  // The pool's own bookkeeping.
  uint32_t gen = 0;          // which submission of `id` this is
  uint32_t generated = 0;    // tokens generated before a preemption
  uint32_t prefilled = 0;    // context tokens prefilled so far (chunked prefill)
  double first_token = -1;   // when its first token came (< 0: not yet)
  double last_token = -1;    // when its last token before a preemption came
};

// Receives requests as they leave a pool.
class CompletionSink {
 public:
  virtual ~CompletionSink() = default;
  // A request left the pool at `done`; `first_token` < 0 when it never had one. With a
  // failure other than kNone it did not finish (see Failure).
  virtual void completed(const Job& job, double first_token, double done, Failure failure) = 0;
  // A decoding sequence was preempted for memory now.
  virtual void preempted(const Job& job) = 0;
  // `n` sequences of pool `pool_id` produced a token now, `gap` seconds after their
  // previous one (one call per group per iteration, not per token).
  virtual void token_gaps(uint32_t pool_id, double gap, uint64_t n) = 0;
  // A hint, no event: `id` will probably leave when the iteration in flight ends (its last
  // token is due then), so a sink may fetch what completed() will read into cache now,
  // while other events run, instead of stalling on it then.
  virtual void leaving_soon(uint32_t /*id*/) {}
};

// A pool of replicas with continuous batching. Events it schedules have type
// `event_type` and target (pool_id << 24 | replica); the run passes them to on_event.
class BatchingPool {
 public:
  BatchingPool(const BatchingSpec& spec, Engine& engine, uint32_t event_type, uint32_t pool_id,
               CompletionSink& sink);

  // Empties the pool and starts `replicas`, ready at once.
  void reset(uint32_t replicas);
  // A request arrives at the pool now. It fails if not finished by `deadline` (the
  // version's timeout), and is abandoned if still waiting for admission at `give_up`
  // (its user's patience).
  void submit(const Job& job, double deadline = Job::kNever, double give_up = Job::kNever);
  // An event of this pool fired: a replica's iteration ended or its start-up is over, or
  // a deadline came.
  void on_event(uint32_t target);

  // Replicas the pool should run; extra ones retire when their batch is empty, new ones
  // serve after the start-up time.
  void set_replicas(uint32_t n);
  // Regressions: iteration time multipliers (prefill part, and base plus decode part),
  // replicas lost, a batch size above which admissions fail (0: none), and the KV
  // footprint per token (1: as the model's).
  void set_slowdown(double prefill, double decode) {
    prefill_slowdown_ = prefill;
    decode_slowdown_ = decode;
  }
  void set_lost_replicas(uint32_t n);
  void set_error_above_batch(uint32_t n) { error_above_batch_ = n; }
  void set_kv_footprint(double factor) { kv_factor_ = factor; }

  uint32_t replicas() const { return target_; }
  uint32_t ready_replicas() const;  // running and past start-up
  size_t queued() const { return live_queued_; }
  // Replica-seconds of running replicas (starting ones included) since reset, up to now.
  double replica_seconds() const;

  static uint32_t target_of(uint32_t event_target) { return event_target & 0xffffff; }
  static uint32_t pool_of(uint32_t event_target) { return event_target >> 24; }

 private:
  static constexpr uint32_t kDeadlineTarget = 0xffffff;
  // A job's handle in queues: its id and which submission of the id it is.
  struct Ticket {
    uint32_t id, gen;
  };
  struct Decoding {
    uint64_t finish;  // the replica's decode step at which the last token is out
    int64_t offset;   // context tokens minus the decode step (context = offset + steps)
    uint32_t id;
    uint32_t order;   // its timeout's number in in_order_, low 32 bits (to prefetch; see Track)
  };
  static constexpr uint64_t kNoFinish = UINT64_MAX;
  // Laid out for the iteration that only decodes (most of them): what it reads is in the
  // first two cache lines.
  struct alignas(64) Replica {
    bool running = false;  // counted in the pool (it may still be finishing when retiring)
    bool busy = false;     // an iteration is in flight
    bool retiring = false;
    bool starting = false; // loading weights: serves from ready_at on
    bool decodes = false;  // the iteration in flight advances the decoding sequences
    uint64_t steps = 0;    // decoding iterations done
    uint64_t next_finish = kNoFinish;  // decoding.front().finish, kept so as not to read the heap
    double last_decode_end = 0;      // when the decoding sequences had their last token
    std::vector<Decoding> decoding;  // min-heap on finish
    int64_t kv_offsets = 0;          // sum of decoding offsets
    std::vector<Ticket> prefilling;  // admitted, prefilling in the iteration in flight
    // Sequences that joined decoding since: when, and how many (prefill_first runs
    // prefill iterations between decoding ones).
    std::vector<std::pair<double, uint32_t>> joined;
    int64_t kv_reserved = 0;         // context (+ first token) of admitted prefills
    double ready_at = 0;
    // Prefill tokens of each of `prefilling` in the iteration in flight; empty between
    // iterations.
    std::vector<uint32_t> chunk;
  };
  // After any change to r.decoding.
  static void heap_changed(Replica& r) { r.next_finish = r.decoding.empty() ? kNoFinish : r.decoding.front().finish; }
  enum class Where : uint8_t { kGone, kQueued, kPrefilling, kDecoding };
  static constexpr uint32_t kNoExpiry = UINT32_MAX;
  struct Track {  // the current submission of an id: the job and where it is
    Job job;
    Where where = Where::kGone;
    uint32_t replica = 0;
    uint32_t expiry[2] = {kNoExpiry, kNoExpiry};  // its timeout's and patience's places in expiries_
    uint64_t in_order = kNoOrder;                 // or its timeout's number in in_order_
  };
  static constexpr uint64_t kNoOrder = UINT64_MAX;
  struct Expiry {
    double at;
    uint32_t id, gen;
    bool abandon;  // patience (only while queued before a first token), else timeout
  };

  void on_other_event(uint32_t target);
  void start_iteration(uint32_t r);
  void end_iteration(uint32_t r);
  void on_deadlines();
  void watch(double at, uint32_t id, uint32_t gen, bool abandon);
  // The expiry heap, with each entry's place kept in its Track so that a request that
  // leaves, or is admitted (patience no longer applies), takes its entries out at once:
  // the heap holds only requests in the pool, and deadline events fire only for them.
  void place_expiry(size_t i, const Expiry& e) {
    expiries_[i] = e;
    track_[e.id].expiry[e.abandon] = static_cast<uint32_t>(i);
  }
  void sift_expiry_up(size_t i);
  void sift_expiry_down(size_t i);
  void drop_expiry(uint32_t id, bool abandon) {
    if (in_order_.empty() && expiries_.empty()) return;  // nothing watched (no timeout, no patience)
    drop_watched_expiry(id, abandon);
  }
  void drop_watched_expiry(uint32_t id, bool abandon);
  // Timeouts are the arrival plus the version's timeout, so they come in order unless the
  // path before the model reorders arrivals: those in order wait in a queue (O(1); an
  // entry that leaves is marked, and marks at the front are popped), the rest in the heap.
  // The next expiry is the earlier of the two fronts.
  const Expiry* next_expiry();
  bool live(Ticket t, Where where) const { return track_[t.id].job.gen == t.gen && track_[t.id].where == where; }
  // The job leaves the pool: to the sink, with its first token's time.
  void leave(uint32_t id, Failure failure);
  void remove_decoding(Replica& r, std::vector<Decoding>::iterator it);
  void preempt_for_memory(Replica& r);
  void prefetch_leaving(const Replica& r);
  double kv_next(const Replica& r) const;
  // KV-cache tokens a replica holds at the current footprint.
  double kv_capacity() const { return static_cast<double>(spec_.kv_cache.tokens) / kv_factor_; }
  // An iteration's duration: prefilling `prefill_tokens` while `decoding` sequences decode.
  double iteration_time(uint64_t prefill_tokens, double decoding) const {
    return spec_.b1_s * static_cast<double>(prefill_tokens) * prefill_slowdown_ + decode_time(decoding);
  }
  // The same with no prefill: iteration_time(0, decoding) to the bit, since the prefill
  // term is then a zero of either sign (b1 and the slowdown are finite), and adding one to
  // the decode term changes nothing.
  double decode_time(double decoding) const { return (spec_.b0_s + spec_.b2_s * decoding) * decode_slowdown_; }
  // The iteration begun on replica `index` ends `duration` from now.
  void schedule_iteration(uint32_t index, double duration);
  void account();  // adds running replicas x elapsed time to replica_seconds_
  void apply_size();
  void start_replica(uint32_t i, bool at_once);

  const BatchingSpec& spec_;
  Engine& engine_;
  uint32_t event_type_, pool_id_;
  CompletionSink& sink_;
  std::vector<Replica> replicas_;
  Ring<Ticket> queue_;          // may hold jobs that left (timed out, abandoned): skipped
  size_t live_queued_ = 0;
  std::vector<uint32_t> idle_;  // running, ready, not busy, not retiring
  std::vector<Track> track_;    // by job id
  std::vector<Expiry> expiries_;  // min-heap on `at` of the requests in the pool
  Ring<Expiry> in_order_;       // timeouts in order of `at` (left ones marked: id kNoExpiry)
  uint64_t in_order_first_ = 0;   // the number of in_order_.front()
  double next_deadline_event_ = Job::kNever;
  uint32_t target_ = 0, lost_ = 0, running_ = 0;
  double prefill_slowdown_ = 1, decode_slowdown_ = 1, kv_factor_ = 1;
  uint32_t error_above_batch_ = 0;
  double replica_seconds_ = 0, last_account_ = 0;
};

// Inline, so that the run's event loop takes the most common event without a call.
inline void BatchingPool::on_event(uint32_t target) {
  if (target != kDeadlineTarget) {
    Replica& r = replicas_[target];
    // Most iterations only decode, and end with no sequence finishing, none joining and
    // none prefilling; when nothing waits for admission either (or the replica retires)
    // and the KV cache holds the next step, the next iteration is one like it. That case
    // takes exactly the steps end_iteration() and start_iteration() would, without their
    // search for the general ones. (A batch emptied by timeouts during the iteration is
    // not it.)
    if (!r.starting && r.busy && r.decodes && r.next_finish > r.steps + 1 && r.prefilling.empty() &&
        r.joined.empty() && !r.decoding.empty()) [[likely]] {
      const double now = engine_.now(), gap = now - r.last_decode_end;
      const size_t decoding = r.decoding.size();  // the sink cannot change it
      ++r.steps;
      r.last_decode_end = now;
      sink_.token_gaps(pool_id_, gap, decoding);
      if ((r.retiring || queue_.empty()) && (spec_.kv_cache.tokens == 0 || kv_next(r) <= kv_capacity())) {
        return schedule_iteration(target, decode_time(static_cast<double>(decoding)));
      }
      return start_iteration(target);
    }
  }
  on_other_event(target);
}

// Sequences the iteration finishes have their bookkeeping fetched now.
inline void BatchingPool::schedule_iteration(uint32_t index, double duration) {
  const Replica& r = replicas_[index];
  engine_.schedule(duration, event_type_, (pool_id_ << 24) | index);
  if (r.decodes && r.next_finish <= r.steps + 1) prefetch_leaving(r);
}

// What one replica of `spec` serves per second at its best batch, for a token mix of
// mean `prefill_tokens` prefilled per request (the prompt less its prefix-cache hit),
// `context_tokens` (the whole prompt, which the KV cache holds) and `output_tokens`:
// X = n / (O (b0 + b2 n) + b1 P n) at n = max_batch, or fewer when the KV cache holds
// fewer sequences of mean context C + O / 2. Both schedulers do the same work per
// request, so this is their shared ceiling; queueing makes latency climb well before it.
double replica_capacity(const BatchingSpec& spec, double prefill_tokens, double context_tokens,
                        double output_tokens);

}  // namespace canarysim
