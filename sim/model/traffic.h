// Traffic: when requests arrive, who sends them, and how many tokens they carry.
//
//   traffic:
//     rate: 200/s                  # mean Poisson rate (not with trace)
//     diurnal: {amplitude: 0.5, period: 24h, peak: 14h}   # rate x (1 + a cos(2 pi (t - peak) / period))
//     diurnal: {peak: 1500/s, trough: 600/s, peak_at: 14h}  # the same cycle from its extremes (sets rate)
//     schedule: [{at: 0s, rate: 100/s}, {at: 30m, rate: 300/s}]  # piecewise rate instead of `rate`
//     bursts: {factor: 4, every: 10m, lasting: 1m}   # two-state MMPP: rate x factor in bursts
//     trace: {file: traces/azure-llm-2023-conv.csv, time_scale: 1, loop: true}  # sim/model/trace.h
//     prompt_tokens: {median: 1000, p99: 6000}     # or {mean: 1000} (exponential) or fixed
//     output_tokens: {median: 150, p99: 900}
//     users: 50000
//     user_skew: 0.8               # Zipf exponent of user activity (0: uniform); 0.8 over 50,000 users
//                                  # gives the top user 2.6 % of requests, 1.1 gives 14 % (warned above 5 %)
//     segments: [{name: internal, share: 2%}, {name: eu, share: 30%}, {name: us, share: 68%}]
//     adversarial: 1%              # share of prompts that are adversarial
//
// Every draw a request makes happens at its arrival, from the run's request stream, in
// the same order whatever version later serves it (common random numbers).
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/model/random.h"
#include "sim/model/trace.h"

namespace canarysim {

class ConfigMap;

// An empirical distribution as knots of its quantile function (see Distribution).
struct QuantileTable {
  std::vector<double> p, x;  // increasing cumulative probabilities and their values
  bool log_normal_scale = false;  // interpolate in (probit p, log x); else linear in (p, x)
  double mean = 0;
  double at(double u) const;
};

// A positive quantity drawn per request: fixed, lognormal from median and p99,
// exponential from its mean, or empirical: from quantiles or a Prometheus histogram.
// Drawn from one uniform by inversion, so a request keeps its percentile whichever
// version serves it.
//   {quantiles: {p50: 400ms, p90: 900ms, p99: 2.5s, p99.9: 6s}}
//     between two quantiles, straight in (probit p, log x): lognormal pieces through the
//     given points, so every given quantile is drawn exactly; beyond the first and the
//     last, the nearest piece goes on (a lognormal tail).
//   {histogram: {le: [0.1, 0.25, 0.5, 1, 2.5, +Inf], count: [120, 480, 900, 990, 1000, 1000]}}
//     Prometheus bucket bounds (in seconds for latencies) and cumulative counts; within
//     a bucket linear, as histogram_quantile interpolates, from 0 below the first bound;
//     the +Inf bucket's share is drawn at the highest finite bound (histogram_quantile's
//     answer there too: a histogram says nothing beyond it).
struct Distribution {
  enum class Kind { kFixed, kLognormal, kExponential, kEmpirical };
  Kind kind = Kind::kFixed;
  double median = 1;  // kFixed: the value; kLognormal: the median; kExponential: the mean
  double sigma = 0;   // kLognormal: of log(value), = ln(p99 / median) / 2.3263
  std::shared_ptr<const QuantileTable> table;  // kEmpirical

  // The value at percentile u in (0, 1); increasing in u.
  double quantile(double u) const {
    switch (kind) {
      case Kind::kFixed: return median;
      case Kind::kLognormal: return median * std::exp(sigma * normal_quantile(u));
      case Kind::kExponential: return -median * std::log1p(-u);
      case Kind::kEmpirical: return table->at(u);
    }
    return median;
  }
  double mean() const {
    switch (kind) {
      case Kind::kLognormal: return median * std::exp(sigma * sigma / 2);
      case Kind::kEmpirical: return table->mean;
      default: return median;
    }
  }
  static Distribution fixed(double v) { return {Kind::kFixed, v, 0, nullptr}; }
  static Distribution from_median_p99(double median, double p99);
  static Distribution exponential(double mean) { return {Kind::kExponential, mean, 0, nullptr}; }
  static Distribution empirical(QuantileTable table);
  // A distribution key of a YAML mapping: a fixed value, {median, p99}, {mean},
  // {quantiles: ...} or {histogram: ...}.
  // `seconds`: values are durations (else plain numbers).
  static Distribution parse(const ConfigMap& parent, const char* key, bool seconds,
                            Distribution fallback);
};

// A drawn token count as a whole number in [1, kMaxTokens] (a lognormal's far tail, or
// a multiplied count, must not wrap): ceil(x) clamped, NaN giving 1. Computed by
// truncation, exact in this range, since the portable x86-64 build has no rounding
// instruction and its ceil() is a dozen, run for every count drawn.
inline uint32_t token_count(double x) {
  if (x > 9999999) return 10000000u;  // ceil(x) >= 1e7
  if (!(x > 0)) return 1u;            // ceil(x) <= 0, or NaN
  const auto whole = static_cast<uint32_t>(x);  // x truncated (exact below 2^32)
  return whole + (static_cast<double>(whole) < x);  // 0 < x < 1 gives 1
}

struct Segment {
  std::string name;
  double share = 1;  // of users
};

struct TrafficSpec {
  double rate_per_s = 100;  // mean rate; with a schedule, ignored
  struct Piece {
    double at_s, rate_per_s;
  };
  std::vector<Piece> schedule;  // piecewise-constant rate, sorted by at_s; empty: `rate`
  double diurnal_amplitude = 0, diurnal_period_s = 86400, diurnal_peak_s = 0;
  double burst_factor = 1, burst_every_s = 0, burst_lasting_s = 0;  // every_s 0: no bursts
  std::shared_ptr<const Trace> trace;  // replaces the rate model when set
  double trace_time_scale = 1;         // multiplies trace timestamps (0.5: twice as fast)
  bool trace_loop = true;

  Distribution prompt_tokens = Distribution::from_median_p99(800, 6000);
  Distribution output_tokens = Distribution::from_median_p99(150, 900);
  uint64_t users = 50000;
  double user_skew = 0;             // Zipf exponent; 0: uniform
  std::vector<Segment> segments{{"all", 1.0}};
  double adversarial_share = 0;
  // Scaled fidelity (sim/model/fidelity.h): one user in `sample` is simulated, those whose
  // id is r modulo `sample` (r drawn per run); the rates above are then already divided.
  uint32_t sample = 1;

  // The share of all requests the most active user sends (Zipf's first term; 1/users
  // when uniform).
  double top_user_share() const;
  // The Poisson rate at t, before bursts.
  double rate_at(double t) const;
  // An upper bound of rate_at(t) x burst factor, for thinning.
  double max_rate() const;
  static TrafficSpec parse(const ConfigMap& m);
};

// What the traffic model draws for one request.
struct Request {
  double arrival = 0;
  uint64_t user = 0;
  uint32_t segment = 0;
  uint32_t prompt_tokens = 1;
  uint32_t output_tokens = 1;  // before the serving version's output scale
  int64_t cached_tokens = -1;  // prompt tokens in the prefix cache, from a trace (-1: none given)
  bool failed = false;         // a trace says the request failed (its user got an error)
  bool adversarial = false;
  // Percentiles for the version models (common random numbers), drawn at arrival.
  double u_ttft = 0.5, u_itl = 0.5;
  double u_error = 0, u_tail = 0, u_quality = 0, u_hallucination = 0, u_unsafe = 0;
  uint64_t embedding_seed = 0;  // seeds the response embedding, when one is drawn
};

// Generates one run's requests in arrival order.
class TrafficSource {
 public:
  explicit TrafficSource(const TrafficSpec& spec) : spec_(spec) {}
  void reset(uint64_t seed, uint64_t run);
  // The next request after `now` (the first when now is the start).
  // Returns false when a non-looping trace is exhausted.
  bool next(double now, Request& out);
  // Under sampling, whether `user` is one of this run's simulated users.
  bool sampled(uint64_t user) const { return user % spec_.sample == sample_offset_; }
  uint64_t segment_of(uint64_t user) const;

 private:
  double next_arrival(double now);
  bool draw(double now, Request& out);  // next() before sampling
  // A user by activity; `among_sampled`: only among this run's sampled users.
  uint64_t draw_user(bool among_sampled);

  const TrafficSpec& spec_;
  double bound_ = 0;          // max_rate(), the thinning bound
  bool constant_ = true;      // a plain Poisson process: no thinning
  Rng arrivals_{0, 0, Stream::kArrivals}, draws_{0, 0, Stream::kRequests},
      bursts_{0, 0, Stream::kBursts};
  uint64_t segment_salt_ = 0;
  uint64_t sample_offset_ = 0;  // r: the users simulated are r, r + sample, ...
  bool in_burst_ = false;
  double next_switch_ = 0;
  size_t trace_index_ = 0;
  double trace_offset_ = 0;
};

}  // namespace canarysim
