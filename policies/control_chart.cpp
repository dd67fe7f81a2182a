#include "policies/control_chart.h"

#include "sim/io/config.h"

namespace canarysim {

SampleNeed ChartSpec::sample_need() const {
  SampleNeed n = request_need("min_samples", metric.name, metric, min_samples, ladder.interval_s, ladder.steps.front());
  n.why += "; an interval with fewer is skipped";
  return n;
}

ChartSpec ChartSpec::parse(const ConfigMap& m, std::vector<std::string> own) {
  own.insert(own.end(), {"kind", "metric", "direction", "min_samples", "tolerance"});
  own.insert(own.end(), LadderSpec::keys().begin(), LadderSpec::keys().end());
  m.allow(own);
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
