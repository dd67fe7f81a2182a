#include "sim/model/fidelity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/io/config.h"
#include "sim/io/schema.h"
#include "sim/model/scenario.h"

namespace canarysim {

namespace {

constexpr double kMaxRoundingError = 0.10;  // a pool's size changed by more in rounding: warned
constexpr double kMinSampledUsers = 1000;   // fewer users in the sample: refused
constexpr double kMaxUserShare = 0.05;      // one user's share of a sample's traffic: warned above

// A count of a fleet at scale: n / w rounded, at least 1 (0 stays 0).
uint32_t scaled_count(uint32_t n, uint32_t w) {
  if (n == 0) return 0;
  return std::max<uint32_t>(1, static_cast<uint32_t>(std::llround(static_cast<double>(n) / w)));
}

// The counts of replicas and queue places that scaling divides.
std::vector<uint32_t> pool_counts(const Scenario& s) {
  std::vector<uint32_t> out;
  for (const VersionSpec* v : {&s.baseline, &s.canary}) {
    if (!v->serving.batched) continue;
    const BatchingSpec& b = v->serving.batching;
    if (b.autoscaled) {
      out.push_back(b.autoscale.fleet);
      if (b.autoscale.min > 1) out.push_back(b.autoscale.min);
    } else {
      out.push_back(b.replicas);
    }
  }
  return out;
}

// w: about largest / replicas, moved by up to a quarter where that divides the pools more
// evenly (64 and 32 replicas asked at 20: 4, not 3, so that no pool is off by rounding);
// among equally even choices, the largest (the fastest).
uint32_t sample_for(const Scenario& s, uint32_t largest, uint32_t cap) {
  const double ideal = std::min<double>(static_cast<double>(largest) / s.fidelity.replicas, cap);
  if (ideal < 1.5) return 1;
  const auto hi = std::min(cap, static_cast<uint32_t>(std::ceil(ideal * 1.25)));
  const auto lo = std::min(hi, std::max<uint32_t>(1, static_cast<uint32_t>(std::floor(ideal * 0.75))));
  const std::vector<uint32_t> counts = pool_counts(s);
  uint32_t best = static_cast<uint32_t>(std::llround(ideal));
  double best_error = 1e300;
  for (uint32_t w = hi; w >= lo; --w) {
    double error = 0;  // the worst relative rounding error over the pools' counts
    for (uint32_t n : counts) {
      const double exact = static_cast<double>(n) / w;
      error = std::max(error, std::abs(scaled_count(n, w) - exact) / exact);
    }
    if (error < best_error - 1e-9) {
      best_error = error;
      best = w;
    }
  }
  return best;
}

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g %%", 100 * x);
  return buf;
}

}  // namespace

namespace {
using namespace schema;
const Section kFidelity{"scenario", "fidelity", "Exact, or a scaled-down fleet (SHRiNK: sample users, scale pools, scale counts back; sim/model/fidelity.h). Also written as `fidelity: exact` or `fidelity: scaled`.", {
    {"mode", kText, "scaled", "exact, scaled", "how the fleet is simulated"},
    {"replicas", kCount, "40", "[1, 2^20]", "scaled: the largest pool is simulated with about this many replicas"},
    {"check", kCount, "20", "[0, 10^6]", "scaled: runs simulated again at 4x the replicas after the study, to check that its figures do not move (0: no check)"},
}};
}  // namespace

Fidelity Fidelity::parse(const ConfigMap& m, const char* key) {
  Fidelity f;
  if (!m.has(key)) return f;
  std::string mode;
  ConfigMap section = m;
  if (m.is_map(key)) {
    section = m.map(key);
    section.allow(kFidelity);
    mode = section.text("mode", "scaled");
    f.replicas = static_cast<uint32_t>(section.count("replicas", f.replicas, 1, 1u << 20));
    f.check_runs = static_cast<uint32_t>(section.count("check", f.check_runs, 0, 1000000));
    if (mode != "exact" && mode != "scaled") section.fail("mode", "exact or scaled");
  } else {
    mode = m.text(key);
    if (mode != "exact" && mode != "scaled") m.fail(key, "exact, scaled, or {mode: scaled, replicas: 40}");
  }
  f.scaled = mode == "scaled";
  return f;
}

Fidelity Fidelity::from_option(const std::string& text) {
  Fidelity f;
  const std::string mode = text.substr(0, text.find(':'));
  if (mode == "exact" && text == mode) return f;
  if (mode != "scaled") throw InputError("--fidelity: '" + text + "'; expected exact, scaled or scaled:K (K replicas)");
  f.scaled = true;
  if (text.size() > mode.size()) {
    const std::string k = text.substr(mode.size() + 1);
    char* end = nullptr;
    const unsigned long v = std::strtoul(k.c_str(), &end, 10);
    if (k.empty() || *end != '\0' || v < 1 || v > (1u << 20))
      throw InputError("--fidelity: '" + text + "'; expected scaled:K with K a whole number of replicas from 1");
    f.replicas = static_cast<uint32_t>(v);
  }
  return f;
}

std::string Fidelity::describe() const {
  if (!scaled) return "exact";
  return "scaled: 1 user in " + std::to_string(sample) + " (largest pool " + std::to_string(replicas) +
         " replicas requested)";
}

Scenario shrink(const Scenario& full, const PolicyConfig& policy, std::vector<std::string>* warnings) {
  if (!full.fidelity.scaled) return full;
  const std::string where = (full.file.empty() ? std::string("<scenario>") : full.file) + ": fidelity: scaled: ";
  auto warn = [&](const std::string& w) {
    if (warnings) warnings->push_back("fidelity: scaled: " + w);
  };
  // The largest pool for all traffic sets the sampling.
  uint32_t largest = 0;
  for (const VersionSpec* v : {&full.baseline, &full.canary})
    if (v->serving.batched) largest = std::max(largest, v->serving.batching.fleet());
  if (largest == 0)
    throw InputError(where + "no batched pool to shrink (sampled versions have no load dependence: for speed, run "
                             "fewer runs, or give a version `batching`)");
  const std::string counted = policy.weighs_counts();
  if (!counted.empty())
    throw InputError(where + "the " + policy.kind() + " policy weighs evidence by request counts (" + counted +
                     "); scaled counts would overstate it. Use fidelity: exact for this policy");

  Scenario s = full;
  const uint32_t wanted = sample_for(full, largest, UINT32_MAX);
  if (wanted == 1) {
    warn("the largest pool (" + std::to_string(largest) + " replicas) is no larger than " +
         std::to_string(full.fidelity.replicas) + ": simulated exact");
    return s;
  }
  // The policy's judgements keep their evidence: w at most what leaves each of them the
  // requests it needs in its window at the first canary share (SampleNeed; the rate at
  // the start, as validate's warnings reckon it). A thinner window would judge noise w
  // times larger, and cross a threshold sooner: scaled results would be wrong there.
  const double rate = full.traffic.trace ? full.traffic.rate_per_s : full.traffic.rate_at(0);
  uint32_t cap = wanted;
  for (const SampleNeed& n : policy.sample_needs()) {
    if (n.requests <= 0 || n.window_s <= 0) continue;
    const double expected = rate * n.weight * n.window_s;
    const auto most = static_cast<uint32_t>(std::max(1.0, std::floor(expected / n.requests)));
    if (most >= cap) continue;
    warn("1 user in " + std::to_string(wanted) + " would leave " + n.field + " (" + n.what + ") about " +
         format_amount(expected / wanted) + " requests a window at the first canary share (" +
         format_amount(100 * n.weight) + " %), where it needs " + format_amount(n.requests) +
         (n.why.empty() ? "" : " (" + n.why + ")") +
         (most == 1 ? ": simulated exact" : ": at most 1 in " + std::to_string(most)));
    cap = most;
  }
  const uint32_t w = cap < wanted ? sample_for(full, largest, cap) : wanted;
  s.fidelity.sample = w;
  s.telemetry.count_scale = w;
  if (w == 1) return s;
  const double sampled_users = static_cast<double>(full.traffic.users) / w;
  if (sampled_users < kMinSampledUsers)
    throw InputError(where + "1 user in " + std::to_string(w) + " of traffic.users (" +
                     std::to_string(full.traffic.users) + ") leaves about " + format_amount(sampled_users) +
                     " users; blast radius in users needs at least " + format_amount(kMinSampledUsers) +
                     ". Ask for more replicas (fidelity.replicas) or use fidelity: exact");
  const double top = full.traffic.top_user_share() * w;
  if (top > kMaxUserShare && !(full.traffic.trace && !full.traffic.trace->user.empty()))
    warn("traffic.user_skew " + format_amount(full.traffic.user_skew) + " gives the most active user " + percent(top) +
         " of a 1-in-" + std::to_string(w) + " sample's traffic: the sampled share depends on which users are drawn");

  // Traffic: one user in w.
  s.traffic.sample = w;
  s.traffic.rate_per_s /= w;
  for (TrafficSpec::Piece& p : s.traffic.schedule) p.rate_per_s /= w;

  // Pools: every count of replicas and of queue places, divided by w.
  for (VersionSpec* v : {&s.baseline, &s.canary}) {
    if (!v->serving.batched) continue;
    const char* name = v == &s.baseline ? "baseline" : "canary";
    BatchingSpec& b = v->serving.batching;
    auto shrink_count = [&](uint32_t& n, const char* what) {
      const uint32_t before = n;
      n = scaled_count(n, w);
      const double exact = static_cast<double>(before) / w;
      if (before == 0) return;
      if (before >= 2 && n < 2)
        warn(std::string(name) + " " + what + ": " + std::to_string(before) + " replicas become " + std::to_string(n) +
             " at 1 in " + std::to_string(w) + ": a pool of one queues differently from many (no pooling)");
      else if (std::abs(n - exact) / exact > kMaxRoundingError)
        warn(std::string(name) + " " + what + ": " + std::to_string(before) + " becomes " + std::to_string(n) +
             " at 1 in " + std::to_string(w) + " (exact " + format_amount(exact) + "): capacity off by " +
             percent(std::abs(n - exact) / exact));
    };
    if (b.autoscaled) {
      shrink_count(b.autoscale.fleet, "autoscale.fleet");
      if (b.autoscale.min > 1) shrink_count(b.autoscale.min, "autoscale.min");
      b.autoscale.max = std::max(b.autoscale.min, scaled_count(b.autoscale.max, w));
    } else {
      shrink_count(b.replicas, "replicas");
    }
    if (b.max_queue > 0) b.max_queue = scaled_count(b.max_queue, w);
  }
  for (Regression& g : s.regressions)
    if (g.replicas_lost > 0) g.replicas_lost = scaled_count(g.replicas_lost, w);

  return s;
}

}  // namespace canarysim
