// Telemetry as a policy sees it: per-version counters and latency histograms per time
// window, readable only after a scrape delay, as a monitoring system delivers them.
//
// A finished request is counted in the window in which it finishes (monitoring observes
// a request when it completes). A policy reading at time t sees only windows that ended
// at or before t - scrape_delay; fresher data is not there yet. Memory is a fixed ring of
// windows per version, sized from the delay, the longest lookback a policy uses and the
// longest request: it does not grow with the number of requests or the horizon.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "sim/model/histogram.h"

namespace canarysim {

enum class Version : uint8_t { kBaseline = 0, kCanary = 1 };
inline const char* version_name(Version v) { return v == Version::kCanary ? "canary" : "baseline"; }

// Longest request a run's telemetry keeps exact timing for (see Telemetry), seconds.
constexpr double kMaxRecordedLatencyS = 600;

// Dimensions of the simulated response embeddings that drift checks compare.
constexpr int kEmbeddingDims = 8;

// Why a request did not finish. Every failure counts as an error in error_rate; timeouts,
// rejections and abandonments are also counted on their own (timeout_rate, ...).
enum class Failure : uint8_t {
  kNone,
  kError,      // the model or a component failed it
  kTimeout,    // not finished by the version's timeout (server-side deadline)
  kRejected,   // the queue was full at arrival (HTTP 429)
  kAbandoned,  // its user gave up while it waited for admission (client disconnect)
};

// One finished request, as monitoring sees it.
struct Completion {
  bool error = false;      // failed in any way (failure says how, when not a plain error)
  Failure failure = Failure::kNone;
  bool hallucinated = false;
  bool adversarial = false;
  bool unsafe = false;     // an unsafe answer (to an adversarial prompt)
  bool graded = false;     // sampled for evaluation: has a quality score and an embedding
  double quality = 0;      // graded quality score in [0, 1]
  uint32_t prompt_tokens = 0, output_tokens = 0;
  double cost = 0;         // token cost of the request
  double ttft = 0, itl = 0, latency = 0;  // seconds
  const double* embedding = nullptr;      // kEmbeddingDims values, when graded
};

// What a monitoring query over a time range returns for one version. Latency and
// hallucination figures cover successful requests only (errors are counted, not timed);
// quality scores and embeddings cover the graded sample of them.
struct WindowStats {
  double from = 0, to = 0;  // the time range covered, seconds
  uint64_t requests = 0;    // finished requests, successful or not
  uint64_t errors = 0;       // failed in any way, timeouts, rejections and abandons included
  uint64_t timeouts = 0, rejected = 0, abandoned = 0;
  uint64_t preemptions = 0;  // sequences preempted for KV-cache memory (when they happened)
  uint64_t hallucinations = 0;
  uint64_t adversarial = 0, unsafe = 0;
  uint64_t graded = 0;
  double quality_sum = 0, quality_sq_sum = 0;
  // Golden-set evaluations: quality scores of a fixed prompt set, graded periodically.
  uint64_t golden = 0;
  double golden_sum = 0;
  double prompt_tokens = 0, output_tokens = 0, cost = 0;
  Histogram ttft;     // time to first token, seconds
  Histogram itl;      // mean inter-token latency of each request, seconds per token
  // Every gap between consecutive output tokens, each token counted (vLLM's
  // time_per_output_token histogram; its benchmarks' "ITL"): where scheduler stalls show.
  Histogram token_gap;
  Histogram latency;  // end-to-end latency, seconds
  // Moments of the graded responses' embeddings: sums and sums of products.
  std::array<double, kEmbeddingDims> embedding_sum{};
  std::array<double, kEmbeddingDims * kEmbeddingDims> embedding_cross{};

  uint64_t successes() const { return requests - errors; }
  double error_rate() const {
    return requests ? static_cast<double>(errors) / static_cast<double>(requests) : 0.0;
  }
  void add(const Completion& c);
  void merge(const WindowStats& other);
  // Every count and sum of traffic times k, golden-set evaluations (a fixed prompt set)
  // excepted: a 1-in-k sample's figures as estimates of the whole fleet's.
  void scale(uint32_t k);
};

struct TelemetryOptions {
  // Granularity of the metrics, seconds: a scrape interval. Default 10 s.
  double window_s = 10;
  // Age of the freshest data a policy can read, seconds: scrape interval plus pipeline
  // lag plus query caching. Default 30 s; typical 15 s to 2 min.
  double scrape_delay_s = 30;
  // Share of successful responses graded for quality and embedded for drift checks, as
  // an LLM judge or evaluation pipeline samples them. Default 2 %.
  double eval_sample = 0.02;
  // Golden-set evaluations: every golden_every_s (0: none), golden_size prompts of a
  // fixed set are answered by each version and graded.
  double golden_every_s = 0;
  uint32_t golden_size = 200;
  // Not a key: under scaled fidelity, reads return counts times this (sim/model/fidelity.h).
  uint32_t count_scale = 1;
};

class Telemetry {
 public:
  // max_lookback_s: the longest range a policy will read; max_latency_s: requests that
  // take longer are counted in the window max_latency_s after they arrived (it only
  // bounds memory, and is far above any latency a scenario produces).
  Telemetry(const TelemetryOptions& options, double max_lookback_s, double max_latency_s);
  // The memory such a telemetry holds, bytes (for limits: computed without allocating).
  static double ring_bytes(const TelemetryOptions& options, double max_lookback_s, double max_latency_s);

  // Forgets everything recorded; keeps the memory.
  void reset();

  // Records a request that arrived at `now` and finishes at `done` (>= now).
  void record(Version v, double now, double done, const Completion& c) {
    stats_at(v, done < now + max_latency_s_ ? done : now + max_latency_s_).add(c);
  }

  // Records `n` output tokens that came `gap` seconds after their sequence's previous one.
  void record_token_gaps(Version v, double now, double gap, uint64_t n) {
    stats_at(v, now).token_gap.record(gap, n);
  }

  // Records a preemption of a decoding sequence at `now`.
  void record_preemption(Version v, double now) { ++slot_for(v, window_of(now)).stats.preemptions; }

  // Records a golden-set evaluation of one prompt, graded `quality`, at `now`.
  void record_golden(Version v, double now, double quality) {
    WindowStats& s = slot_for(v, window_of(now)).stats;
    ++s.golden;
    s.golden_sum += quality;
  }

  // The data a policy can see at `now`: complete windows in
  // [now - delay - lookback, now - delay). REQUIRES: lookback_s <= max_lookback_s.
  WindowStats read(Version v, double now, double lookback_s) const;

 private:
  struct Slot {
    int64_t window = -1;  // which window this slot currently holds
    WindowStats stats;
  };
  // The window holding time t. A time a rounding error short of a boundary (a tick at
  // 3 x 0.1 s reads 0.30000000000000004, a delay subtracted from it less) belongs to the
  // window the boundary starts, so that reads at exact multiples of the window meet.
  int64_t window_of(double t) const {
    return static_cast<int64_t>(std::floor(t / options_.window_s + 1e-9));
  }
  Slot& slot_for(Version v, int64_t window) {
    Slot& s = ring_[static_cast<size_t>(v) * slots_ + static_cast<size_t>(window % slots_)];
    if (s.window != window) {
      s.stats = WindowStats{};
      s.window = window;
    }
    return s;
  }
  // The slot of the window holding time t. Most writes land in the window of the one
  // before, so it is remembered with bounds a hair inside the window's edges (a time
  // near an edge takes the exact path): no division on the hot path, same slot as ever.
  // The exact path is out of line, so that the hot one saves no registers.
  WindowStats& stats_at(Version v, double t) {
    const Recent& r = recent_[static_cast<size_t>(v)];
    if (t >= r.from && t < r.to && r.slot->window == r.window) [[likely]] return r.slot->stats;
    return stats_in_new_window(v, t);
  }
  [[gnu::noinline]] WindowStats& stats_in_new_window(Version v, double t);

  static double slots_for(const TelemetryOptions& options, double max_lookback_s, double max_latency_s);

  TelemetryOptions options_;
  double max_lookback_s_;
  double max_latency_s_;
  int64_t slots_;  // per version
  std::vector<Slot> ring_;
  struct Recent {
    double from = 0, to = -1;  // empty until first used
    int64_t window = -1;
    Slot* slot = nullptr;
  };
  std::array<Recent, 2> recent_;
};

}  // namespace canarysim
