#include "sim/model/histogram.h"

#include <cassert>
#include <cmath>

namespace canarysim {

void Histogram::merge(const Histogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
}

void Histogram::scale(uint32_t k) {
  if (count_ == 0) return;
  for (uint32_t& c : counts_) c *= k;
  count_ *= k;
  sum_ *= k;
}

double Histogram::bucket_mid(int bucket) {
  const int octave = bucket >> kSubBits;
  const int sub = bucket & ((1 << kSubBits) - 1);
  return std::ldexp(1.0 + (sub + 0.5) / 64.0, octave + kMinExponent);
}

uint64_t Histogram::count_above(double seconds) const {
  uint64_t n = 0;
  for (int i = bucket_of(seconds) + 1; i < kBuckets; ++i) n += counts_[i];
  return n;
}

uint64_t Histogram::count_from(double seconds) const {
  uint64_t n = 0;
  for (int i = bucket_of(seconds); i < kBuckets; ++i) n += counts_[i];
  return n;
}

double Histogram::quantile(double q) const {
  assert(count_ > 0 && q > 0 && q <= 1);
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank && counts_[i] > 0) return bucket_mid(i);
  }
  return bucket_mid(kBuckets - 1);
}

}  // namespace canarysim
