#include "policies/comparison.h"

#include <cmath>

namespace canarysim {

namespace {
const Histogram& histogram_of(const Metric& m, const WindowStats& w) {
  switch (m.sli) {
    case Metric::Sli::kTtft: return w.ttft;
    case Metric::Sli::kItl: return w.itl;
    case Metric::Sli::kTokenGap: return w.token_gap;
    default: return w.latency;
  }
}
// (events, trials) of a rate metric.
std::pair<double, double> counts(const Metric& m, const WindowStats& w) {
  switch (m.sli) {
    case Metric::Sli::kHallucinationRate: return {double(w.hallucinations), double(w.successes())};
    case Metric::Sli::kUnsafeRate: return {double(w.unsafe), double(w.adversarial)};
    case Metric::Sli::kTimeoutRate: return {double(w.timeouts), double(w.requests)};
    case Metric::Sli::kRejectedRate: return {double(w.rejected), double(w.requests)};
    case Metric::Sli::kAbandonedRate: return {double(w.abandoned), double(w.requests)};
    default: return {double(w.errors), double(w.requests)};
  }
}
}  // namespace

std::optional<Batch> batch_of(const Metric& m, const WindowStats& c, const WindowStats& b) {
  if (m.is_rate()) {
    const auto [xc, nc] = counts(m, c);
    const auto [xb, nb] = counts(m, b);
    if (nc == 0 || nb == 0 || xc + xb == 0) return std::nullopt;
    return Batch{xc, xc + xb, nc / (nc + nb)};
  }
  return std::nullopt;
}

std::optional<Batch> exceedance_batch(const Metric& m, const WindowStats& c, const WindowStats& b, double threshold,
                                      double tolerance) {
  const Histogram& hb = histogram_of(m, b);
  const Histogram& hc = histogram_of(m, c);
  if (hb.count() == 0 || hc.count() == 0) return std::nullopt;
  const double xc = double(hc.count_above((1 + tolerance) * threshold));
  const double xb = double(hb.count_from(threshold));
  if (xc + xb == 0) return std::nullopt;
  return Batch{xc, xc + xb, double(hc.count()) / double(hc.count() + hb.count())};
}

std::optional<double> baseline_quantile(const Metric& m, const WindowStats& b) {
  const Histogram& hb = histogram_of(m, b);
  if (hb.count() == 0) return std::nullopt;
  return hb.quantile(m.quantile);
}

std::optional<double> z_of(const Metric& m, const WindowStats& c, const WindowStats& b, double min_samples,
                           double factor) {
  if (m.is_rate()) {
    const auto [xc, nc] = counts(m, c);
    const auto [xb, nb] = counts(m, b);
    if (nc < min_samples || nb < min_samples) return std::nullopt;
    const double p = (xc + xb) / (nc + nb);
    const double se = std::sqrt(std::max(p * (1 - p), 1e-12) * (1 / nc + 1 / nb));
    return (xc / nc - factor * xb / nb) / se;
  }
  if (m.sli == Metric::Sli::kQuality) {
    const double nc = double(c.graded), nb = double(b.graded);
    if (nc < min_samples || nb < min_samples) return std::nullopt;
    const double mc = c.quality_sum / nc, mb = b.quality_sum / nb;
    const double vc = std::max(0.0, c.quality_sq_sum / nc - mc * mc), vb = std::max(0.0, b.quality_sq_sum / nb - mb * mb);
    return (mc - factor * mb) / std::sqrt(std::max(vc / nc + vb / nb, 1e-12));
  }
  if (m.stat == Metric::Stat::kQuantile) {
    const Histogram& hb = histogram_of(m, b);
    const Histogram& hc = histogram_of(m, c);
    if (hb.count() == 0 || static_cast<double>(hc.count()) < min_samples) return std::nullopt;
    const double n = static_cast<double>(hc.count()), p0 = 1 - m.quantile;
    const double x = static_cast<double>(hc.count_above(factor * hb.quantile(m.quantile)));
    return (x / n - p0) / std::sqrt(p0 * (1 - p0) / n);
  }
  return std::nullopt;
}

}  // namespace canarysim
