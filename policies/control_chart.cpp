#include "policies/control_chart.h"

#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {

SampleNeed ChartSpec::sample_need() const {
  SampleNeed n = request_need("min_samples", metric.name, metric, min_samples, ladder.interval_s, ladder.steps.front());
  n.why += "; an interval with fewer is skipped";
  return n;
}

std::vector<SchemaField> ChartSpec::chart_fields(std::vector<SchemaField> own) {
  using namespace schema;
  own.insert(own.begin(), {"kind", kText, "", "cusum, ewma", "the policy kind"});
  own.insert(own.end(), {
      {"metric", kText, "", "a rate, a latency quantile or quality_mean", "the statistic charted: the canary's value relative to the baseline's each interval"},
      {"direction", kText, "increase (quality_mean: decrease)", "increase, decrease", "which way is bad"},
      {"min_samples", kCount, "50", "[1, 10^9]", "canary requests an interval needs; fewer: skipped"},
      {"tolerance", kFraction, "0", "[0, 1)", "a relative change taken as harmless"}});
  return LadderSpec::with_ladder(own);
}

ChartSpec ChartSpec::parse(const ConfigMap& m, const Section& section) {
  m.allow(section);
  ChartSpec c;
  c.ladder = LadderSpec::parse(m);
  const auto metric = Metric::parse(m.text("metric"));
  const bool quantile = metric && metric->is_time() && metric->stat == Metric::Stat::kQuantile;
  if (!metric || !(metric->is_rate() || quantile || metric->sli == Metric::Sli::kQuality))
    m.fail("metric", "a rate (error_rate, ...), a latency quantile (ttft_p90, ...) or quality_mean");
  c.metric = *metric;
  const std::string d = m.text("direction", c.metric.sli == Metric::Sli::kQuality ? "decrease" : "increase");
  if (d != "increase" && d != "decrease") m.fail("direction", "increase or decrease");
  c.sign = d == "increase" ? 1 : -1;
  c.min_samples = static_cast<double>(m.count("min_samples", 50, 1, 1000000000));
  c.tolerance = m.probability("tolerance", 0);
  if (c.tolerance < 0 || c.tolerance >= 1) m.fail("tolerance", "a relative tolerance in [0, 100%)");
  return c;
}

}  // namespace canarysim
