#include "sim/model/regression.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

using namespace schema;

// Each kind: its name, and its own keys beside those every regression has.
struct KindInfo {
  const char* name;
  Regression::Kind kind;
  std::vector<SchemaField> fields;
};

const KindInfo kKinds[] = {
    {"latency", Regression::Kind::kLatency,
     {{"ttft_multiplier", kNumber, "1", "[0, 10^4]", "multiplies time to first token"},
      {"itl_multiplier", kNumber, "1", "[0, 10^4]", "multiplies the time between tokens"}}},
    {"tail_latency", Regression::Kind::kTailLatency,
     {{"probability", kFraction, "", "[0, 1]", "share of requests slowed"},
      {"multiplier", kNumber, "", "[1, 10^4]", "multiplies their latency"}}},
    {"capacity_loss", Regression::Kind::kCapacityLoss,
     {{"replicas_lost", kCount, "0", "[0, 2^20]", "canary replicas lost (batched)"},
      {"error_above_batch", kCount, "0", "[0, 2^20]", "requests fail when a replica's batch exceeds this"}}},
    {"errors", Regression::Kind::kErrors,
     {{"error_rate", kFraction, "(none)", "[0, 1]", "the canary's error rate becomes this (or added_error_rate)"},
      {"added_error_rate", kFraction, "0", "[0, 1]", "added to the canary's own error rate"}}},
    {"quality", Regression::Kind::kQuality,
     {{"quality_drop", kNumber | kFraction, "", "[0, 1]", "subtracted from the quality score"}}},
    {"hallucination", Regression::Kind::kHallucination,
     {{"hallucination_rate", kFraction, "", "[0, 1]", "the canary's hallucination rate"}}},
    {"drift", Regression::Kind::kDrift,
     {{"shift", kNumber, "", "[0, 10^4]", "shift of the output distribution, in standard deviations"}}},
    {"verbosity", Regression::Kind::kVerbosity,
     {{"output_multiplier", kNumber, "", "[0, 10^4]", "multiplies output tokens"}}},
    {"unsafe", Regression::Kind::kUnsafe,
     {{"unsafe_rate", kFraction, "", "[0, 1]", "the canary's unsafe answer rate on adversarial prompts"}}},
    {"cost", Regression::Kind::kCost, {{"cost_multiplier", kNumber, "", "[0, 10^4]", "multiplies the canary's costs"}}},
    {"kv_footprint", Regression::Kind::kKvFootprint,
     {{"multiplier", kNumber, "", "[0.01, 10^4]", "multiplies the KV-cache memory a token takes"}}},
    {"prefix_cache", Regression::Kind::kPrefixCache,
     {{"hit_multiplier", kNumber | kFraction, "", "[0, 1]", "multiplies the prefix-cache hit share"}}},
};

// The keys every regression has.
const std::vector<SchemaField> kCommonFields = {
    {"name", kText, "KIND-INDEX", "", "the regression's name in reports"},
    {"kind", kText, "", "a kind", "what goes wrong (each kind's section lists its keys)"},
    {"onset", kDuration | kMap, "0s", ">= 0, or {weight: W}", "when it starts: a time, or {weight: 25%} when the canary first reaches that weight"},
    {"shape", kText | kMap, "step", "step, {ramp: D}, {bursts: {on: D, off: D}}", "how its intensity grows: at once, linearly over D, or on and off"},
    {"scope", kText | kMap, "all", "all, {segment: S}, {min_prompt_tokens: N}", "which requests it hits"},
    {"component", kText, "the model", "a topology component", "latency, tail_latency and errors: in that component instead of the model"},
};

// One section a kind, in kKinds' order: the common keys, then the kind's own.
std::vector<std::unique_ptr<Section>> make_kind_sections() {
  std::vector<std::unique_ptr<Section>> out;
  for (const KindInfo& k : kKinds) {
    std::vector<SchemaField> fields = kCommonFields;
    fields.insert(fields.end(), k.fields.begin(), k.fields.end());
    out.push_back(std::make_unique<Section>("scenario", std::string("regressions[] (kind: ") + k.name + ")",
                                            "A regression injected into the canary.", std::move(fields)));
  }
  return out;
}
const std::vector<std::unique_ptr<Section>> kKindSections = make_kind_sections();

const Section kOnset{"scenario", "regressions[].onset", "A regression that starts when the canary first reaches a weight.", {
    {"weight", kPercent, "", "[0, 100]", "the canary's weight"},
}};
const Section kShape{"scenario", "regressions[].shape", "How a regression's intensity grows (one key).", {
    {"ramp", kDuration, "(none)", ">= 0", "linearly from 0 to full over this time"},
    {"bursts", kMap, "(none)", "", "on and off: section regressions[].shape.bursts"},
}};
const Section kShapeBursts{"scenario", "regressions[].shape.bursts", "A regression that comes and goes.", {
    {"on", kDuration, "", "> 0", "active this long"},
    {"off", kDuration, "", ">= 0", "then inactive this long"},
}};
const Section kScope{"scenario", "regressions[].scope", "Which requests a regression hits.", {
    {"segment", kText, "(none)", "a traffic segment", "only this segment's requests"},
    {"min_prompt_tokens", kCount, "0", "[0, 2^30]", "only prompts at least this long"},
}};

}  // namespace

const char* regression_kind_name(Regression::Kind k) {
  for (const KindInfo& i : kKinds)
    if (i.kind == k) return i.name;
  return "?";
}

double Regression::intensity(double t, double onset) const {
  if (t < onset) return 0;
  switch (shape) {
    case Shape::kStep: return 1;
    case Shape::kRamp: return ramp_s > 0 ? std::min(1.0, (t - onset) / ramp_s) : 1;
    case Shape::kBursts: return std::fmod(t - onset, burst_on_s + burst_off_s) < burst_on_s ? 1 : 0;
  }
  return 1;
}

double Regression::next_change(double t, double onset) const {
  if (t < onset) return onset;
  switch (shape) {
    case Shape::kStep: return kInf;
    case Shape::kRamp: {
      // A ramp moves in 50 steps: fine enough for any window a policy reads.
      const double step = ramp_s / 50;
      if (t - onset >= ramp_s) return kInf;
      return onset + step * (std::floor((t - onset) / step + 1e-9) + 1);
    }
    case Shape::kBursts: {
      const double cycle = burst_on_s + burst_off_s, into = std::fmod(t - onset, cycle);
      return t + (into < burst_on_s ? burst_on_s - into : cycle - into);
    }
  }
  return kInf;
}

Regression Regression::parse(const ConfigMap& m, size_t index,
                             const std::vector<std::string>& segments) {
  Regression r;
  const std::string kind = m.text("kind");
  const KindInfo* info = nullptr;
  std::vector<std::string> names;
  for (const KindInfo& i : kKinds) {
    names.push_back(i.name);
    if (kind == i.name) info = &i;
  }
  if (!info) {
    const std::string guess = nearest(kind, names);
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    m.reject("kind", "unknown regression kind '" + kind + "'" +
                         (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                         "; expected one of: " + list);
  }
  m.allow(*kKindSections[static_cast<size_t>(info - kKinds)]);
  r.kind = info->kind;
  r.name = m.text("name", kind + "-" + std::to_string(index));

  if (m.is_map("onset")) {
    const ConfigMap o = m.map("onset");
    o.allow(kOnset);
    r.onset_weight = o.percent("weight");
    r.onset_s = kInf;
  } else {
    r.onset_s = m.duration("onset", 0);
  }
  if (m.is_map("shape")) {
    const ConfigMap s = m.map("shape");
    s.allow(kShape);
    if (s.has("ramp") == s.has("bursts")) s.fail("ramp", "one of ramp or bursts");
    if (s.has("ramp")) {
      r.shape = Shape::kRamp;
      r.ramp_s = s.duration("ramp");
    } else {
      const ConfigMap b = s.map("bursts");
      b.allow(kShapeBursts);
      r.shape = Shape::kBursts;
      r.burst_on_s = b.duration("on");
      r.burst_off_s = b.duration("off");
      if (r.burst_on_s <= 0) b.fail("on", "a positive duration");
    }
  } else if (m.has("shape") && m.text("shape") != "step") {
    m.fail("shape", "step, {ramp: DURATION} or {bursts: {on: DURATION, off: DURATION}}");
  }
  if (m.is_map("scope")) {
    const ConfigMap s = m.map("scope");
    s.allow(kScope);
    if (s.has("segment")) {
      const std::string seg = s.text("segment");
      const auto it = std::find(segments.begin(), segments.end(), seg);
      if (it == segments.end()) {
        std::string list;
        for (const auto& n : segments) list += (list.empty() ? "" : ", ") + n;
        s.reject("segment", "unknown segment '" + seg + "'; expected one of: " + list);
      }
      r.segment = static_cast<int>(it - segments.begin());
    }
    r.min_prompt_tokens = static_cast<uint32_t>(s.count("min_prompt_tokens", 0, 0, 1u << 30));
  } else if (m.has("scope") && m.text("scope") != "all") {
    m.fail("scope", "all, {segment: NAME} or {min_prompt_tokens: N}");
  }
  r.component = m.text("component", "");

  switch (r.kind) {
    case Kind::kLatency:
      r.ttft_multiplier = m.number("ttft_multiplier", 1, 0, kMaxMultiplier);
      r.itl_multiplier = m.number("itl_multiplier", 1, 0, kMaxMultiplier);
      if (!m.has("ttft_multiplier") && !m.has("itl_multiplier"))
        m.fail("ttft_multiplier", "ttft_multiplier or itl_multiplier for a latency regression");
      break;
    case Kind::kTailLatency:
      r.tail_probability = m.probability("probability");
      r.tail_multiplier = m.number("multiplier", 1, kMaxMultiplier);
      break;
    case Kind::kCapacityLoss:
      r.replicas_lost = static_cast<uint32_t>(m.count("replicas_lost", 0, 0, 1u << 20));
      r.error_above_batch = static_cast<uint32_t>(m.count("error_above_batch", 0, 0, 1u << 20));
      if (r.replicas_lost == 0 && r.error_above_batch == 0)
        m.fail("replicas_lost", "replicas_lost or error_above_batch for a capacity loss");
      break;
    case Kind::kErrors:
      if (m.has("error_rate") == m.has("added_error_rate"))
        m.fail("error_rate", "exactly one of error_rate or added_error_rate");
      r.error_rate = m.probability("error_rate", -1);
      r.added_error_rate = m.probability("added_error_rate", 0);
      break;
    case Kind::kQuality: r.quality_drop = m.number("quality_drop", 0, 1); break;
    case Kind::kHallucination: r.hallucination_rate = m.probability("hallucination_rate"); break;
    case Kind::kDrift: r.drift_shift = m.number("shift", 0, kMaxMultiplier); break;
    case Kind::kVerbosity: r.output_multiplier = m.number("output_multiplier", 0, kMaxMultiplier); break;
    case Kind::kUnsafe: r.unsafe_rate = m.probability("unsafe_rate"); break;
    case Kind::kCost: r.cost_multiplier = m.number("cost_multiplier", 0, kMaxMultiplier); break;
    case Kind::kKvFootprint: r.kv_multiplier = m.number("multiplier", 0.01, kMaxMultiplier); break;
    case Kind::kPrefixCache: r.cache_hit_multiplier = m.number("hit_multiplier", 0, 1); break;
  }
  if ((r.kind == Kind::kCapacityLoss || r.kind == Kind::kKvFootprint) && (r.segment >= 0 || r.min_prompt_tokens > 0))
    m.fail("scope", "all for a pool-wide regression (it acts on every request of the pool)");
  return r;
}

}  // namespace canarysim
