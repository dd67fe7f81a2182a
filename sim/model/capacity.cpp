#include "sim/model/capacity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/io/config.h"

namespace canarysim {

namespace {

double mean_of(const std::vector<uint32_t>& v) {
  double sum = 0;
  for (uint32_t x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

}  // namespace

double peak_rate(const TrafficSpec& t, double horizon_s) {
  if (t.trace) {
    // The busiest minute of the trace as replayed (time_scale applied), looped or not.
    const std::vector<double>& a = t.trace->arrival_s;
    const double window = 60 / t.trace_time_scale;  // in trace seconds
    size_t most = 0;
    for (size_t lo = 0, hi = 0; hi < a.size(); ++hi) {
      while (a[hi] - a[lo] >= window) ++lo;
      most = std::max(most, hi - lo + 1);
    }
    const double span = t.trace->duration_s() * t.trace_time_scale;
    if (span < 60) return static_cast<double>(a.size()) / std::max(span, 1e-9);
    return static_cast<double>(most) / 60;
  }
  // The rate model sampled densely over the horizon, and at each schedule change.
  double peak = 0;
  constexpr int kSamples = 4096;
  for (int i = 0; i <= kSamples; ++i) peak = std::max(peak, t.rate_at(horizon_s * i / kSamples));
  for (const TrafficSpec::Piece& p : t.schedule)
    if (p.at_s <= horizon_s) peak = std::max(peak, t.rate_at(p.at_s));
  if (t.diurnal_amplitude > 0) {  // the crest itself, when the horizon holds one
    for (double c = t.diurnal_peak_s; c <= horizon_s; c += t.diurnal_period_s)
      if (c >= 0) peak = std::max(peak, t.rate_at(c));
  }
  return peak;
}

TokenMix token_mix(const TrafficSpec& t, const VersionSpec& v) {
  TokenMix m;
  if (t.trace) {
    m.context = mean_of(t.trace->prompt_tokens);
    m.output = mean_of(t.trace->output_tokens);
    m.prefill = t.trace->cached_tokens.empty() ? m.context * (1 - v.prefix_cache_share)
                                               : m.context - mean_of(t.trace->cached_tokens);
  } else {
    m.context = t.prompt_tokens.mean();
    m.output = t.output_tokens.mean();
    m.prefill = m.context * (1 - v.prefix_cache_share);
  }
  m.output = std::max(1.0, m.output * v.output_scale);
  m.prefill = std::max(1.0, m.prefill);
  return m;
}

std::vector<PoolLoad> pool_loads(const Scenario& s, const PolicyConfig* policy) {
  std::vector<PoolLoad> out;
  const double peak = peak_rate(s.traffic, s.horizon_s);
  for (const Version v : {Version::kBaseline, Version::kCanary}) {
    const VersionSpec& vs = v == Version::kCanary ? s.canary : s.baseline;
    if (!vs.serving.batched) continue;
    const BatchingSpec& b = vs.serving.batching;
    const TokenMix mix = token_mix(s.traffic, vs);
    PoolLoad p;
    p.version = v;
    p.share = v == Version::kCanary ? (policy ? policy->max_weight() : 1.0) : 1.0;
    p.peak_rate = peak;
    p.per_replica = replica_capacity(b, mix.prefill, mix.context, mix.output);
    p.replicas = b.replicas;
    if (b.autoscaled) {
      const auto want = static_cast<uint32_t>(std::ceil(p.share * b.autoscale.fleet - 1e-9));
      p.replicas = std::clamp(want, b.autoscale.min, b.autoscale.max);
    }
    out.push_back(p);
  }
  return out;
}

std::vector<CapacityNote> capacity_notes(const Scenario& s, const PolicyConfig* policy) {
  std::vector<CapacityNote> out;
  const std::string bursts =
      s.traffic.burst_every_s > 0 ? "; bursts multiply the rate by " + format_amount(s.traffic.burst_factor) + " on top" : "";
  for (const PoolLoad& p : pool_loads(s, policy)) {
    const std::string share = p.version == Version::kCanary
                                  ? " at its largest share (" + format_amount(100 * p.share) + " %)"
                                  : "";
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.0f %%", 100 * p.utilization());
    CapacityNote n;
    n.line = std::string(version_name(p.version)) + ": " + format_amount(p.replicas) + " replicas carry about " +
             format_amount(p.capacity()) + " requests/s of this mix; peak offered " + format_amount(p.offered()) + "/s" + share +
             " (" + pct + ")";
    if (p.utilization() > 1)
      n.warning = n.line + ": it cannot carry the peak; its queue grows without bound there (add replicas, or write "
                           "replicas: auto)" + bursts;
    else if (p.utilization() > 0.85)
      n.warning = n.line + ": near its ceiling; queueing delay climbs steeply above 85 %" + bursts;
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<std::string> capacity_warnings(const Scenario& s, const PolicyConfig* policy) {
  std::vector<std::string> out;
  for (const CapacityNote& n : capacity_notes(s, policy))
    if (!n.warning.empty()) out.push_back(n.warning);
  return out;
}

void size_auto_pools(Scenario& s) {
  const double peak = peak_rate(s.traffic, s.horizon_s);
  for (VersionSpec* vs : {&s.baseline, &s.canary}) {
    BatchingSpec& b = vs->serving.batching;
    if (!vs->serving.batched || !b.auto_size) continue;
    const TokenMix mix = token_mix(s.traffic, *vs);
    const double per_replica = replica_capacity(b, mix.prefill, mix.context, mix.output);
    const double want = std::ceil(peak / (per_replica * b.target_utilization) - 1e-9);
    const auto n = static_cast<uint32_t>(std::clamp(want, 1.0, double{1 << 20}));
    if (b.autoscaled) {
      b.autoscale.fleet = n;
      b.autoscale.max = std::max(n, b.autoscale.min);
    } else {
      b.replicas = n;
    }
  }
}

}  // namespace canarysim
