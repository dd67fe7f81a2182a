#include "sim/model/traffic.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {

namespace {
constexpr double kZ99 = 2.3263478740408408;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.14159265358979323846;
}  // namespace

Distribution Distribution::from_median_p99(double median, double p99) {
  return {Kind::kLognormal, median, std::log(p99 / median) / kZ99, nullptr};
}

double QuantileTable::at(double u) const {
  const size_t n = p.size();
  if (!log_normal_scale) {  // a histogram: p from 0 to 1, linear within a bucket
    const auto it = std::lower_bound(p.begin(), p.end(), u);
    if (it == p.end()) return x.back();
    const size_t i = static_cast<size_t>(it - p.begin());
    if (i == 0) return x.front();
    const double span = p[i] - p[i - 1];
    return span > 0 ? x[i - 1] + (x[i] - x[i - 1]) * (u - p[i - 1]) / span : x[i];
  }
  // Quantiles: straight in (probit p, log x); beyond the ends, the nearest piece goes on.
  const double z = normal_quantile(u);
  size_t i = static_cast<size_t>(std::lower_bound(p.begin(), p.end(), u) - p.begin());
  i = std::clamp<size_t>(i, 1, n - 1);
  const double z0 = normal_quantile(p[i - 1]), z1 = normal_quantile(p[i]);
  const double l0 = std::log(x[i - 1]), l1 = std::log(x[i]);
  return std::exp(l0 + (l1 - l0) * (z - z0) / (z1 - z0));
}

Distribution Distribution::empirical(QuantileTable t) {
  // The mean by the midpoint rule over 10,000 equal slices of probability (well within a
  // percent for any tail a table describes; the mean only sizes capacity estimates).
  constexpr int kSlices = 10000;
  double sum = 0;
  for (int k = 0; k < kSlices; ++k) sum += t.at((k + 0.5) / kSlices);
  t.mean = sum / kSlices;
  Distribution d;
  d.kind = Kind::kEmpirical;
  d.median = t.at(0.5);
  d.table = std::make_shared<const QuantileTable>(std::move(t));
  return d;
}

namespace {

// {quantiles: {p50: 400ms, ...}}: at least two, probabilities and values increasing.
Distribution parse_quantiles(const ConfigMap& m, bool seconds) {
  QuantileTable t;
  t.log_normal_scale = true;
  for (const std::string& k : m.keys()) {
    char* end = nullptr;
    const double q = k.size() > 1 && k[0] == 'p' ? std::strtod(k.c_str() + 1, &end) : -1;
    if (!(end && *end == '\0' && q > 0 && q < 100))
      m.reject(k, "'" + k + "' is not a quantile; expected keys like p50, p90, p99, p99.9");
    const double v = seconds ? m.duration(k) : m.number(k, 0, kMaxTokens);
    if (!(v > 0)) m.fail(k, "a positive value");
    if (!t.p.empty() && q / 100 <= t.p.back()) m.fail(k, "quantiles in increasing order (p50 before p90)");
    if (!t.x.empty() && v < t.x.back()) m.fail(k, "a value at least the previous quantile's");
    t.p.push_back(q / 100);
    t.x.push_back(v);
  }
  if (t.p.size() < 2) m.fail(m.keys().empty() ? "p50" : m.keys().front(), "at least two quantiles, like p50 and p99");
  return Distribution::empirical(std::move(t));
}

using namespace schema;

const Section kDistribution{"scenario", "distribution (ttft, inter_token, patience, prompt_tokens, output_tokens, latency)",
    "A distribution of durations (latencies) or of token counts: a fixed value, or one mapping of one form: "
    "{median, p99} (log-normal), {mean} (exponential), {quantiles} or {histogram} (empirical).", {
    {"median", kDuration | kNumber, "", "> 0", "the median (with p99: a log-normal through both)"},
    {"p99", kDuration | kNumber, "", ">= median", "the 99th percentile"},
    {"mean", kDuration | kNumber, "(none)", "> 0", "alone: an exponential distribution of this mean"},
    {"quantiles", kMap, "(none)", "", "alone: {p50: X, p90: Y, p99: Z, ...}, interpolated between"},
    {"histogram", kMap, "(none)", "", "alone: Prometheus buckets, section distribution.histogram"},
}};

const Section kHistogram{"scenario", "distribution.histogram", "Prometheus histogram buckets, as a _bucket series exports them.", {
    {"le", kTexts, "", "increasing, +Inf last", "bucket upper bounds (seconds or tokens)"},
    {"count", kTexts, "", "cumulative, one per bound", "observations at or below each bound"},
}};

const Section kTraffic{"scenario", "traffic", "The requests: their arrival process, sizes, users and segments; or a trace replayed.", {
    {"rate", kRate, "100/s", "(0, 10^6/s]", "mean arrival rate (Poisson); not with schedule or trace"},
    {"diurnal", kMap, "(none)", "", "a daily cycle: section traffic.diurnal"},
    {"schedule", kList, "(none)", "", "a piecewise-constant rate: section traffic.schedule[]"},
    {"bursts", kMap, "(none)", "", "periodic surges: section traffic.bursts"},
    {"trace", kMap, "(none)", "", "replay a request trace instead of a rate model: section traffic.trace"},
    {"prompt_tokens", kNumber | kMap, "{median: 800, p99: 6000}", "> 0", "prompt length, a distribution of tokens"},
    {"output_tokens", kNumber | kMap, "{median: 150, p99: 900}", "> 0", "output length, likewise (before a version's output_scale)"},
    {"users", kCount, "50000", "[1, 10^8]", "distinct users requests are drawn from (blast radius in users counts them)"},
    {"user_skew", kNumber, "0", "[0, 10]", "Zipf exponent of requests per user; 0: uniform (a warning says when one user carries over 5 %)"},
    {"segments", kList, "one segment, all", "", "named shares of users (regions, tiers): section traffic.segments[]; shares add up to 100 %"},
    {"adversarial", kFraction, "0", "[0, 1]", "share of requests that are adversarial prompts (unsafe_rate applies to them)"},
}};

const Section kSchedulePiece{"scenario", "traffic.schedule[]", "One piece of a piecewise-constant rate.", {
    {"at", kDuration, "", "0s first, then increasing", "when the piece starts"},
    {"rate", kRate, "", "(0, 10^6/s]", "the rate from then on"},
}};

const Section kDiurnal{"scenario", "traffic.diurnal", "A daily cycle (a cosine): {amplitude, period, peak} around traffic.rate, or {peak, trough, peak_at} (which set the rate: their mean).", {
    {"amplitude", kNumber | kFraction, "", "[0, 1]", "relative swing around the rate (43 % or 0.43)"},
    {"period", kDuration, "24h", "> 0", "length of one cycle"},
    {"peak", kDuration | kRate, "0s", "", "with amplitude: the time of the peak; with trough: the peak rate"},
    {"trough", kRate, "(none)", "<= peak", "the lowest rate"},
    {"peak_at", kDuration, "0s", "", "the time of the peak"},
}};

const Section kBursts{"scenario", "traffic.bursts", "Periodic surges of arrivals.", {
    {"factor", kNumber, "", "[1, 1000]", "the rate multiplier during a burst"},
    {"every", kDuration, "", "> 0", "time between the starts of bursts"},
    {"lasting", kDuration, "", "> 0", "length of a burst"},
}};

const Section kSegment{"scenario", "traffic.segments[]", "A named share of users.", {
    {"name", kText, "", "unique", "the segment's name (routing, scope, policies name it)"},
    {"share", kFraction, "", "[0, 1]", "its share of users"},
}};

const Section kTrace{"scenario", "traffic.trace", "A request trace replayed as the arrivals (CSV, JSON lines or a JSON array of objects, .gz too).", {
    {"file", kFile, "", "", "the trace, relative to the scenario"},
    {"time_scale", kNumber, "1", "[10^-6, 10^6]", "multiplies the trace's times (0.5: twice as fast)"},
    {"loop", kFlag, "true", "", "start the trace again when it ends"},
    {"format", kText, "by the file's extension", "csv, jsonl", "the file's format (jsonl: JSON objects, one a line or in an array)"},
    {"schema", kText, "(none)", "azure, azure-2024, mooncake, burstgpt", "a known public trace's columns and time unit"},
    {"columns", kMap, "found by common names", "", "which column holds what: section traffic.trace.columns"},
    {"time_unit", kText, "by the schema, else by the first value (warned)", "s, ms, us, ns, datetime", "the unit of the time column"},
    {"out_of_order", kDuration, "0s", ">= 0", "how far back a row's time may go (rows sorted within it); beyond, an error"},
    {"zero_output", kText, "by the schema, else error", "error, failed", "a row with 0 output tokens: an input error, or a failed request"},
}};

// {histogram: {le: [...], count: [...]}}: Prometheus bucket bounds and cumulative counts.
Distribution parse_histogram(const ConfigMap& m) {
  m.allow(kHistogram);
  const std::vector<std::string> le = m.texts("le");
  const std::vector<std::string> count = m.texts("count");
  if (count.size() != le.size())
    m.fail("count", "one cumulative count per bucket bound (" + std::to_string(le.size()) + ")");
  QuantileTable t;
  t.p.push_back(0);
  t.x.push_back(0);
  double last_bound = 0, last_count = 0;
  std::vector<double> bounds, counts;
  for (size_t i = 0; i < le.size(); ++i) {
    char* end = nullptr;
    // +Inf as Prometheus writes it, or YAML's .inf.
    std::string bound = le[i];
    if (!bound.empty() && bound[0] == '+') bound.erase(0, 1);
    if (bound.size() > 1 && bound[0] == '.' && (bound[1] == 'i' || bound[1] == 'I')) bound.erase(0, 1);
    const double b = std::strtod(bound.c_str(), &end);
    const bool inf = std::isinf(b) && b > 0;
    if (!end || *end != '\0' || std::isnan(b) || b < 0 || (inf && i + 1 != le.size()))
      m.fail_item("le", i, "a bucket bound: a number of at least 0, or +Inf last");
    if (i > 0 && !(b > last_bound)) m.fail_item("le", i, "bucket bounds in increasing order");
    const double c = std::strtod(count[i].c_str(), &end);
    if (!end || *end != '\0' || !(c >= 0) || std::isinf(c))
      m.fail_item("count", i, "a cumulative count: a number of at least 0");
    if (c < last_count) m.fail_item("count", i, "cumulative counts, never below the one before");
    last_bound = b;
    last_count = c;
    bounds.push_back(b);
    counts.push_back(c);
  }
  if (!(last_count > 0)) m.fail("count", "a histogram with at least one observation");
  double top = 0;  // the highest finite bound
  for (double b : bounds)
    if (!std::isinf(b)) top = b;
  if (!(top > 0)) m.fail("le", "at least one finite bucket bound above 0");
  for (size_t i = 0; i < bounds.size(); ++i) {
    const double p = counts[i] / last_count;
    if (std::isinf(bounds[i])) {
      t.p.push_back(p);  // the +Inf bucket: drawn at the highest finite bound
      t.x.push_back(top);
    } else {
      t.p.push_back(p);
      t.x.push_back(bounds[i]);
    }
  }
  return Distribution::empirical(std::move(t));
}

}  // namespace

Distribution Distribution::parse(const ConfigMap& parent, const char* key, bool seconds,
                                 Distribution fallback) {
  if (!parent.has(key)) return fallback;
  auto value = [&](const ConfigMap& m, std::string_view k) {
    return seconds ? m.duration(k) : m.number(k, 0, kMaxTokens);
  };
  if (!parent.is_map(key)) {
    const double v = value(parent, key);
    if (v <= 0) parent.fail(key, "a positive value");
    return fixed(v);
  }
  const ConfigMap m = parent.map(key);
  m.allow(kDistribution);
  if (m.has("quantiles") || m.has("histogram")) {
    for (const char* other : {"median", "p99", "mean", "quantiles", "histogram"})
      if (m.has(other) && (m.has("quantiles") ? std::string(other) != "quantiles" : std::string(other) != "histogram"))
        m.fail(other, "one form: {quantiles}, {histogram}, {median, p99} or {mean}");
    return m.has("quantiles") ? parse_quantiles(m.map("quantiles"), seconds) : parse_histogram(m.map("histogram"));
  }
  if (m.has("mean")) {
    if (m.has("median") || m.has("p99")) m.fail("mean", "either {mean} or {median, p99}");
    const double mean = value(m, "mean");
    if (mean <= 0) m.fail("mean", "a positive value");
    return exponential(mean);
  }
  const double median = value(m, "median");
  if (median <= 0) m.fail("median", "a positive value");
  const double p99 = value(m, "p99");
  if (p99 < median) m.fail("p99", "a p99 at least as large as the median");
  return p99 == median ? fixed(median) : from_median_p99(median, p99);
}

// ---------------------------------------------------------------------------------
// The traffic specification.

double TrafficSpec::rate_at(double t) const {
  double r = rate_per_s;
  if (!schedule.empty()) {
    auto it = std::upper_bound(schedule.begin(), schedule.end(), t,
                               [](double x, const Piece& p) { return x < p.at_s; });
    r = it == schedule.begin() ? schedule.front().rate_per_s : std::prev(it)->rate_per_s;
  }
  if (diurnal_amplitude > 0)
    r *= 1 + diurnal_amplitude * std::cos(2 * kPi * (t - diurnal_peak_s) / diurnal_period_s);
  return r;
}

double TrafficSpec::top_user_share() const {
  const uint64_t n = users;
  const double s = user_skew;
  if (s == 0) return 1.0 / static_cast<double>(n);
  // H(n, s): the first terms summed, the rest by the integral (Euler-Maclaurin's first term).
  const uint64_t head = std::min<uint64_t>(n, 10000);
  double h = 0;
  for (uint64_t k = 1; k <= head; ++k) h += std::pow(static_cast<double>(k), -s);
  if (n > head) {
    const double a = static_cast<double>(head) + 0.5, b = static_cast<double>(n) + 0.5;
    h += std::abs(s - 1) < 1e-9 ? std::log(b / a) : (std::pow(b, 1 - s) - std::pow(a, 1 - s)) / (1 - s);
  }
  return 1 / h;
}

double TrafficSpec::max_rate() const {
  double r = rate_per_s;
  for (const Piece& p : schedule) r = std::max(r, p.rate_per_s);
  return r * (1 + diurnal_amplitude) * std::max(1.0, burst_factor);
}

TrafficSpec TrafficSpec::parse(const ConfigMap& m) {
  m.allow(kTraffic);
  TrafficSpec t;
  if (m.has("trace") && (m.has("rate") || m.has("schedule")))
    m.fail("trace", "either a trace or a rate model (rate, schedule), not both");
  if (m.has("rate") && m.has("schedule")) m.fail("schedule", "either rate or schedule, not both");
  t.rate_per_s = m.rate("rate", t.rate_per_s);
  const auto pieces = m.maps("schedule");
  for (size_t i = 0; i < pieces.size(); ++i) {
    pieces[i].allow(kSchedulePiece);
    const Piece p{pieces[i].duration("at"), pieces[i].rate("rate")};
    if (i == 0 && p.at_s != 0) pieces[i].fail("at", "0s for the first piece of a schedule");
    if (i > 0 && p.at_s <= t.schedule.back().at_s)
      pieces[i].fail("at", "times that increase from piece to piece");
    t.schedule.push_back(p);
  }
  if (!t.schedule.empty()) {  // the mean rate over the schedule's pieces, for reference
    t.rate_per_s = 0;
    for (const Piece& p : t.schedule) t.rate_per_s = std::max(t.rate_per_s, p.rate_per_s);
  }
  if (m.has("diurnal")) {
    // Two forms: {amplitude: 0.43, period: 24h, peak: 14h} around `rate`, or the cycle as
    // an SRE reads it off a dashboard, {peak: 1500/s, trough: 600/s, peak_at: 14h}, which
    // sets the rate too (the mean of peak and trough).
    const ConfigMap d = m.map("diurnal");
    d.allow(kDiurnal);
    t.diurnal_period_s = d.duration("period", t.diurnal_period_s);
    if (t.diurnal_period_s <= 0) d.fail("period", "a positive duration");
    if (d.has("trough")) {
      if (d.has("amplitude")) d.fail("amplitude", "either amplitude (around traffic.rate) or peak and trough, not both");
      if (m.has("rate")) m.fail("rate", "no rate with diurnal peak and trough (they set it: their mean)");
      if (!t.schedule.empty()) m.fail("schedule", "either a schedule or a diurnal peak and trough, not both");
      const double peak = d.rate("peak"), trough = d.rate("trough");
      if (!(trough > 0)) d.fail("trough", "a positive rate");
      if (trough > peak) d.fail("trough", "a rate at most the peak's (" + format_amount(peak) + "/s)");
      t.rate_per_s = (peak + trough) / 2;
      t.diurnal_amplitude = (peak - trough) / (peak + trough);
      t.diurnal_peak_s = d.duration("peak_at", 0);
    } else {
      if (d.has("peak") && d.has("peak_at")) d.fail("peak_at", "either peak or peak_at (the time of the peak), not both");
      t.diurnal_amplitude = d.number("amplitude", 0, 1);
      t.diurnal_peak_s = d.has("peak_at") ? d.duration("peak_at") : d.duration("peak", 0);
    }
  }
  if (m.has("bursts")) {
    const ConfigMap b = m.map("bursts");
    b.allow(kBursts);
    t.burst_factor = b.number("factor", 1, 1000);
    t.burst_every_s = b.duration("every");
    t.burst_lasting_s = b.duration("lasting");
    if (t.burst_every_s <= 0) b.fail("every", "a positive duration");
    if (t.burst_lasting_s <= 0) b.fail("lasting", "a positive duration");
  }
  t.prompt_tokens = Distribution::parse(m, "prompt_tokens", false, t.prompt_tokens);
  t.output_tokens = Distribution::parse(m, "output_tokens", false, t.output_tokens);
  // Distinct users in the blast radius take one bit each per thread: 10^8 is 12.5 MB.
  t.users = m.count("users", t.users, 1, 100000000);
  t.user_skew = m.number("user_skew", 0, 0, 10);
  const auto segments = m.maps("segments");
  if (!segments.empty()) {
    t.segments.clear();
    double total = 0;
    for (const ConfigMap& s : segments) {
      s.allow(kSegment);
      const Segment seg{s.text("name"), s.probability("share")};
      for (const Segment& other : t.segments)
        if (other.name == seg.name) s.fail("name", "a segment name not used before");
      total += seg.share;
      t.segments.push_back(seg);
    }
    if (std::abs(total - 1) > 1e-9) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "segment shares add up to %g%%; expected 100%%", total * 100);
      m.reject("segments", buf);
    }
  }
  t.adversarial_share = m.probability("adversarial", 0);
  if (m.has("trace")) {  // after the segments, which a trace's segment column names
    const ConfigMap tr = m.map("trace");
    tr.allow(kTrace);
    const std::string path = tr.file_path("file");
    if (!std::ifstream(path)) tr.reject_missing("file", "no such trace file " + path);
    std::vector<std::string> names;
    for (const Segment& seg : t.segments) names.push_back(seg.name);
    t.trace = std::make_shared<const Trace>(Trace::load(path, TraceFormat::parse(tr), names));
    t.trace_time_scale = tr.number("time_scale", 1, 1e-6, 1e6);
    t.trace_loop = tr.flag("loop", true);
    if (t.trace_loop && !(t.trace->duration_s() > 0))
      tr.fail("loop", "false for a trace whose rows all share one instant (a looping trace needs a positive span)");
    t.rate_per_s = static_cast<double>(t.trace->arrival_s.size()) /
                   std::max(1e-9, t.trace->duration_s() * t.trace_time_scale);
  }
  return t;
}

// ---------------------------------------------------------------------------------
// Generating requests.

void TrafficSource::reset(uint64_t seed, uint64_t run) {
  arrivals_ = Rng(seed, run, Stream::kArrivals);
  draws_ = Rng(seed, run, Stream::kRequests);
  bursts_ = Rng(seed, run, Stream::kBursts);
  segment_salt_ = Rng(seed, run, Stream::kSegments).next();
  in_burst_ = false;
  next_switch_ = spec_.burst_every_s > 0 ? bursts_.exponential(1 / spec_.burst_every_s) : kInf;
  trace_index_ = 0;
  trace_offset_ = 0;
  sample_offset_ = spec_.sample > 1 ? Rng(seed, run, Stream::kUserSample).below(spec_.sample) : 0;
  bound_ = spec_.max_rate();
  constant_ = spec_.schedule.empty() && spec_.diurnal_amplitude == 0 && spec_.burst_every_s == 0;
}

uint64_t TrafficSource::segment_of(uint64_t user) const {
  if (spec_.segments.size() == 1) return 0;
  double u = to_unit(mix64(segment_salt_ ^ user));
  for (size_t i = 0; i + 1 < spec_.segments.size(); ++i) {
    if (u < spec_.segments[i].share) return i;
    u -= spec_.segments[i].share;
  }
  return spec_.segments.size() - 1;
}

double TrafficSource::next_arrival(double now) {
  // Thinning (Lewis and Shedler): propose at the maximum rate, accept with the ratio of
  // the rate in force to it. Burst state switches come from their own stream.
  double t = now;
  for (;;) {
    t += arrivals_.exponential(bound_);
    if (constant_) return t;
    while (next_switch_ <= t) {
      in_burst_ = !in_burst_;
      const double mean = in_burst_ ? spec_.burst_lasting_s : spec_.burst_every_s;
      next_switch_ += bursts_.exponential(1 / mean);
    }
    const double rate = spec_.rate_at(t) * (in_burst_ ? spec_.burst_factor : 1);
    if (arrivals_.uniform() * bound_ < rate) return t;
  }
}

uint64_t TrafficSource::draw_user(bool among_sampled) {
  const uint64_t n = spec_.users, w = among_sampled ? spec_.sample : 1;
  const double s = spec_.user_skew;
  if (s == 0 || n == 1) {
    if (w == 1) return draws_.below(n);
    // Uniform over the sampled users r, r + w, ... below n.
    const uint64_t count = (n - sample_offset_ + w - 1) / w;
    return sample_offset_ + w * draws_.below(count);
  }
  // Zipf by rejection-inversion (Hoermann and Derflinger 1996): O(1), no table.
  auto h_integral = [s](double x) {
    const double lx = std::log(x);
    return std::abs(1 - s) < 1e-9 ? lx : std::expm1((1 - s) * lx) / (1 - s);
  };
  auto h = [s](double x) { return std::exp(-s * std::log(x)); };
  auto h_integral_inverse = [s](double y) {
    if (std::abs(1 - s) < 1e-9) return std::exp(y);
    double t = y * (1 - s);
    if (t < -1) t = -1;
    return std::exp(std::log1p(t) / (1 - s));
  };
  const double x1 = h_integral(1.5) - 1;
  const double xn = h_integral(static_cast<double>(n) + 0.5);
  const double cut = 2 - h_integral_inverse(h_integral(2.5) - h(2));
  for (;;) {
    const double u = xn + draws_.uniform() * (x1 - xn);
    const double x = h_integral_inverse(u);
    double k = std::floor(x + 0.5);
    k = std::clamp(k, 1.0, static_cast<double>(n));
    if (k - x <= cut || u >= h_integral(k + 0.5) - h(k)) {
      const auto user = static_cast<uint64_t>(k) - 1;
      if (w == 1 || user % w == sample_offset_) return user;  // else: Zipf among the sampled, by rejection
    }
  }
}

bool TrafficSource::next(double now, Request& r) {
  // A trace under sampling keeps the rows of the sampled users (the rates of a synthetic
  // model are already divided, and its users drawn among the sampled).
  for (;;) {
    if (!draw(now, r)) return false;
    if (!spec_.trace || spec_.sample == 1 || sampled(r.user)) return true;
  }
}

bool TrafficSource::draw(double now, Request& r) {
  if (spec_.trace) {
    const Trace& tr = *spec_.trace;
    if (trace_index_ == tr.arrival_s.size()) {
      if (!spec_.trace_loop) return false;
      // The next lap starts one mean gap after the last request.
      trace_offset_ += tr.duration_s() + tr.duration_s() / static_cast<double>(tr.arrival_s.size());
      trace_index_ = 0;
    }
    r.arrival = (trace_offset_ + tr.arrival_s[trace_index_]) * spec_.trace_time_scale;
    r.prompt_tokens = tr.prompt_tokens[trace_index_];
    r.output_tokens = tr.output_tokens[trace_index_];
    r.cached_tokens = tr.cached_tokens.empty() ? -1 : static_cast<int64_t>(tr.cached_tokens[trace_index_]);
    r.failed = !tr.failed.empty() && tr.failed[trace_index_];
    draws_.uniform();  // keep the draw count per request the same as without a trace
    draws_.uniform();
  } else {
    r.arrival = next_arrival(now);
    r.prompt_tokens = token_count(spec_.prompt_tokens.quantile(draws_.uniform_open()));
    r.output_tokens = token_count(spec_.output_tokens.quantile(draws_.uniform_open()));
  }
  r.user = draw_user(/*among_sampled=*/!spec_.trace);  // drawn whatever the trace says, so later draws keep their places
  r.segment = static_cast<uint32_t>(segment_of(r.user));
  if (spec_.trace) {  // a trace's own users and segments replace the synthetic ones
    const Trace& tr = *spec_.trace;
    if (!tr.user.empty()) {
      r.user = tr.user[trace_index_] % spec_.users;
      r.segment = static_cast<uint32_t>(segment_of(r.user));
    }
    if (!tr.segment.empty()) r.segment = tr.segment[trace_index_];
    ++trace_index_;
  }
  r.adversarial = draws_.uniform() < spec_.adversarial_share;
  r.u_ttft = draws_.uniform_open();
  r.u_itl = draws_.uniform_open();
  r.u_error = draws_.uniform();
  r.u_tail = draws_.uniform();
  r.u_quality = draws_.uniform_open();
  r.u_hallucination = draws_.uniform();
  r.u_unsafe = draws_.uniform();
  r.embedding_seed = draws_.next();
  return true;
}

}  // namespace canarysim
