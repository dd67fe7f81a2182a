#include "policies/stats.h"

#include <algorithm>
#include <cmath>

#include "sim/model/random.h"

namespace canarysim {

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

ShiftInterval mann_whitney(const std::vector<double>& x, const std::vector<double>& y, double confidence) {
  std::vector<double> d;
  d.reserve(x.size() * y.size());
  for (double a : x)
    for (double b : y) d.push_back(a - b);
  std::sort(d.begin(), d.end());
  const double m = static_cast<double>(x.size()), n = static_cast<double>(y.size());
  const size_t k = d.size();
  const double estimate = k % 2 ? d[k / 2] : (d[k / 2 - 1] + d[k / 2]) / 2;
  // The interval's ends are order statistics of the differences: the C-th from each end,
  // C = mn/2 - z sqrt(mn(m+n+1)/12).
  const double z = normal_quantile(0.5 + confidence / 2);
  const double c = std::floor(m * n / 2 - z * std::sqrt(m * n * (m + n + 1) / 12));
  const auto lo = static_cast<size_t>(std::clamp(c, 0.0, static_cast<double>(k - 1)));
  return {d[lo], d[k - 1 - lo], estimate};
}

namespace {
// Continued fraction for the incomplete beta (Lentz's method).
double beta_cf(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEps = 1e-14;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const double m2 = 2 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1) < kEps) break;
  }
  return h;
}
}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_cf(a, b, x) / a;
  return 1 - front * beta_cf(b, a, 1 - x) / b;
}

double f_survival(double f, double d1, double d2) {
  if (f <= 0) return 1;
  return incomplete_beta(d2 / 2, d1 / 2, d2 / (d2 + d1 * f));
}

double t_equivalent(double z, double df) {
  if (!(df >= 1)) return 1e6 * z;
  const double tail = std::erfc(z / std::sqrt(2.0));  // P(|Z| > z)
  // P(|T| > t) = I_{df / (df + t^2)}(df / 2, 1 / 2), falling in t: bisection.
  double lo = z, hi = 1e6 * z;
  for (int k = 0; k < 300 && hi - lo > 1e-12 * hi; ++k) {
    const double t = lo + (hi - lo) / 2;
    (incomplete_beta(df / 2, 0.5, df / (df + t * t)) > tail ? lo : hi) = t;
  }
  return hi;
}

}  // namespace canarysim
