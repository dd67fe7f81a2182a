#include "policies/checks.h"

#include <algorithm>
#include <cmath>

#include <cstdio>
#include <limits>

#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {

std::optional<Metric> Metric::parse(const std::string& name) {
  Metric m;
  m.name = name;
  if (name == "error_rate") return m;
  static const std::pair<const char*, Sli> kPlain[] = {
      {"request_count", Sli::kRequestCount},   {"quality_mean", Sli::kQuality},
      {"success_rate", Sli::kSuccessRate},     {"golden_quality_mean", Sli::kGoldenQuality},
      {"hallucination_rate", Sli::kHallucinationRate}, {"unsafe_rate", Sli::kUnsafeRate},
      {"output_tokens_mean", Sli::kOutputTokens}, {"cost_per_request", Sli::kCostPerRequest},
      {"timeout_rate", Sli::kTimeoutRate},     {"rejected_rate", Sli::kRejectedRate},
      {"abandoned_rate", Sli::kAbandonedRate}, {"preemption_rate", Sli::kPreemptionRate},
      {"preemption_count", Sli::kPreemptionCount}};
  for (const auto& [plain, sli] : kPlain) {
    if (name == plain) {
      m.sli = sli;
      return m;
    }
  }
  const size_t cut = name.rfind('_');
  if (cut == std::string::npos) return std::nullopt;
  const std::string sli = name.substr(0, cut), stat = name.substr(cut + 1);
  if (sli == "ttft") m.sli = Sli::kTtft;
  else if (sli == "itl") m.sli = Sli::kItl;
  else if (sli == "latency") m.sli = Sli::kLatency;
  else if (sli == "token_gap") m.sli = Sli::kTokenGap;
  else return std::nullopt;
  if (stat == "mean") {
    m.stat = Stat::kMean;
    return m;
  }
  if (stat.size() < 2 || stat[0] != 'p') return std::nullopt;
  char* end = nullptr;
  const double q = std::strtod(stat.c_str() + 1, &end);
  if (*end != '\0' || !(q > 0 && q < 100)) return std::nullopt;
  m.stat = Stat::kQuantile;
  m.quantile = q / 100;
  return m;
}

double requests_needed(const Metric& m, double min_samples) {
  const double tail = m.stat == Metric::Stat::kQuantile ? std::ceil(1 / (1 - m.quantile) - 1e-9) : 1;
  return std::max(min_samples, tail);
}

SampleNeed request_need(std::string field, std::string what, const Metric& m, double min_samples, double window_s,
                        double weight) {
  SampleNeed n;
  n.field = std::move(field);
  n.what = std::move(what);
  n.window_s = window_s;
  n.weight = weight;
  n.requests = requests_needed(m, min_samples);
  char buf[96];
  if (n.requests > min_samples) std::snprintf(buf, sizeof buf, "a p%.4g needs %.0f requests", 100 * m.quantile, n.requests);
  else std::snprintf(buf, sizeof buf, "min_samples %.0f", min_samples);
  n.why = buf;
  return n;
}

std::optional<double> Metric::value(const WindowStats& w) const {
  switch (sli) {
    case Sli::kErrorRate:
      if (w.requests == 0) return std::nullopt;
      return w.error_rate();
    case Sli::kRequestCount: return static_cast<double>(w.requests);
    case Sli::kSuccessRate:
      if (w.requests == 0) return std::nullopt;
      return 1 - w.error_rate();
    case Sli::kQuality:
      if (w.graded == 0) return std::nullopt;
      return w.quality_sum / static_cast<double>(w.graded);
    case Sli::kGoldenQuality:
      if (w.golden == 0) return std::nullopt;
      return w.golden_sum / static_cast<double>(w.golden);
    case Sli::kHallucinationRate:
      if (w.successes() == 0) return std::nullopt;
      return static_cast<double>(w.hallucinations) / static_cast<double>(w.successes());
    case Sli::kUnsafeRate:
      if (w.adversarial == 0) return std::nullopt;
      return static_cast<double>(w.unsafe) / static_cast<double>(w.adversarial);
    case Sli::kOutputTokens:
      if (w.successes() == 0) return std::nullopt;
      return w.output_tokens / static_cast<double>(w.successes());
    case Sli::kCostPerRequest:
      if (w.requests == 0) return std::nullopt;
      return w.cost / static_cast<double>(w.requests);
    case Sli::kTimeoutRate:
    case Sli::kRejectedRate:
    case Sli::kAbandonedRate: {
      if (w.requests == 0) return std::nullopt;
      const uint64_t n = sli == Sli::kTimeoutRate ? w.timeouts : sli == Sli::kRejectedRate ? w.rejected : w.abandoned;
      return static_cast<double>(n) / static_cast<double>(w.requests);
    }
    case Sli::kPreemptionRate:
      if (w.requests == 0) return std::nullopt;
      return static_cast<double>(w.preemptions) / static_cast<double>(w.requests);
    case Sli::kPreemptionCount: return static_cast<double>(w.preemptions);
    default: break;
  }
  const Histogram& h = sli == Sli::kTtft      ? w.ttft
                       : sli == Sli::kItl     ? w.itl
                       : sli == Sli::kTokenGap ? w.token_gap
                                              : w.latency;
  if (h.count() == 0) return std::nullopt;
  return stat == Stat::kMean ? h.mean() : h.quantile(quantile);
}

namespace {
using namespace schema;
const Section kCheck{"policy", "checks[] (stepped, plan and composite children)", "One metric check of the canary against a bound or against the baseline, each analysis window; a check fails when any bound is breached.", {
    {"name", kText, "the metric", "", "the check's name in reasons"},
    {"metric", kText, "", "a metric name", "error_rate, success_rate, request_count, quality_mean, golden_quality_mean, hallucination_rate, unsafe_rate, output_tokens_mean, cost_per_request, timeout_rate, rejected_rate, abandoned_rate, preemption_rate, preemption_count, or ttft_, itl_, token_gap_, latency_ with p50, p99 ... or mean"},
    {"max", kFraction | kDuration | kNumber, "(none)", "in the metric's unit", "the canary's value at most this"},
    {"min", kFraction | kDuration | kNumber, "(none)", "in the metric's unit", "the canary's value at least this"},
    {"max_ratio", kNumber, "(none)", ">= 0", "the canary's value at most this times the baseline's"},
    {"max_increase", kFraction | kDuration | kNumber, "(none)", "in the metric's unit", "the canary's value at most the baseline's plus this"},
    {"min_samples", kCount, "1", "[1, 10^9]", "canary requests in the window before the check judges (else: no data)"},
}};
}  // namespace

Check Check::parse(const ConfigMap& m) {
  m.allow(kCheck);
  Check c;
  const std::string metric = m.text("metric");
  const auto parsed = Metric::parse(metric);
  if (!parsed) {
    m.fail("metric",
           "a metric name: error_rate, success_rate, request_count, quality_mean, golden_quality_mean, "
           "hallucination_rate, "
           "unsafe_rate, output_tokens_mean, cost_per_request, timeout_rate, rejected_rate, abandoned_rate, "
           "preemption_rate, preemption_count, or ttft_, itl_, token_gap_ or latency_ "
           "followed by a quantile like p99 or by mean");
  }
  c.metric = *parsed;
  c.name = m.text("name", metric);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  auto bound = [&](const char* key) {
    if (c.metric.is_probability()) return m.probability(key);
    if (c.metric.is_time()) return m.duration(key);
    return m.number(key, 0, kInf);
  };
  if (m.has("max")) c.max = bound("max");
  if (m.has("min")) c.min = bound("min");
  if (m.has("max_ratio")) c.max_ratio = m.number("max_ratio", 0, kInf);
  if (m.has("max_increase")) c.max_increase = bound("max_increase");
  if (!c.max && !c.min && !c.max_ratio && !c.max_increase)
    m.fail("max", "at least one of max, min, max_ratio or max_increase");
  c.min_samples = m.count("min_samples", 1, 1, 1000000000);
  return c;
}

namespace {
std::string fmt(const Metric& m, double v) {
  char buf[64];
  if (m.is_probability()) std::snprintf(buf, sizeof buf, "%.3g%%", v * 100);
  else if (!m.is_time()) std::snprintf(buf, sizeof buf, "%.4g", v);
  else if (v < 1) std::snprintf(buf, sizeof buf, "%.1fms", v * 1000);
  else std::snprintf(buf, sizeof buf, "%.3gs", v);
  return buf;
}
}  // namespace

CheckResult Check::evaluate(const WindowStats& canary, const WindowStats& baseline) const {
  CheckResult r;
  if (canary.requests < min_samples) {
    r.text = name + ": no data (" + std::to_string(canary.requests) + " canary requests < " +
             std::to_string(min_samples) + ")";
    return r;
  }
  const auto cv = metric.value(canary);
  if (!cv) {
    r.text = name + ": no data";
    return r;
  }
  r.value = *cv;
  r.status = CheckResult::Status::kPass;
  r.text = name + " " + fmt(metric, *cv);
  if (max && *cv > *max) {
    r.status = CheckResult::Status::kFail;
    r.text += " > max " + fmt(metric, *max);
    return r;
  }
  if (min && *cv < *min) {
    r.status = CheckResult::Status::kFail;
    r.text += " < min " + fmt(metric, *min);
    return r;
  }
  if (max_ratio || max_increase) {
    const auto bv = metric.value(baseline);
    if (!bv || (max_ratio && *bv <= 0)) {
      r.status = CheckResult::Status::kNoData;
      r.text += ", no baseline data";
      return r;
    }
    char buf[128];
    if (max_ratio) {
      const double ratio = *cv / *bv;
      std::snprintf(buf, sizeof buf, " (ratio %.3f to baseline %s, max %.3f)", ratio,
                    fmt(metric, *bv).c_str(), *max_ratio);
      r.text += buf;
      if (ratio > *max_ratio) r.status = CheckResult::Status::kFail;
    }
    if (max_increase) {
      std::snprintf(buf, sizeof buf, " (baseline %s, max increase %s)", fmt(metric, *bv).c_str(),
                    fmt(metric, *max_increase).c_str());
      r.text += buf;
      if (*cv - *bv > *max_increase) r.status = CheckResult::Status::kFail;
    }
  }
  return r;
}

}  // namespace canarysim
