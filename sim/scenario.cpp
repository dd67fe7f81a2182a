#include "sim/scenario.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "sim/config.h"

namespace canarysim {

namespace {
constexpr double kZ99 = 2.3263478740408408;  // standard normal 0.99 quantile
constexpr double kInf = std::numeric_limits<double>::infinity();

enum class Unit { kSeconds, kTokens };

// A distribution key: a fixed value, or {median, p99}.
Distribution parse_distribution(const ConfigMap& parent, std::string_view key, Unit unit,
                                Distribution fallback) {
  if (!parent.has(key)) return fallback;
  auto value = [&](const ConfigMap& m, std::string_view k) {
    return unit == Unit::kSeconds ? m.duration(k) : m.number(k, 0, kInf);
  };
  if (!parent.is_map(key)) {
    const double v = value(parent, key);
    if (v <= 0) parent.fail(key, "a positive value");
    return Distribution::fixed(v);
  }
  const ConfigMap m = parent.map(key);
  m.allow({"median", "p99"});
  const double median = value(m, "median");
  if (median <= 0) m.fail("median", "a positive value");
  const double p99 = value(m, "p99");
  if (p99 < median) m.fail("p99", "a p99 at least as large as the median");
  return Distribution::from_median_p99(median, p99);
}

VersionSpec parse_version(const ConfigMap& m, const VersionSpec& fallback) {
  m.allow({"ttft", "output_tokens", "inter_token", "error_rate"});
  VersionSpec v;
  v.ttft = parse_distribution(m, "ttft", Unit::kSeconds, fallback.ttft);
  v.output_tokens = parse_distribution(m, "output_tokens", Unit::kTokens, fallback.output_tokens);
  v.inter_token = parse_distribution(m, "inter_token", Unit::kSeconds, fallback.inter_token);
  v.error_rate = m.probability("error_rate", fallback.error_rate);
  return v;
}

Regression parse_regression(const ConfigMap& m, size_t index) {
  Regression r;
  const std::string kind = m.text("kind");
  if (kind == "latency") {
    m.allow({"name", "kind", "onset", "ttft_multiplier", "itl_multiplier"});
    r.kind = Regression::Kind::kLatency;
    r.ttft_multiplier = m.number("ttft_multiplier", 1, 0, kInf);
    r.itl_multiplier = m.number("itl_multiplier", 1, 0, kInf);
    if (!m.has("ttft_multiplier") && !m.has("itl_multiplier"))
      m.fail("ttft_multiplier", "ttft_multiplier or itl_multiplier for a latency regression");
  } else if (kind == "errors") {
    m.allow({"name", "kind", "onset", "error_rate", "added_error_rate"});
    r.kind = Regression::Kind::kErrors;
    if (m.has("error_rate") == m.has("added_error_rate"))
      m.fail("error_rate", "exactly one of error_rate or added_error_rate");
    r.error_rate = m.probability("error_rate", -1);
    r.added_error_rate = m.probability("added_error_rate", 0);
  } else {
    const std::vector<std::string> kinds = {"latency", "errors"};
    const std::string guess = nearest(kind, kinds);
    m.reject("kind", "unknown regression kind '" + kind + "'" +
                         (guess.empty() ? "" : " (did you mean '" + guess + "'?)") +
                         "; expected one of: latency, errors");
  }
  r.name = m.text("name", kind + "-" + std::to_string(index));
  r.onset_s = m.duration("onset", 0);
  return r;
}

}  // namespace

Distribution Distribution::from_median_p99(double median, double p99) {
  return {median, std::log(p99 / median) / kZ99};
}

double Distribution::p99() const { return median * std::exp(sigma * kZ99); }

double Scenario::first_onset_s() const {
  double t = kInf;
  for (const Regression& r : regressions) t = std::min(t, r.onset_s);
  return t;
}

Scenario parse_scenario(const ConfigMap& m) {
  m.allow({"name", "description", "horizon", "traffic", "baseline", "canary", "regressions",
           "telemetry", "policy"});
  Scenario s;
  s.file = m.file();
  s.name = m.text("name", std::filesystem::path(m.file()).stem().string());
  s.description = m.text("description", "");
  s.horizon_s = m.duration("horizon", s.horizon_s);
  if (s.horizon_s <= 0) m.fail("horizon", "a positive duration");
  if (m.has("traffic")) {
    const ConfigMap t = m.map("traffic");
    t.allow({"rate", "users"});
    s.traffic.rate_per_s = t.rate("rate", s.traffic.rate_per_s);
    s.traffic.users = t.count("users", s.traffic.users, 1, uint64_t{1} << 32);
  }
  if (m.has("baseline")) s.baseline = parse_version(m.map("baseline"), VersionSpec{});
  // The canary is the baseline but for what its section says.
  s.canary = m.has("canary") ? parse_version(m.map("canary"), s.baseline) : s.baseline;
  const std::vector<ConfigMap> regressions = m.maps("regressions");
  for (size_t i = 0; i < regressions.size(); ++i)
    s.regressions.push_back(parse_regression(regressions[i], i));
  if (m.has("telemetry")) {
    const ConfigMap t = m.map("telemetry");
    t.allow({"window", "scrape_delay"});
    s.telemetry.window_s = t.duration("window", s.telemetry.window_s);
    if (s.telemetry.window_s <= 0) t.fail("window", "a positive duration");
    s.telemetry.scrape_delay_s = t.duration("scrape_delay", s.telemetry.scrape_delay_s);
  }
  if (m.has("policy")) {
    if (m.is_map("policy")) {
      s.policy = parse_policy(m.map("policy"));
    } else {
      const std::string name = m.text("policy");
      const std::string path = (std::filesystem::path(m.directory()) / name).lexically_normal();
      if (!std::filesystem::exists(path)) {
        m.reject("policy", "no such policy file " + path +
                               "; expected a policy file (relative to this scenario) or a "
                               "policy mapping");
      }
      s.policy = load_policy_file(path);
    }
  }
  s.source = m.dump();
  return s;
}

std::string validate_file(const std::string& path) {
  const ConfigMap m = ConfigMap::parse_file(path);
  if (m.has("kind")) return path + ": valid " + parse_policy(m)->kind() + " policy";
  const Scenario s = parse_scenario(m);
  return path + ": valid scenario '" + s.name + "'" +
         (s.policy ? " with policy " + s.policy->kind() : std::string(", no policy"));
}

Scenario load_scenario(const std::string& path) {
  return parse_scenario(ConfigMap::parse_file(path));
}

}  // namespace canarysim
