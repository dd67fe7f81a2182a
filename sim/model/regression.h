// Regressions injected into the canary: what goes wrong, from when, how it grows, and
// which requests it hits.
//
//   regressions:
//     - name: slow-prefill
//       kind: latency             # see Kind below for each kind's keys
//       ttft_multiplier: 1.25
//       onset: 10m                # or {weight: 25%}: once the canary weight reaches 25 %
//       shape: step               # or {ramp: 30m} (linear drift), or {bursts: {on: 1m, off: 4m}}
//       scope: all                # or {segment: eu}, or {min_prompt_tokens: 4000}
//       component: safety-filter  # optional: a topology component instead of the model
//
// A regression acts on the canary's model, or on a topology component: on the canary's
// instance of it, or on both versions' when the component is shared. A shared-component
// regression is an incident, not a bad canary: rolling the canary back for it counts as
// a false rollback, and it adds nothing to the blast radius.
//
// Its intensity s(t) in [0, 1] is 0 before the onset, then 1 (step), rises linearly over
// the ramp, or alternates 1 and 0 (bursts). An effect of size m acts as 1 + s (m - 1)
// (multipliers) or s * m (added rates).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace canarysim {

class ConfigMap;
struct Request;

struct Regression {
  enum class Kind {
    kLatency,        // ttft_multiplier, itl_multiplier (a batched pool: slower iterations)
    kTailLatency,    // probability, multiplier: that share of requests is slower (moves p99)
    kCapacityLoss,   // replicas_lost, and/or error_above_batch (fails admissions under load)
    kErrors,         // error_rate (absolute) or added_error_rate
    kQuality,        // quality_drop: subtracted from the quality score
    kHallucination,  // hallucination_rate: added
    kDrift,          // shift: response embedding mean moves by this many sd
    kVerbosity,      // output_multiplier: more output tokens (latency and cost)
    kUnsafe,         // unsafe_rate: added, on adversarial prompts
    kCost,           // cost_multiplier: per-request cost
    kKvFootprint,    // multiplier: KV-cache memory per token (a batched pool with kv_cache)
    kPrefixCache,    // hit_multiplier: the cached share of each prompt (0: no more hits)
  };
  enum class Shape { kStep, kRamp, kBursts };

  std::string name;
  Kind kind = Kind::kLatency;
  double onset_s = 0;        // seconds after the start...
  double onset_weight = -1;  // ...or, when >= 0, once the canary weight first reaches this
  Shape shape = Shape::kStep;
  double ramp_s = 0;
  double burst_on_s = 0, burst_off_s = 0;
  int segment = -1;               // only this segment's requests (-1: all)
  uint32_t min_prompt_tokens = 0; // only prompts at least this long
  std::string component;          // "" : the model
  bool shared = false;            // the component is shared by both versions

  double ttft_multiplier = 1, itl_multiplier = 1;
  double tail_probability = 0, tail_multiplier = 1;
  uint32_t replicas_lost = 0, error_above_batch = 0;
  double error_rate = -1, added_error_rate = 0;
  double quality_drop = 0;
  double hallucination_rate = 0;
  double drift_shift = 0;
  double output_multiplier = 1;
  double unsafe_rate = 0;
  double cost_multiplier = 1;
  double kv_multiplier = 1;
  double cache_hit_multiplier = 1;

  // True when the effect acts on every request of a pool at once (slower iterations,
  // lost replicas), rather than request by request.
  bool pool_wide() const {
    return kind == Kind::kCapacityLoss || kind == Kind::kKvFootprint ||
           (kind == Kind::kLatency && segment < 0 && min_prompt_tokens == 0 && component.empty());
  }
  bool in_scope(uint32_t segment_of_request, uint32_t prompt_tokens) const {
    return (segment < 0 || static_cast<uint32_t>(segment) == segment_of_request) &&
           prompt_tokens >= min_prompt_tokens;
  }
  // s(t) for a regression that started at `onset`.
  double intensity(double t, double onset) const;
  // Times after `t` at which intensity changes (the next one), or +inf.
  double next_change(double t, double onset) const;

  // `segments`: the scenario's segment names, for `scope: {segment: ...}`.
  static Regression parse(const ConfigMap& m, size_t index, const std::vector<std::string>& segments);
};

const char* regression_kind_name(Regression::Kind k);

}  // namespace canarysim
