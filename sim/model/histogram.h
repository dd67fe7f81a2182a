// A latency histogram with bounded memory and quantiles within 1% relative error.
//
// Log-linear buckets in the manner of HdrHistogram: each power of two between 2^-14 s
// (61 us) and 2^12 s (68 min) is split into 64 equal sub-buckets, found from the bits of
// the double with no logarithm. A bucket spans at most 1/64 of its lower edge, so its
// midpoint is within 1/128 (0.78%) of any value in it. Values below the range count in
// the first bucket, above it in the last; both are far outside any latency studied.
// Size: 1,664 counters, 6.5 KiB, whatever the number of values recorded.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

namespace canarysim {

class Histogram {
 public:
  static constexpr int kMinExponent = -14;  // lowest resolved value 2^-14 s
  static constexpr int kOctaves = 26;       // up to 2^12 s
  static constexpr int kSubBits = 6;        // 64 sub-buckets per octave
  static constexpr int kBuckets = kOctaves << kSubBits;

  void record(double seconds) {
    ++counts_[bucket_of(seconds)];
    ++count_;
    sum_ += seconds;
  }
  // `n` values of `seconds` at once. REQUIRES: n < 2^32 (a bucket counts in 32 bits).
  void record(double seconds, uint64_t n) {
    counts_[bucket_of(seconds)] += static_cast<uint32_t>(n);
    count_ += n;
    // n converted as signed: the same double, in one instruction where unsigned takes four.
    sum_ += seconds * static_cast<double>(static_cast<int64_t>(n));
  }
  void merge(const Histogram& other);
  // Every count times k (a sample's histogram scaled to the population it stands for).
  void scale(uint32_t k);
  void clear() { *this = Histogram(); }

  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  // The q-quantile (0 < q <= 1) by nearest rank: the value of the ceil(q * n)-th smallest,
  // to within 1% relative error. REQUIRES: count() > 0.
  double quantile(double q) const;

  static int bucket_of(double seconds) {
    uint64_t bits;
    std::memcpy(&bits, &seconds, sizeof bits);
    const int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
    if (seconds <= 0 || exponent < kMinExponent) return 0;
    if (exponent >= kMinExponent + kOctaves) return kBuckets - 1;
    const int sub = static_cast<int>((bits >> (52 - kSubBits)) & ((1 << kSubBits) - 1));
    return ((exponent - kMinExponent) << kSubBits) | sub;
  }
  // Values in buckets wholly above the bucket holding `seconds`: a count of values above
  // it that never overcounts (values in its own bucket are not counted).
  uint64_t count_above(double seconds) const;
  // Values in the bucket holding `seconds` and every bucket above it: a count of values at
  // or above it that never undercounts.
  uint64_t count_from(double seconds) const;
  // Midpoint of a bucket: the value reported for every sample in it.
  static double bucket_mid(int bucket);

 private:
  std::array<uint32_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

}  // namespace canarysim
