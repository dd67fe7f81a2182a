#include "sim/study/compare.h"

#include <algorithm>
#include <cmath>

namespace canarysim {

namespace {

// The value of a metric for one run, or NaN where it does not apply.
double value_of(const RunResult& r, const std::string& metric) {
  if (metric == "rollback_rate") return r.outcome == Outcome::kRolledBack;
  if (metric == "promotion_rate") return r.outcome == Outcome::kPromoted;
  if (metric == "false_rollback_rate") return r.outcome == Outcome::kRolledBack && !r.regression_active;
  if (metric == "missed_regression_rate") return r.outcome == Outcome::kPromoted && r.regression_active;
  if (metric == "detection_time") return r.detection_time_s;
  if (metric == "time_to_mitigate") return r.time_to_mitigate_s;
  if (metric == "blast_radius_requests")
    return r.regression_active ? static_cast<double>(r.blast_radius_requests) : RunResult::kNaN;
  if (metric == "blast_radius_users")
    return r.regression_active ? static_cast<double>(r.blast_radius_users) : RunResult::kNaN;
  if (metric == "rollout_duration") return r.outcome == Outcome::kPromoted ? r.rollout_duration_s : RunResult::kNaN;
  if (metric == "cost") return r.baseline_cost + r.canary_cost;
  return RunResult::kNaN;
}

}  // namespace

const std::vector<std::string>& compared_metrics() {
  static const std::vector<std::string> metrics = {
      "rollback_rate",         "promotion_rate",     "false_rollback_rate",
      "missed_regression_rate", "detection_time",    "time_to_mitigate",
      "blast_radius_requests", "blast_radius_users", "rollout_duration",
      "cost"};
  return metrics;
}

Comparison compare_policies(const Scenario& scenario,
                            const std::vector<std::shared_ptr<const PolicyConfig>>& policies,
                            const std::vector<std::string>& names, const StudyOptions& options) {
  Comparison c;
  c.policies = names;
  for (size_t k = 0; k < policies.size(); ++k) {
    Scenario s = scenario;
    s.policy = policies[k];
    StudyOptions o = options;  // progress over all the policies' runs
    if (options.progress)
      o.progress = [&options, k, n = policies.size()](uint64_t done, uint64_t total) {
        options.progress(k * total + done, n * total);
      };
    c.studies.push_back(run_study(s, o));
    if (c.studies.back().interrupted)
      throw Interrupted("interrupted: policy " + std::to_string(k + 1) + " of " + std::to_string(policies.size()) +
                        " after " + std::to_string(c.studies.back().runs.size()) + " of " +
                        std::to_string(options.runs) + " runs; a comparison needs every policy's runs");
  }
  c.differences.resize(policies.size());
  for (size_t k = 1; k < policies.size(); ++k) {
    for (const std::string& metric : compared_metrics()) {
      PairedDifference d;
      d.metric = metric;
      double sum = 0, sum2 = 0;
      for (size_t i = 0; i < c.studies[0].runs.size(); ++i) {
        const double a = value_of(c.studies[0].runs[i], metric);
        const double b = value_of(c.studies[k].runs[i], metric);
        if (std::isnan(a) || std::isnan(b)) continue;
        ++d.pairs;
        sum += b - a;
        sum2 += (b - a) * (b - a);
      }
      if (d.pairs > 0) {
        const double n = static_cast<double>(d.pairs);
        d.mean = sum / n;
        const double var = d.pairs > 1 ? (sum2 - n * d.mean * d.mean) / (n - 1) : 0;
        const double half = 1.959963984540054 * std::sqrt(std::max(0.0, var) / n);
        d.low = d.mean - half;
        d.high = d.mean + half;
      } else {
        d.mean = d.low = d.high = RunResult::kNaN;
      }
      c.differences[k].push_back(d);
    }
  }
  return c;
}

std::vector<std::string> merge_warnings(const std::vector<std::vector<std::string>>& each,
                                        const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (size_t k = 0; k < each.size(); ++k)
    for (const std::string& w : each[k]) {
      const bool shared = std::all_of(each.begin(), each.end(), [&](const std::vector<std::string>& d) {
        return std::find(d.begin(), d.end(), w) != d.end();
      });
      const std::string line = shared ? w : names[k] + ": " + w;
      if (std::find(out.begin(), out.end(), line) == out.end()) out.push_back(line);
    }
  return out;
}

}  // namespace canarysim
