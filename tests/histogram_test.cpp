#include "sim/model/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/model/random.h"

namespace canarysim {
namespace {

// Exact nearest-rank quantile of a sample, the definition Histogram::quantile follows.
double ExactQuantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

TEST(HistogramTest, QuantilesAreWithinOnePercentOfExact) {
  Rng rng(1, 0, Stream::kRequests);
  std::vector<double> values;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    const double v = 0.4 * std::exp(0.6 * rng.normal());  // lognormal TTFT-like values
    values.push_back(v);
    h.record(v);
  }
  for (double q : {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const double exact = ExactQuantile(values, q);
    EXPECT_NEAR(h.quantile(q) / exact, 1.0, 0.01) << "q = " << q;
  }
}

TEST(HistogramTest, EveryValueInRangeIsWithinOnePercentOfItsBucketMidpoint) {
  for (double v = 1e-4; v < 4000; v *= 1.0137) {
    EXPECT_NEAR(Histogram::bucket_mid(Histogram::bucket_of(v)) / v, 1.0, 1.0 / 128 + 1e-12) << v;
  }
}

TEST(HistogramTest, MemoryDoesNotGrowWithTheNumberOfValues) {
  // A fixed array: the type's size is the whole story.
  EXPECT_LE(sizeof(Histogram), 7 * 1024u);
  Histogram h;
  for (int i = 0; i < 1000000; ++i) h.record(1e-3 * (1 + i % 1000));
  EXPECT_EQ(h.count(), 1000000u);
}

TEST(HistogramTest, OutOfRangeValuesLandInTheEdgeBuckets) {
  EXPECT_EQ(Histogram::bucket_of(0.0), 0);
  EXPECT_EQ(Histogram::bucket_of(1e-9), 0);
  EXPECT_EQ(Histogram::bucket_of(1e9), Histogram::kBuckets - 1);
}

TEST(HistogramTest, MergeAddsCountsAndSums) {
  Histogram a, b;
  a.record(0.1);
  b.record(0.2);
  b.record(0.3);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_NEAR(a.mean(), 0.2, 1e-12);
  EXPECT_NEAR(a.quantile(1.0), 0.3, 0.3 / 128);
}

}  // namespace
}  // namespace canarysim
