#include "sim/model/scenario.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>

#include "sim/io/config.h"
#include "sim/io/schema.h"
#include "sim/model/capacity.h"

namespace canarysim {

namespace {

// "2024-05-01 00:00 UTC" for a Unix time in seconds.
std::string utc_date(double seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  char buf[40] = "a date out of range";
  if (gmtime_r(&t, &tm)) std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

// A note when a time read as seconds looks like a spreadsheet's serial date (days since
// 1899-12-30, with a fraction for the time of day, from 1970 to 2100): read as seconds,
// a day's traffic would pass in a second. "" otherwise.
std::string serial_date_hint(const std::string& first) {
  double days = 0;
  const auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), days);
  if (ec != std::errc() || end != first.data() + first.size() || !(days >= 25569 && days < 73051) ||
      first.find('.') == std::string::npos)
    return "";
  return "; the first, " + first + ", is where spreadsheet serial dates lie (days since 1899-12-30: " +
         utc_date((days - 25569) * 86400) + "): if the column holds such dates, export it as text dates";
}

using namespace schema;

const Section kScenario{"scenario", "(top level)", "A scenario: the traffic, the two versions, the regressions injected into the canary, the monitoring, and the policy under study.", {
    {"name", kText, "the file's name", "", "the scenario's name in reports"},
    {"description", kText, "\"\"", "", "free text for people"},
    {"horizon", kDuration, "4h", "> 0", "simulated time limit of one run"},
    {"incident_detection", kDuration, "(none)", "", "after a promotion with a bad canary, the time until the on-call mitigates: blast radius counts that long (default: until the horizon)"},
    {"traffic", kMap, "100/s of synthetic requests", "", "the requests: section traffic"},
    {"routing", kMap, "(none)", "", "which traffic segments reach the canary first, only or always: section routing"},
    {"baseline", kMap, "the defaults of section baseline and canary", "", "the stable version"},
    {"canary", kMap, "the baseline", "", "the new version: only what differs from the baseline"},
    {"topology", kList, "the model alone", "", "components a request passes through (gateway, retrieval, model ...): section topology[]"},
    {"regressions", kList, "none", "", "what is wrong with the canary, and when: section regressions[]"},
    {"telemetry", kMap, "(none)", "", "how monitoring sees the versions: section telemetry"},
    {"policy", kFile | kMap, "(none)", "", "the rollout policy: a file relative to this one, or a policy mapping (section policy)"},
    {"fidelity", kText | kMap, "exact", "exact, scaled", "exact, or a scaled-down fleet: section fidelity"},
}};

const Section kVersion{"scenario", "baseline, canary", "A version of the model and its serving. The canary's defaults are the baseline's values; the baseline's are those shown.", {
    {"ttft", kDuration | kMap, "{median: 400ms, p99: 1.5s}", "> 0", "sampled time to first token: a fixed duration or a distribution (section distribution)"},
    {"inter_token", kDuration | kMap, "{median: 30ms, p99: 60ms}", "> 0", "sampled time between output tokens, likewise"},
    {"batching", kMap, "(none)", "", "a batched pool instead of sampled latency: section batching (not with ttft or inter_token)"},
    {"output_scale", kNumber, "1", "[0, 10000]", "output tokens relative to the request's (verbosity)"},
    {"error_rate", kFraction, "0.1 %", "[0, 1]", "probability that the model fails a request"},
    {"quality", kMap, "{mean: 0.8, sd: 0.1}", "", "graded quality score, normal clipped to [0, 1]: section quality"},
    {"hallucination_rate", kFraction, "2 %", "[0, 1]", "of successful responses"},
    {"unsafe_rate", kFraction, "1 %", "[0, 1]", "of answers to adversarial prompts"},
    {"cost", kMap, "{replica_hour: 0, million_tokens: 0}", "", "prices: section cost"},
    {"timeout", kDuration, "0 (none)", ">= 0", "server deadline: a request not finished this long after arrival fails"},
    {"patience", kDuration | kMap, "(none)", "> 0", "how long a user waits for the first token before giving up (a distribution, drawn per request)"},
    {"max_queue", kCount, "(none)", "[1, 2^30]", "batched: arrivals that find this many waiting are rejected"},
    {"prefix_cache", kFraction, "0", "[0, 1]", "share of each prompt served from the prefix cache (batched: not prefilled)"},
    {"startup", kDuration, "0", ">= 0", "a new replica serves this long after it starts"},
    {"replicas", kCount, "(none)", "[1, 2^20]", "sampled versions: the fleet that carries all traffic, for cost and scaling (batched: inside batching)"},
}, /*fixed_defaults=*/false};

const Section kQuality{"scenario", "baseline.quality, canary.quality", "The graded quality score of responses.", {
    {"mean", kNumber | kFraction, "0.8", "[0, 1]", "mean score"},
    {"sd", kNumber | kFraction, "0.1", "[0, 1]", "standard deviation"},
}, false};

const Section kCost{"scenario", "baseline.cost, canary.cost", "Prices, for cost per run.", {
    {"replica_hour", kNumber, "0", "[0, 10^9]", "cost of a replica-hour (batched pools, or sampled fleets with replicas)"},
    {"million_tokens", kNumber, "0", "[0, 10^9]", "cost of a million tokens, prompt and output"},
}, false};

const Section kTelemetry{"scenario", "telemetry", "How monitoring sees the versions.", {
    {"window", kDuration, "10s", "> 0", "the aggregation window of every metric"},
    {"scrape_delay", kDuration, "30s", ">= 0", "how late a window's data reach the policy"},
    {"eval_sample", kFraction, "2%", "[0, 1]", "share of responses graded for quality"},
    {"golden", kMap, "(none)", "", "periodic golden-set evaluations: section telemetry.golden"},
}};

const Section kGolden{"scenario", "telemetry.golden", "Periodic evaluations of each version on a fixed golden set.", {
    {"every", kDuration, "", "> 0", "how often"},
    {"size", kCount, "200", "[1, 100000]", "prompts per evaluation"},
}};

// A single user above this share of all traffic is warned about.
constexpr double kMaxTopUserShare = 0.05;

VersionSpec parse_version(const ConfigMap& m, const VersionSpec& fallback) {
  m.allow(kVersion);
  VersionSpec v = fallback;
  if (m.has("batching")) {
    if (m.has("ttft") || m.has("inter_token"))
      m.fail(m.has("ttft") ? "ttft" : "inter_token",
             "no ttft or inter_token with batching: a batched pool's latency comes from its "
             "iterations");
    v.serving.batched = true;
    v.serving.batching = BatchingSpec::parse(m.map("batching"));
    if (fallback.serving.batched) v.serving.batching.max_queue = fallback.serving.batching.max_queue;
  } else if (m.has("ttft") || m.has("inter_token")) {
    v.serving.batched = false;
  }
  v.timeout_s = m.duration("timeout", v.timeout_s);
  if (m.has("patience")) {
    v.has_patience = true;
    v.patience = Distribution::parse(m, "patience", true, v.patience);
  }
  if (m.has("max_queue")) {
    if (!v.serving.batched) m.fail("max_queue", "no max_queue without batching: a sampled version has no queue");
    v.serving.batching.max_queue = static_cast<uint32_t>(m.count("max_queue", 0, 1, 1u << 30));
  }
  v.prefix_cache_share = m.probability("prefix_cache", v.prefix_cache_share);
  v.startup_s = m.duration("startup", v.startup_s);
  if (v.serving.batched) {
    v.serving.batching.startup_s = v.startup_s;
    if (m.has("replicas")) m.fail("replicas", "replicas inside batching for a batched version");
  } else {
    v.replicas = static_cast<uint32_t>(m.count("replicas", v.replicas, 1, 1 << 20));
  }
  v.serving.ttft = Distribution::parse(m, "ttft", true, v.serving.ttft);
  v.serving.inter_token = Distribution::parse(m, "inter_token", true, v.serving.inter_token);
  v.output_scale = m.number("output_scale", v.output_scale, 0, kMaxMultiplier);
  v.error_rate = m.probability("error_rate", v.error_rate);
  if (m.has("quality")) {
    const ConfigMap q = m.map("quality");
    q.allow(kQuality);
    v.quality_mean = q.number("mean", v.quality_mean, 0, 1);
    v.quality_sd = q.number("sd", v.quality_sd, 0, 1);
  }
  v.hallucination_rate = m.probability("hallucination_rate", v.hallucination_rate);
  v.unsafe_rate = m.probability("unsafe_rate", v.unsafe_rate);
  if (m.has("cost")) {
    const ConfigMap c = m.map("cost");
    c.allow(kCost);
    v.replica_hour_cost = c.number("replica_hour", v.replica_hour_cost, 0, 1e9);
    v.million_token_cost = c.number("million_tokens", v.million_token_cost, 0, 1e9);
  }
  return v;
}

}  // namespace

const std::vector<std::string>& scenario_keys() {
  static const std::vector<std::string> keys = kScenario.keys();
  return keys;
}

Scenario parse_scenario(const ConfigMap& m) {
  m.allow(kScenario);
  Scenario s;
  s.file = m.file();
  s.name = m.text("name", std::filesystem::path(m.file()).stem().string());
  s.description = m.text("description", "");
  s.horizon_s = m.duration("horizon", s.horizon_s);
  if (s.horizon_s <= 0) m.fail("horizon", "a positive duration");
  s.incident_detection_s = m.duration("incident_detection", s.incident_detection_s);
  if (m.has("traffic")) s.traffic = TrafficSpec::parse(m.map("traffic"));
  if (const Trace* tr = s.traffic.trace.get()) {
    // A time unit that makes the trace implausible, said with the key that fixes it.
    const double gap = tr->mean_gap_s * s.traffic.trace_time_scale;
    const double span = tr->duration_s() * s.traffic.trace_time_scale;
    const std::string where = "traffic.trace (" + tr->file + ", times read as " + tr->time_unit +
                              (tr->unit_inferred ? ", inferred" : "") + "): ";
    if (gap > 3600)
      s.warnings.push_back(where + "the mean gap between requests is " + format_duration(gap) +
                           "; is time_unit right (ms, us)?");
    else if (span > 1000 * s.horizon_s)
      s.warnings.push_back(where + "the trace spans " + format_duration(span) + ", over 1,000 times the horizon (" +
                           format_duration(s.horizon_s) + "); is time_unit right (ms, us)?");
    else if (tr->unit_inferred && tr->epoch_first_s > 0)
      s.warnings.push_back(where + "the first time, " + tr->epoch_text + ", reads as a Unix time in " +
                           tr->time_unit + " (" + utc_date(tr->epoch_first_s) +
                           "); set time_unit: " + tr->time_unit + " to say so");
    else if (tr->unit_inferred && tr->time_unit == "s" && tr->integer_times && gap >= 100)
      s.warnings.push_back(where + "whole-number times a mean " + format_duration(gap) +
                           " apart look like milliseconds; set time_unit (s if they are seconds)");
    else if (tr->unit_inferred && tr->time_unit == "s")
      s.warnings.push_back(where + "numbers read as seconds, as neither time_unit nor a schema says; set "
                                   "time_unit (s, ms or us) to say so" + serial_date_hint(tr->first_text));
    if (!tr->found_nested.empty()) {
      std::string list;
      for (const std::string& f : tr->found_nested) list += (list.empty() ? "" : ", ") + f;
      s.warnings.push_back("traffic.trace (" + tr->file + "): columns found as nested members, by their last part: " +
                           list + "; name them in columns to say so");
    }
    if (tr->distinct_users > s.traffic.users)
      s.warnings.push_back("traffic.trace (" + tr->file + "): its user column names " +
                           std::to_string(tr->distinct_users) + " users but traffic.users is " +
                           std::to_string(s.traffic.users) + ": users share ids, and blast radius in users "
                           "undercounts; set users to at least " + std::to_string(tr->distinct_users));
  }
  // A skew that makes one user a large share of traffic is rarely meant: say the share.
  if (s.traffic.user_skew > 0 && !(s.traffic.trace && !s.traffic.trace->user.empty())) {
    const double top = s.traffic.top_user_share();
    if (top > kMaxTopUserShare) {
      char buf[240];
      std::snprintf(buf, sizeof buf,
                    "traffic.user_skew %g over %s users gives the most active user %.1f %% of all requests (a "
                    "stickiness hash puts them all on one version, and one user's luck moves every figure); is "
                    "that meant?",
                    s.traffic.user_skew, format_amount(static_cast<double>(s.traffic.users)).c_str(), 100 * top);
      s.warnings.push_back(buf);
    }
  }
  if (m.has("routing")) s.routing = RoutingSpec::parse(m.map("routing"), s.traffic.segments);
  if (m.has("baseline")) s.baseline = parse_version(m.map("baseline"), VersionSpec{});
  // The canary is the baseline but for what its section says.
  s.canary = m.has("canary") ? parse_version(m.map("canary"), s.baseline) : s.baseline;
  s.topology = Topology::parse(m, "topology");
  size_auto_pools(s);

  std::vector<std::string> segment_names;
  for (const Segment& seg : s.traffic.segments) segment_names.push_back(seg.name);
  const std::vector<ConfigMap> regressions = m.maps("regressions");
  for (size_t i = 0; i < regressions.size(); ++i) {
    const ConfigMap& rm = regressions[i];
    Regression r = Regression::parse(rm, i, segment_names);
    if (!r.component.empty()) {
      const int c = s.topology.index_of(r.component);
      if (c < 0 || static_cast<uint32_t>(c) == s.topology.model)
        rm.fail("component", "the name of a topology component other than model");
      using K = Regression::Kind;
      if (r.kind != K::kLatency && r.kind != K::kTailLatency && r.kind != K::kErrors)
        rm.fail("kind", "latency, tail_latency or errors for a regression in a component");
      r.shared = s.topology.components[static_cast<size_t>(c)].shared;
    }
    if (r.kind == Regression::Kind::kCapacityLoss && !s.canary.serving.batched)
      rm.fail("kind", "a kind other than capacity_loss: the canary has no batched pool to lose");
    if (r.kind == Regression::Kind::kKvFootprint &&
        (!s.canary.serving.batched || s.canary.serving.batching.kv_cache.tokens == 0))
      rm.fail("kind", "a kind other than kv_footprint: the canary has no batched pool with a kv_cache");
    if (r.kind == Regression::Kind::kPrefixCache &&
        (!s.canary.serving.batched ||
         (s.canary.prefix_cache_share == 0 && !(s.traffic.trace && !s.traffic.trace->cached_tokens.empty()))))
      rm.fail("kind", "a kind other than prefix_cache: the canary has no prefix cache (a batched pool with "
                      "prefix_cache, or a trace with a cached_tokens column)");
    s.regressions.push_back(r);
  }
  if (m.has("telemetry")) {
    const ConfigMap t = m.map("telemetry");
    t.allow(kTelemetry);
    s.telemetry.window_s = t.duration("window", s.telemetry.window_s);
    if (s.telemetry.window_s <= 0) t.fail("window", "a positive duration");
    s.telemetry.scrape_delay_s = t.duration("scrape_delay", s.telemetry.scrape_delay_s);
    s.telemetry.eval_sample = t.probability("eval_sample", s.telemetry.eval_sample);
    if (t.has("golden")) {
      const ConfigMap g = t.map("golden");
      g.allow(kGolden);
      s.telemetry.golden_every_s = g.duration("every");
      if (s.telemetry.golden_every_s <= 0) g.fail("every", "a positive duration");
      s.telemetry.golden_size = static_cast<uint32_t>(g.count("size", 200, 1, 100000));
    }
  }
  if (m.has("policy")) {
    if (m.is_map("policy")) {
      s.policy = parse_policy(m.map("policy"));
    } else {
      const std::string path = m.file_path("policy");
      if (!file_exists(path)) {
        m.reject_missing("policy", "no such policy file " + path +
                               "; expected a policy file (relative to this scenario) or a "
                               "policy mapping");
      }
      s.policy = load_policy_file(path);
    }
  }
  if (s.policy) check_policy_segments(s, *s.policy);
  s.fidelity = Fidelity::parse(m, "fidelity");
  s.source = m.dump();
  return s;
}

void check_policy_segments(const Scenario& s, const PolicyConfig& p) {
  for (const std::string& name : p.segments_used()) {
    const bool known = std::any_of(s.traffic.segments.begin(), s.traffic.segments.end(),
                                   [&](const Segment& seg) { return seg.name == name; });
    if (!known) {
      std::string list;
      for (const Segment& seg : s.traffic.segments) list += (list.empty() ? "" : ", ") + seg.name;
      throw InputError((s.file.empty() ? std::string("<scenario>") : s.file) + ": the " + p.kind() +
                       " policy names segment '" + name + "'; expected one of this scenario's: " + list);
    }
  }
}

std::vector<std::string> sample_warnings(const PolicyConfig& policy, const Scenario* scenario) {
  std::vector<std::string> out;
  auto fmt = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", x);
    return std::string(buf);
  };
  for (const SampleNeed& n : policy.sample_needs()) {
    if (n.points >= 0 && n.points < n.needs_points) {
      out.push_back(n.field + ": a judgement of " + n.what + " rests on " + fmt(n.points) +
                    " points per version; its test needs at least " + fmt(n.needs_points) +
                    " (with fewer, the judgement is noise)");
    }
    if (!scenario || n.requests <= 0 || n.window_s <= 0) continue;
    // The rate where the first weight applies: the start (a schedule's first piece, the
    // diurnal curve at 0; a trace's mean rate).
    const double rate = scenario->traffic.trace ? scenario->traffic.rate_per_s : scenario->traffic.rate_at(0);
    const double expected = rate * n.weight * n.window_s;
    if (expected < n.requests)
      out.push_back(n.field + " (" + n.what + "): at the first canary share (" + fmt(100 * n.weight) +
                    " %) and the scenario's rate (" + fmt(rate) + "/s), its " + format_duration(n.window_s) +
                    " window holds about " + fmt(expected) + " canary requests; it needs at least " + fmt(n.requests) +
                    (n.why.empty() ? "" : " (" + n.why + ")"));
  }
  return out;
}

std::vector<std::string> study_warnings(const Scenario& scenario, const PolicyConfig& policy) {
  std::vector<std::string> out = scenario.warnings;
  for (std::string& w : capacity_warnings(scenario, &policy)) out.push_back(std::move(w));
  for (std::string& w : sample_warnings(policy, &scenario)) out.push_back(std::move(w));
  return out;
}

std::vector<std::string> grouped_warnings(const std::vector<ScenarioVariant>& variants, const std::string& noun) {
  struct Group {
    std::string about, first;  // the group's key, and the first variant's warning with its label
    size_t count = 0;
  };
  std::vector<Group> groups;
  for (const ScenarioVariant& v : variants) {
    std::vector<std::string> seen;  // a variant counts once a group
    for (const std::string& w : study_warnings(*v.scenario, *v.scenario->policy)) {
      const std::string about = w.substr(0, w.find(':'));
      if (std::find(seen.begin(), seen.end(), about) != seen.end()) continue;
      seen.push_back(about);
      auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.about == about; });
      if (g == groups.end()) g = groups.insert(groups.end(), {about, "(the first: " + v.label + "): " + w, 0});
      ++g->count;
    }
  }
  std::vector<std::string> out;
  for (const Group& g : groups)
    out.push_back(std::to_string(g.count) + " of " + std::to_string(variants.size()) + " " + noun + " " + g.first);
  return out;
}

std::string validate_file(const std::string& path) {
  const ConfigMap m = ConfigMap::parse_file(path);
  std::string text;
  std::vector<std::string> warnings;
  if (m.has("kind")) {
    const auto p = parse_policy(m);
    text = path + ": valid " + p->kind() + " policy";
    warnings = sample_warnings(*p, nullptr);
  } else {
    const Scenario s = parse_scenario(m);
    text = path + ": valid scenario '" + s.name + "'" +
           (s.policy ? " with policy " + s.policy->kind() : std::string(", no policy"));
    if (s.policy) warnings = sample_warnings(*s.policy, &s);
    const std::vector<CapacityNote> notes = capacity_notes(s, s.policy.get());
    for (const CapacityNote& n : notes) text += "\ncapacity: " + n.line;
    for (const std::string& w : s.warnings) warnings.push_back(w);
    for (const CapacityNote& n : notes)
      if (!n.warning.empty()) warnings.push_back(n.warning);
  }
  for (const std::string& w : warnings) text += "\nwarning: " + path + ": " + w;
  return text;
}

Scenario load_scenario(const std::string& path) {
  return parse_scenario(ConfigMap::parse_file(path));
}

}  // namespace canarysim
