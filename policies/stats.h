// Statistics the policies share.
#pragma once

#include <vector>

namespace canarysim {

// The Mann-Whitney (Wilcoxon rank-sum) confidence interval for the shift of x against y
// and its Hodges-Lehmann estimate (the median of all differences x_i - y_j), as R's
// wilcox.test(x, y, conf.int = TRUE) and Kayenta compute them, with the normal
// approximation of the rank-sum distribution (fine from about ten points per side).
struct ShiftInterval {
  double lower, upper, estimate;
};
// REQUIRES: x and y non-empty; 0 < confidence < 1.
ShiftInterval mann_whitney(const std::vector<double>& x, const std::vector<double>& y, double confidence);

double normal_cdf(double z);
// The regularized incomplete beta function I_x(a, b).
double incomplete_beta(double a, double b, double x);
// P(F > f) for an F(d1, d2) variable.
double f_survival(double f, double d1, double d2);
// The t beyond which Student's t with `df` degrees of freedom has the two-sided tail a
// normal variable has beyond z: z standard errors, made honest for a standard error
// estimated from few values. REQUIRES: z > 0; df >= 1 (below, a huge value).
double t_equivalent(double z, double df);

}  // namespace canarysim
