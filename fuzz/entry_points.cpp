#include "fuzz/entry_points.h"

#include <unistd.h>

#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "policies/interop/export.h"
#include "policies/interop/import.h"
#include "policies/interop/query.h"
#include "policies/policy.h"
#include "sim/model/calibrate.h"
#include "sim/study/check.h"
#include "sim/io/config.h"
#include "sim/study/limits.h"
#include "sim/study/power.h"
#include "sim/model/run.h"
#include "sim/io/fit.h"
#include "sim/model/scenario.h"
#include "sim/study/sweep.h"
#include "sim/study/tune.h"

namespace canarysim::fuzzing {

namespace {

// A run simulated for a fuzzed scenario or policy: small enough that thousands of inputs
// a second stay possible, large enough to reach every event type.
constexpr double kRunEvents = 2e5;
constexpr double kRunMemory = 64e6;

// What `canarysim run` does before it starts (a default study: 1,000 runs on two
// threads), then one run when it is small.
void simulate_if_small(const Scenario& s, const PolicyConfig& p) {
  check_work(s, p, 1000, 2);
  const WorkEstimate w = estimate_work(s, p);
  if (!(w.events <= kRunEvents && w.memory_bytes <= kRunMemory)) return;
  Simulator sim(s, p);
  std::vector<TracePoint> trace;
  sim.run(1, 0, &trace);
}

// A scenario built in code for fuzzed policies: light traffic, a short horizon, two
// segments so that plans and routing rules have something to name.
Scenario small_scenario() {
  static const char* kText =
      "horizon: 20m\n"
      "traffic: {rate: 5/s, users: 1000, segments: [{name: internal, share: 10%}, {name: eu, share: 40%},"
      " {name: us, share: 50%}]}\n"
      "regressions: [{kind: errors, error_rate: 5%, onset: 5m}]\n";
  return parse_scenario(ConfigMap::parse_string(kText, "<fuzz scenario>"));
}

void read_scenario(const std::string& path) {
  const ConfigMap m = ConfigMap::parse_file(path);
  if (m.has("kind")) {  // a policy file, as `validate` takes it
    parse_policy(m);
    return;
  }
  const Scenario s = parse_scenario(m);
  if (s.policy) simulate_if_small(s, *s.policy);
}

void read_policy(const std::string& path) {
  const auto policy = load_policy_file(path);
  static const Scenario scenario = small_scenario();
  check_policy_segments(scenario, *policy);
  simulate_if_small(scenario, *policy);
}

void read_sweep(const std::string& path) { load_sweep(path); }

void read_tune(const std::string& path) {
  TuneOptions o;
  o.validate_only = true;
  run_tune(path, o);
}

void read_power(const std::string& path) {
  PowerOptions o;
  o.validate_only = true;
  run_power(path, o);
}

void read_check(const std::string& path) { load_check_suite(path); }

void import_as(const std::string& tool, const std::string& path) {
  const Imported imported = import_policy(tool, {path});
  // What import writes must load, as the CLI checks.
  parse_policy(ConfigMap::parse_string(imported.yaml, "<imported>"));
}
void read_argo(const std::string& path) { import_as("argo", path); }
void read_flagger(const std::string& path) { import_as("flagger", path); }
void read_kayenta(const std::string& path) { import_as("kayenta", path); }
// A Spinnaker pipeline or stage beside a shipped canary config (scratch_file links
// policies/ beside the input).
void read_kayenta_stage(const std::string& path) {
  const std::string config = (std::filesystem::path(path).parent_path() / "policies/examples/kayenta-config.json").string();
  const Imported imported = import_policy("kayenta", {config, path});
  parse_policy(ConfigMap::parse_string(imported.yaml, "<imported>"));
}
void read_aws_file(const std::string& path) { import_as("aws", path); }  // a deployment config file

void read_aws(const std::string& path) {
  std::ifstream in(path);
  std::string name;
  std::getline(in, name);
  const Imported imported = import_policy("aws", {name});
  parse_policy(ConfigMap::parse_string(imported.yaml, "<imported>"));
}

// A monitoring query in each dialect the reader knows; its rules stated as import would.
void read_query(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  QueryContext ctx;
  ctx.variables["args.canary-hash"] = "{canary}";
  ctx.variables["interval"] = "1m";
  for (const char* dialect : {"prometheus", "datadog", "newrelic"}) {
    const QueryMeaning m = read_query(text.str(), dialect, ctx);
    if (m.ok) rule_text(m, "<=", 1.5);
  }
}

// A policy written back as Argo or Flagger files (as its kind allows), imported again.
void read_export(const std::string& path) {
  const auto policy = load_policy_file(path);
  const std::string tool = policy->kind();
  if (tool != "argo" && tool != "flagger") return;
  const Exported e = export_policy(tool, path);
  std::vector<std::string> files;
  for (const auto& [name, text] : e.files) {
    files.push_back(path + "." + name);
    std::ofstream(files.back(), std::ios::binary) << text;
  }
  const Imported back = import_policy(tool, files);
  parse_policy(ConfigMap::parse_string(back.yaml, "<imported>"));
  for (const std::string& f : files) std::remove(f.c_str());
}

void read_trace(const std::string& path) { Trace::load(path); }

// The same bytes as JSON lines, with every optional column named.
void read_trace_jsonl(const std::string& path) {
  TraceFormat f;
  f.format = "jsonl";
  Trace::load(path, f);
  f.columns = {{"user", "user"}, {"segment", "segment"}, {"failed", "failed"}, {"cached_tokens", "cached"}};
  f.zero_output_fails = true;
  Trace::load(path, f, {"eu", "us"});
}

// A Prometheus export read as each role; what fit writes must load as a scenario, so a
// scenario that does not is a finding, not a rejected input.
void read_fit(const std::string& path) {
  for (const char* role : {"rate", "ttft", "itl", "latency", "errors"}) {
    FitInputs in;
    in.assigned[role] = path;
    std::string text;
    try {
      text = fit_prometheus(in, "fuzzed");
    } catch (const InputError&) {
      continue;
    }
    try {
      parse_scenario(ConfigMap::parse_string(text, "<fitted>"));
    } catch (const InputError& e) {
      std::fprintf(stderr, "fit wrote a scenario that does not load: %s\n%s\n", e.what(), text.c_str());
      std::abort();
    }
  }
}

void read_profile(const std::string& path) {
  for (const ProfileFit& f : fit_profiles(load_profile(path))) profile_yaml(f, path);
}

}  // namespace

const std::vector<EntryPoint>& entry_points() {
  static const std::vector<EntryPoint> all = {
      {"scenario", "yaml", read_scenario}, {"policy", "yaml", read_policy},   {"sweep", "yaml", read_sweep},
      {"tune", "yaml", read_tune},         {"power", "yaml", read_power},     {"check", "yaml", read_check},
      {"import_argo", "yaml", read_argo},  {"import_flagger", "yaml", read_flagger},
      {"import_kayenta", "json", read_kayenta}, {"import_kayenta_stage", "json", read_kayenta_stage},
      {"import_aws", "txt", read_aws},
      {"import_aws_file", "json", read_aws_file},
      {"trace", "csv", read_trace},        {"calibrate", "csv", read_profile},
      {"query", "txt", read_query},        {"export_policy", "yaml", read_export},
      {"trace_jsonl", "jsonl", read_trace_jsonl}, {"fit_prometheus", "json", read_fit},
  };
  return all;
}

const EntryPoint* find_entry_point(std::string_view name) {
  for (const EntryPoint& e : entry_points())
    if (name == e.name) return &e;
  return nullptr;
}

std::string scratch_file(const EntryPoint& e, const std::string& source_dir, std::string_view data) {
  namespace fs = std::filesystem;
  static const fs::path root = [&] {
    const fs::path r = fs::temp_directory_path() / ("canarysim-fuzz-" + std::to_string(getpid()));
    const fs::path levels[] = {r, r / "a", r / "a" / "b"};
    for (const fs::path& level : levels) {
      fs::create_directories(level);
      for (const char* top : {"scenarios", "policies", "tests", "results", "fuzz"}) {
        std::error_code ignored;
        fs::create_directory_symlink(fs::path(source_dir) / top, level / top, ignored);
      }
    }
    return r;
  }();
  const fs::path file = root / "a" / "b" / (std::string("input.") + e.extension);
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(data.data(), static_cast<std::streamsize>(data.size()));
  return file.string();
}

}  // namespace canarysim::fuzzing
