// Sweeps: one base scenario and policy, fields to vary, every point run with the same
// seeds (common random numbers), so neighbouring points are compared on the same traffic.
//
//   name: bake time against error size
//   scenario: ../scenarios/error-spike.yaml
//   policy: ../policies/presets/stepped.yaml    # default: the scenario's
//   runs: 200                                   # per point (default 200)
//   seed: 1
//   grid:                                       # every combination, first field slowest
//     policy.bake_time: [2m, 5m, 10m]
//     scenario.regressions[0].error_rate: [1%, 2%, 5%]
//   # or  points: [{policy.bake_time: 2m, policy.failure_limit: 0}, ...]
//   # or  random: {samples: 20, seed: 7, fields: {policy.bake_time: {min: 1m, max: 20m,
//   #              scale: log}, policy.failure_limit: {choices: [0, 1, 2]}}}
//
// Fields are dotted paths into the scenario (`scenario.`) or the policy (`policy.`), with
// list items as [i]; values are written as in those files (durations, 2%, lists).
// Run i of every point draws from the streams of (seed, i), whatever the point, shard
// or thread; results go to a store (sim/study/store.h) as they finish.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/io/config.h"
#include "sim/model/random.h"
#include "sim/model/scenario.h"
#include "sim/study/store.h"

namespace canarysim {

// A scenario and policy document that overrides apply to.
class Variants {
 public:
  // `policy_file` empty: the scenario's own policy. Throws InputError as the loaders do.
  Variants(const std::string& scenario_file, const std::string& policy_file);
  // The scenario with its policy, after overrides whose paths begin with "scenario." or
  // "policy.". Throws InputError (message without a location, for the caller to place).
  Scenario make(const std::vector<ConfigMap::Override>& overrides) const;
  // `built` (from make()) with the policy after overrides whose paths begin with "policy.":
  // what make() gives with those overrides added, parsing only the policy again.
  Scenario with_policy(const Scenario& built, const std::vector<ConfigMap::Override>& overrides) const;
  std::string scenario_text() const { return scenario_.dump(); }
  std::string policy_text() const { return policy_.dump(); }
  // A policy field's value as written; nullopt when the file leaves it to its default.
  std::optional<std::string> policy_value(const std::string& path) const { return policy_.lookup(path); }

 private:
  // `scenario` with the policy after `to_policy` (paths without their "policy.").
  Scenario attach_policy(Scenario scenario, const std::vector<ConfigMap::Override>& to_policy) const;
  ConfigMap scenario_, policy_;
};

// A value as files write it: a plain number, a duration (seconds) or a percentage
// (a fraction); and back to text in the same unit.
struct Quantity {
  enum class Unit { kNumber, kDuration, kPercent } unit = Unit::kNumber;
  double value = 0;
};
std::optional<Quantity> parse_quantity(const std::string& text);
std::string format_quantity(const Quantity& q);

// A field drawn at random: {min, max, scale: linear|log} (durations, percentages or
// numbers; whole numbers when both bounds are written as such) or {choices: [...]}.
class FieldSampler {
 public:
  // Throws InputError located in `spec` at `name`.
  FieldSampler(const ConfigMap& spec, const std::string& name);
  std::string draw(Rng& rng) const;  // YAML text, in the unit the bounds are written in

 private:
  std::vector<std::string> choices_;
  Quantity::Unit unit_ = Quantity::Unit::kNumber;
  double lo_ = 0, hi_ = 0;
  bool log_ = false, integer_ = false;
};

struct SweepPoint {
  std::string label;                // "bake_time=5m, regressions[0].error_rate=2%"
  std::vector<std::string> values;  // one per field, YAML text
  Scenario scenario;                // with its policy
};

struct Sweep {
  std::vector<std::string> fields;
  std::vector<SweepPoint> points;
  // Name, file and text of the sweep, seed, runs per point, points, fingerprint; not
  // command_line and shard, which belong to a run of it (SweepOptions).
  Manifest manifest;
};

// Throws InputError naming file, line, key and what was expected; a value that does not
// fit its field is reported at the sweep's line with the point it belongs to.
Sweep load_sweep(const std::string& path);
// What the sweep's points' studies doubt, grouped (grouped_warnings(), sim/model/scenario.h):
// "12 of 64 points (the first: bake_time=2m, ...): <its warning>".
std::vector<std::string> sweep_warnings(const Sweep& sweep);

// The keys of a sweep file's top level.
const std::vector<std::string>& sweep_keys();

struct SweepOptions {
  unsigned threads = 0;                // 0: one per core
  uint64_t shard = 1, shards = 1;      // run shard K of N
  bool resume = false;                 // complete `db` if it exists
  std::string command_line;            // recorded in the manifest
  double commit_interval_s = 0.5;      // finished runs are committed this often
  // Called after each commit with (runs done, runs to do) by this invocation.
  std::function<void(uint64_t, uint64_t)> progress;
};

struct SweepReport {
  uint64_t share = 0;    // runs in this shard
  uint64_t present = 0;  // of which were in the store already (--resume)
  uint64_t ran = 0;      // of which this invocation ran
  double wall_s = 0;
  std::vector<Summary> summaries;  // per point, when the store holds the whole sweep
};

// Runs the sweep (or shard) into the store at `db`. Throws InputError when `db` exists
// without --resume, or holds another sweep, shard or version.
SweepReport run_sweep(const Sweep& sweep, const std::string& db, const SweepOptions& options);

}  // namespace canarysim
