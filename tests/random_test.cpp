#include "sim/model/random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace canarysim {
namespace {

// Pearson correlation of two streams' uniforms over n draws.
double Correlation(Rng a, Rng b, int n) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (int i = 0; i < n; ++i) {
    const double x = a.uniform(), y = b.uniform();
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
  }
  const double cov = sab / n - sa / n * sb / n;
  return cov / std::sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
}

constexpr int kDraws = 200000;
// Under independence the correlation is about N(0, 1/n): 5 standard errors.
const double kTolerance = 5 / std::sqrt(static_cast<double>(kDraws));

TEST(RandomTest, SameTripleGivesTheSameStream) {
  Rng a(7, 3, Stream::kRequests), b(7, 3, Stream::kRequests);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next(), b.next());
}

TEST(RandomTest, NeighbouringRunsAreUncorrelated) {
  for (uint64_t run = 0; run < 5; ++run) {
    EXPECT_LT(std::abs(Correlation(Rng(1, run, Stream::kRequests),
                                   Rng(1, run + 1, Stream::kRequests), kDraws)),
              kTolerance);
  }
}

TEST(RandomTest, StreamsOfOneRunAreUncorrelated) {
  EXPECT_LT(std::abs(Correlation(Rng(1, 0, Stream::kArrivals), Rng(1, 0, Stream::kRequests),
                                 kDraws)),
            kTolerance);
  EXPECT_LT(std::abs(Correlation(Rng(1, 0, Stream::kRequests), Rng(1, 0, Stream::kUsers),
                                 kDraws)),
            kTolerance);
}

TEST(RandomTest, NeighbouringSeedsAreUncorrelated) {
  EXPECT_LT(std::abs(Correlation(Rng(1, 0, Stream::kRequests), Rng(2, 0, Stream::kRequests),
                                 kDraws)),
            kTolerance);
}

TEST(RandomTest, UniformsAreUniform) {
  // Chi-square over 100 cells: 99 degrees of freedom, 0.9999 quantile about 157.
  Rng rng(3, 0, Stream::kRequests);
  std::vector<int> cells(100, 0);
  for (int i = 0; i < kDraws; ++i) ++cells[static_cast<size_t>(rng.uniform() * 100)];
  double chi2 = 0;
  const double expected = kDraws / 100.0;
  for (int c : cells) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 157);
}

TEST(RandomTest, ExponentialHasTheRightMean) {
  // Mean 1/rate; the standard error of the mean of n exponentials is (1/rate)/sqrt(n).
  Rng rng(4, 0, Stream::kArrivals);
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) sum += rng.exponential(2.0);
  EXPECT_NEAR(sum / kDraws, 0.5, 5 * 0.5 / std::sqrt(kDraws));
}

TEST(RandomTest, NormalQuantileMatchesKnownValues) {
  EXPECT_NEAR(normal_quantile(0.5), 0, 1e-9);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-8);
  EXPECT_NEAR(normal_quantile(0.99), 2.326347874040841, 1e-8);
  EXPECT_NEAR(normal_quantile(0.01), -2.326347874040841, 1e-8);
  EXPECT_NEAR(normal_quantile(1e-6), -4.753424308822899, 1e-7);
}

TEST(RandomTest, NormalsHaveUnitVariance) {
  Rng rng(5, 0, Stream::kRequests);
  double s = 0, ss = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double z = rng.normal();
    s += z, ss += z * z;
  }
  EXPECT_NEAR(s / kDraws, 0, 5 / std::sqrt(kDraws));
  // Var of the sample variance of normals is 2/n.
  EXPECT_NEAR(ss / kDraws - (s / kDraws) * (s / kDraws), 1, 5 * std::sqrt(2.0 / kDraws));
}

TEST(RandomTest, BelowStaysInRangeAndCoversIt) {
  Rng rng(6, 0, Stream::kRequests);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const uint64_t k = rng.below(7);
    ASSERT_LT(k, 7u);
    ++seen[k];
  }
  for (int c : seen) EXPECT_GT(c, 800);  // expected 1000 each; sd about 30
}

}  // namespace
}  // namespace canarysim
