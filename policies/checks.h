// Metric checks shared by policies: which number to compute from a window of telemetry,
// and whether it is within bounds, absolutely or relative to the baseline.
//
// Metric names (YAML `metric:`):
//   error_rate               errors / requests
//   success_rate             1 - error_rate (Argo templates often judge success ratios)
//   request_count            finished requests in the window
//   ttft_pXX, ttft_mean      time to first token (XX: any quantile, e.g. p50, p99, p99.9)
//   itl_pXX,  itl_mean       inter-token latency (per request mean, seconds per token;
//                            vLLM's benchmarks call it TPOT)
//   token_gap_pXX, _mean     every gap between consecutive output tokens (vLLM's
//                            time_per_output_token histogram; its benchmarks' ITL)
//   latency_pXX, latency_mean  end-to-end latency
//   quality_mean             mean quality score of the graded responses
//   golden_quality_mean      mean quality score of the golden-set evaluations
//   hallucination_rate       hallucinations / successful responses
//   unsafe_rate              unsafe answers / adversarial prompts
//   output_tokens_mean       mean output tokens of successful responses
//   cost_per_request         mean token cost per request
//   timeout_rate             requests that hit the version's timeout / requests
//   rejected_rate            requests rejected at a full queue (HTTP 429) / requests
//   abandoned_rate           requests whose users gave up waiting / requests
//   preemption_rate          KV-cache preemptions / finished requests (can exceed 1)
//   preemption_count         KV-cache preemptions in the window
// Timeouts, rejections and abandonments are errors too: error_rate counts them.
#pragma once

#include <optional>
#include <string>

#include "policies/policy.h"
#include "sim/model/telemetry.h"

namespace canarysim {

class ConfigMap;

struct Metric {
  enum class Sli {
    kErrorRate, kSuccessRate, kRequestCount, kTtft, kItl, kLatency,
    kQuality, kGoldenQuality, kHallucinationRate, kUnsafeRate, kOutputTokens, kCostPerRequest,
    kTimeoutRate, kRejectedRate, kAbandonedRate, kPreemptionRate, kPreemptionCount, kTokenGap
  };
  enum class Stat { kValue, kMean, kQuantile };
  Sli sli = Sli::kErrorRate;
  Stat stat = Stat::kValue;
  double quantile = 0;  // kQuantile: in (0, 1)
  std::string name;     // as written

  bool is_time() const {
    return sli == Sli::kTtft || sli == Sli::kItl || sli == Sli::kLatency || sli == Sli::kTokenGap;
  }
  // Rates of bad events (errors, hallucinations, unsafe answers): what count tests judge.
  bool is_rate() const {
    return sli == Sli::kErrorRate || sli == Sli::kHallucinationRate || sli == Sli::kUnsafeRate ||
           sli == Sli::kTimeoutRate || sli == Sli::kRejectedRate || sli == Sli::kAbandonedRate;
  }
  // Values that are probabilities, written 0.02 or 2 % in files.
  bool is_probability() const { return is_rate() || sli == Sli::kSuccessRate; }
  // nullopt for an unknown name.
  static std::optional<Metric> parse(const std::string& name);
  // nullopt when the window holds nothing to compute it from.
  std::optional<double> value(const WindowStats& w) const;
};

// Canary requests a judgement of `metric` needs: min_samples, and for a quantile q at
// least 1 / (1 - q) (a p99 from fewer than 100 requests is their maximum, or less).
double requests_needed(const Metric& metric, double min_samples);
// What a judgement of `metric` over `window_s` of data at canary share `weight` needs
// (policies/policy.h): requests_needed(), with why in words ("min_samples 300", "a p99
// needs 100 requests").
SampleNeed request_need(std::string field, std::string what, const Metric& metric, double min_samples,
                        double window_s, double weight);

struct CheckResult {
  enum class Status { kPass, kFail, kNoData };
  Status status = Status::kNoData;
  double value = 0;   // canary value, or canary/baseline ratio for ratio checks
  std::string text;   // e.g. "ttft_p99 ratio 1.31 > 1.20 (canary 2.62s, baseline 2.00s)"
};

// One check of a policy. YAML:
//   - metric: ttft_p99     # see above
//     max_ratio: 1.2       # canary / baseline at most this; or max_increase: canary -
//                          # baseline at most this (the usable relative form for rare
//                          # events); or max, min: absolute bounds
//     min_samples: 50      # fewer canary requests in the window: no data (default 1)
struct Check {
  std::string name;          // defaults to the metric name
  Metric metric;
  std::optional<double> max;        // canary value at most this
  std::optional<double> min;        // canary value at least this
  std::optional<double> max_ratio;  // canary / baseline at most this
  std::optional<double> max_increase;  // canary - baseline at most this
  uint64_t min_samples = 1;         // canary requests needed to judge

  static Check parse(const ConfigMap& m);
  CheckResult evaluate(const WindowStats& canary, const WindowStats& baseline) const;
};

}  // namespace canarysim
