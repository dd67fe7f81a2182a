#include "policies/checks.h"

#include <cstdio>
#include <limits>

#include "sim/config.h"

namespace canarysim {

std::optional<Metric> Metric::parse(const std::string& name) {
  Metric m;
  m.name = name;
  if (name == "error_rate") return m;
  if (name == "request_count") {
    m.sli = Sli::kRequestCount;
    return m;
  }
  const size_t cut = name.rfind('_');
  if (cut == std::string::npos) return std::nullopt;
  const std::string sli = name.substr(0, cut), stat = name.substr(cut + 1);
  if (sli == "ttft") m.sli = Sli::kTtft;
  else if (sli == "itl") m.sli = Sli::kItl;
  else if (sli == "latency") m.sli = Sli::kLatency;
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

std::optional<double> Metric::value(const WindowStats& w) const {
  switch (sli) {
    case Sli::kErrorRate:
      if (w.requests == 0) return std::nullopt;
      return w.error_rate();
    case Sli::kRequestCount: return static_cast<double>(w.requests);
    default: break;
  }
  const Histogram& h = sli == Sli::kTtft ? w.ttft : sli == Sli::kItl ? w.itl : w.latency;
  if (h.count() == 0) return std::nullopt;
  return stat == Stat::kMean ? h.mean() : h.quantile(quantile);
}

Check Check::parse(const ConfigMap& m) {
  m.allow({"name", "metric", "max", "min", "max_ratio", "min_samples"});
  Check c;
  const std::string metric = m.text("metric");
  const auto parsed = Metric::parse(metric);
  if (!parsed) {
    m.fail("metric",
           "a metric name: error_rate, request_count, or ttft_, itl_ or latency_ followed by "
           "a quantile like p99 or by mean");
  }
  c.metric = *parsed;
  c.name = m.text("name", metric);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (m.has("max")) {
    c.max = c.metric.sli == Metric::Sli::kErrorRate ? m.probability("max")
            : c.metric.sli == Metric::Sli::kRequestCount ? m.number("max", 0, kInf)
                                                         : m.duration("max");
  }
  if (m.has("min")) {
    c.min = c.metric.sli == Metric::Sli::kErrorRate ? m.probability("min")
            : c.metric.sli == Metric::Sli::kRequestCount ? m.number("min", 0, kInf)
                                                         : m.duration("min");
  }
  if (m.has("max_ratio")) c.max_ratio = m.number("max_ratio", 0, kInf);
  if (!c.max && !c.min && !c.max_ratio) m.fail("max", "at least one of max, min or max_ratio");
  c.min_samples = m.count("min_samples", 1, 1, 1000000000);
  return c;
}

namespace {
std::string fmt(const Metric& m, double v) {
  char buf[64];
  if (m.sli == Metric::Sli::kErrorRate) std::snprintf(buf, sizeof buf, "%.3g%%", v * 100);
  else if (m.sli == Metric::Sli::kRequestCount) std::snprintf(buf, sizeof buf, "%.0f", v);
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
  if (max_ratio) {
    const auto bv = metric.value(baseline);
    if (!bv || *bv <= 0) {
      r.status = CheckResult::Status::kNoData;
      r.text += ", no baseline data";
      return r;
    }
    const double ratio = *cv / *bv;
    char buf[96];
    std::snprintf(buf, sizeof buf, " (ratio %.3f to baseline %s, max %.3f)", ratio,
                  fmt(metric, *bv).c_str(), *max_ratio);
    r.text += buf;
    if (ratio > *max_ratio) r.status = CheckResult::Status::kFail;
  }
  return r;
}

}  // namespace canarysim
