// Random streams for reproducible, thread-count-independent Monte Carlo studies.
//
// Every random number a run uses comes from a stream named by (seed, run index, stream
// id): nothing depends on which thread ran the run or what ran before it. Two policies
// evaluated with the same scenario and seed therefore see the same arrivals and the same
// per-request draws (common random numbers), so their difference is measured with far
// less noise than two independent studies would give.
//
// The generator is xoshiro256++ (Blackman and Vigna): 32 bytes of state, passes BigCrush,
// a few cycles per draw. Streams are seeded through SplitMix64 of a hash of the triple, as
// its authors recommend, so nearby seeds and run indices give unrelated streams.
#pragma once

#include <cmath>
#include <cstdint>

namespace canarysim {

// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Maps 64 random bits to a double uniform in [0, 1) with 53 bits of precision.
inline double to_unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

// Standard normal quantile, Acklam's rational approximation (relative error < 1.2e-9).
// REQUIRES: 0 < p < 1.
double normal_quantile(double p);

// Named purposes. A new purpose gets a new id; existing ids never change meaning, since
// that would change every study's results.
enum class Stream : uint64_t {
  kArrivals = 1,   // inter-arrival times
  kRequests = 2,   // per-request draws: user, latency percentiles, error
  kUsers = 3,      // per-user routing hash (stickiness)
  kBursts = 4,     // burst state switches of a bursty arrival process
  kSegments = 5,   // per-user segment hash
  kGolden = 6,     // golden-set evaluations
  kSamples = 7,    // random points of sweeps and tuning (run index: the sampler's seed)
  kUserSample = 8, // which users a scaled-fidelity run simulates
};

class Rng {
 public:
  Rng(uint64_t seed, uint64_t run, Stream stream) {
    uint64_t h = mix64(seed ^ 0x6a09e667f3bcc909ULL);
    h = mix64(h ^ run);
    h = mix64(h ^ static_cast<uint64_t>(stream));
    for (auto& s : s_) s = h = mix64(h);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double uniform() { return to_unit(next()); }
  // Uniform in (0, 1): safe to take a logarithm or a normal quantile of.
  double uniform_open() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  // Exponential with the given rate (mean 1/rate). REQUIRES: rate > 0.
  double exponential(double rate) { return -std::log(uniform_open()) / rate; }
  // Standard normal by inversion: one uniform per draw, monotone in it, so a request's
  // latency percentile is the same whichever version serves it.
  double normal() { return normal_quantile(uniform_open()); }
  // Uniform integer in [0, n), Lemire's multiply-shift (bias below 2^-64 * n).
  uint64_t below(uint64_t n) {
    __extension__ using U128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<U128>(next()) * n) >> 64);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace canarysim
