#include "sim/model/telemetry.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace canarysim {

WindowStats& Telemetry::stats_in_new_window(Version v, double t) {
  Recent& r = recent_[static_cast<size_t>(v)];
  const int64_t w = window_of(t);
  r.slot = &slot_for(v, w);
  r.window = w;
  const double margin = 1e-6 * options_.window_s;
  r.from = static_cast<double>(w) * options_.window_s + margin;
  r.to = static_cast<double>(w + 1) * options_.window_s - margin;
  return r.slot->stats;
}

void WindowStats::add(const Completion& c) {
  ++requests;
  prompt_tokens += c.prompt_tokens;
  cost += c.cost;
  adversarial += c.adversarial;
  unsafe += c.unsafe;
  if (c.error) {
    ++errors;
    timeouts += c.failure == Failure::kTimeout;
    rejected += c.failure == Failure::kRejected;
    abandoned += c.failure == Failure::kAbandoned;
    return;
  }
  output_tokens += c.output_tokens;
  hallucinations += c.hallucinated;
  ttft.record(c.ttft);
  itl.record(c.itl);
  latency.record(c.latency);
  if (c.graded) {
    ++graded;
    quality_sum += c.quality;
    quality_sq_sum += c.quality * c.quality;
  }
  if (c.embedding) {
    for (int i = 0; i < kEmbeddingDims; ++i) {
      embedding_sum[i] += c.embedding[i];
      for (int j = 0; j < kEmbeddingDims; ++j)
        embedding_cross[i * kEmbeddingDims + j] += c.embedding[i] * c.embedding[j];
    }
  }
}

void WindowStats::merge(const WindowStats& o) {
  requests += o.requests;
  errors += o.errors;
  timeouts += o.timeouts;
  rejected += o.rejected;
  abandoned += o.abandoned;
  preemptions += o.preemptions;
  hallucinations += o.hallucinations;
  adversarial += o.adversarial;
  unsafe += o.unsafe;
  graded += o.graded;
  quality_sum += o.quality_sum;
  quality_sq_sum += o.quality_sq_sum;
  golden += o.golden;
  golden_sum += o.golden_sum;
  prompt_tokens += o.prompt_tokens;
  output_tokens += o.output_tokens;
  cost += o.cost;
  ttft.merge(o.ttft);
  itl.merge(o.itl);
  token_gap.merge(o.token_gap);
  latency.merge(o.latency);
  for (size_t i = 0; i < embedding_sum.size(); ++i) embedding_sum[i] += o.embedding_sum[i];
  for (size_t i = 0; i < embedding_cross.size(); ++i) embedding_cross[i] += o.embedding_cross[i];
}

void WindowStats::scale(uint32_t k) {
  requests *= k;
  errors *= k;
  timeouts *= k;
  rejected *= k;
  abandoned *= k;
  preemptions *= k;
  hallucinations *= k;
  adversarial *= k;
  unsafe *= k;
  graded *= k;
  quality_sum *= k;
  quality_sq_sum *= k;
  prompt_tokens *= k;
  output_tokens *= k;
  cost *= k;
  ttft.scale(k);
  itl.scale(k);
  token_gap.scale(k);
  latency.scale(k);
  for (double& x : embedding_sum) x *= k;
  for (double& x : embedding_cross) x *= k;
}

Telemetry::Telemetry(const TelemetryOptions& options, double max_lookback_s,
                     double max_latency_s)
    : options_(options), max_lookback_s_(max_lookback_s), max_latency_s_(max_latency_s) {
  assert(options.window_s > 0 && options.scrape_delay_s >= 0);
  slots_ = static_cast<int64_t>(slots_for(options, max_lookback_s, max_latency_s));
  ring_.resize(2 * static_cast<size_t>(slots_));
}

// Windows that must survive: those a read can reach (delay + lookback back from now),
// those a recording can reach (max latency ahead of now), and one partial at each end.
double Telemetry::slots_for(const TelemetryOptions& options, double max_lookback_s, double max_latency_s) {
  const double span = options.scrape_delay_s + max_lookback_s + max_latency_s;
  return std::ceil(span / options.window_s) + 3;
}

double Telemetry::ring_bytes(const TelemetryOptions& options, double max_lookback_s, double max_latency_s) {
  return 2 * slots_for(options, max_lookback_s, max_latency_s) * static_cast<double>(sizeof(Slot));
}

void Telemetry::reset() {
  for (Slot& s : ring_) s.window = -1;  // a slot is cleared when next written
  recent_ = {};
}

WindowStats Telemetry::read(Version v, double now, double lookback_s) const {
  assert(lookback_s <= max_lookback_s_ + 1e-9);
  const double visible = now - options_.scrape_delay_s;
  WindowStats out;
  if (visible <= 0) return out;
  const int64_t end = window_of(visible);  // first window not yet complete and delivered
  const auto n = static_cast<int64_t>(std::ceil(lookback_s / options_.window_s - 1e-9));
  const int64_t begin = std::max<int64_t>(0, end - n);
  out.from = static_cast<double>(begin) * options_.window_s;
  out.to = static_cast<double>(end) * options_.window_s;
  for (int64_t w = begin; w < end; ++w) {
    const Slot& s = ring_[static_cast<size_t>(v) * slots_ + static_cast<size_t>(w % slots_)];
    if (s.window == w) out.merge(s.stats);
  }
  if (options_.count_scale > 1) out.scale(options_.count_scale);
  return out;
}

}  // namespace canarysim
