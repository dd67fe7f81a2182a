#include "sim/study/convergence.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>

#include "policies/policy.h"
#include "policies/stats.h"
#include "sim/model/fidelity.h"
#include "sim/model/scenario.h"
#include "sim/study/study.h"

namespace canarysim {
namespace {

constexpr uint32_t kFiner = 4;  // the check simulates 4x the replicas

struct Sample {
  double n = 0, mean = 0, var = 0;  // runs it applies to, their mean and variance (n - 1)
};

Sample sample_of(const std::vector<RunResult>& runs, const std::function<bool(const RunResult&)>& applies,
                 const std::function<double(const RunResult&)>& value) {
  Sample s;
  double sum = 0;
  for (const RunResult& r : runs)
    if (applies(r)) {
      s.n += 1;
      sum += value(r);
    }
  if (s.n == 0) return s;
  s.mean = sum / s.n;
  double sq = 0;
  for (const RunResult& r : runs)
    if (applies(r)) sq += (value(r) - s.mean) * (value(r) - s.mean);
  s.var = s.n > 1 ? sq / (s.n - 1) : 0;
  return s;
}

}  // namespace

bool Convergence::moved() const {
  return std::any_of(figures.begin(), figures.end(), [](const Figure& f) { return f.moved; });
}

bool wants_convergence_check(const Scenario& scenario, const Study& study) {
  return scenario.fidelity.scaled && scenario.fidelity.check_runs > 0 && !study.interrupted &&
         study.runs.size() >= 2 && shrink(scenario, *scenario.policy).fidelity.sample > 1;
}

Convergence check_convergence(const Scenario& scenario, const Study& study, const StudyOptions& options,
                              uint64_t runs) {
  Convergence c;
  c.sample = shrink(scenario, *scenario.policy).fidelity.sample;
  Scenario finer = scenario;
  c.finer_replicas = std::min<uint32_t>(scenario.fidelity.replicas * kFiner, 1u << 20);
  finer.fidelity.replicas = c.finer_replicas;
  c.finer_sample = shrink(finer, *finer.policy).fidelity.sample;
  if (c.finer_sample >= c.sample) {  // the same cap (SampleNeed) holds: compare with exact
    finer.fidelity.scaled = false;
    c.finer_sample = 1;
  }

  StudyOptions o = options;
  o.runs = std::min<uint64_t>(runs, study.runs.size());
  const auto start = std::chrono::steady_clock::now();
  const Study check = run_study(finer, o);
  c.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  c.runs = study.runs.size();
  c.finer_runs = check.runs.size();
  c.interrupted = check.interrupted;
  if (c.interrupted) return c;

  using Applies = std::function<bool(const RunResult&)>;
  using Value = std::function<double(const RunResult&)>;
  const Applies all = [](const RunResult&) { return true; };
  const Applies bad = [](const RunResult& r) { return r.regression_active; };
  const Applies detected = [](const RunResult& r) { return !std::isnan(r.detection_time_s); };
  const Applies promoted = [](const RunResult& r) { return r.outcome == Outcome::kPromoted; };
  auto share = [](Outcome o) { return Value([o](const RunResult& r) { return r.outcome == o ? 1.0 : 0.0; }); };
  struct Spec {
    const char* name;
    bool rate, seconds;
    Applies applies;
    Value value;
  };
  const Spec specs[] = {
      {"rolled back", true, false, all, share(Outcome::kRolledBack)},
      {"promoted", true, false, all, share(Outcome::kPromoted)},
      {"detection time mean", false, true, detected, [](const RunResult& r) { return r.detection_time_s; }},
      {"blast radius (requests) mean", false, false, bad,
       [](const RunResult& r) { return static_cast<double>(r.blast_radius_requests); }},
      {"blast radius (users) mean", false, false, bad,
       [](const RunResult& r) { return static_cast<double>(r.blast_radius_users); }},
      {"failed requests mean", false, false, all,
       [](const RunResult& r) { return static_cast<double>(r.failed_requests); }},
      {"rollout duration mean", false, true, promoted, [](const RunResult& r) { return r.rollout_duration_s; }},
      {"cost mean", false, false, all, [](const RunResult& r) { return r.baseline_cost + r.canary_cost; }},
  };
  for (const Spec& spec : specs) {
    const Sample a = sample_of(study.runs, spec.applies, spec.value);
    const Sample b = sample_of(check.runs, spec.applies, spec.value);
    Convergence::Figure f{spec.name, spec.rate, spec.seconds, a.mean, b.mean};
    const double difference = std::abs(a.mean - b.mean);
    if (spec.rate) {
      // Pooled two-proportion standard error.
      const double p = (a.mean * a.n + b.mean * b.n) / (a.n + b.n);
      f.se = std::sqrt(p * (1 - p) * (1 / a.n + 1 / b.n));
      f.sigmas = t_equivalent(Convergence::kSe, a.n + b.n - 2);  // kSe, honest for few runs
      f.limit = std::max(f.sigmas * f.se, Convergence::kRatePoints);
    } else {
      if (a.n < 2 || b.n < 2) continue;  // a mean of fewer runs says nothing of its noise
      const double va = a.var / a.n, vb = b.var / b.n;
      f.se = std::sqrt(va + vb);
      // Welch-Satterthwaite; equal-variance samples of n runs each give 2n - 2.
      f.sigmas = va + vb > 0 ? t_equivalent(Convergence::kSe, (va + vb) * (va + vb) / (va * va / (a.n - 1) + vb * vb / (b.n - 1)))
                             : Convergence::kSe;
      f.limit = std::max(f.sigmas * f.se, Convergence::kMeanShare * std::max(std::abs(a.mean), std::abs(b.mean)));
    }
    f.moved = difference > f.limit;
    c.figures.push_back(f);
  }
  return c;
}

}  // namespace canarysim
