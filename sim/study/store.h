// The results store of a sweep: one SQLite file, embedded, nothing to start.
//
// Tables (the schema is the contract with readers: `canarysim export`, the Python reader):
//   manifest(key, value)      what produced the file: sweep, scenario and policy text,
//                             seed, runs, canarysim version, command line, shard K of N
//   fields(position, field)   the swept fields, in the sweep file's order
//   points(point, label, scenario, policy)           each point's full scenario and policy
//   point_values(point, field, value, number)        value as written; number when it
//                                                    reads as one (seconds, fractions, /s)
//   runs(point, run, ...)     one row per finished run: every field of RunResult
//   summaries(point, ...)     the Summary of each complete point (see sim/study/study.h)
//
// Durability: write-ahead logging with synchronous=FULL, and each insert() is one
// transaction, so a process killed at any moment (SIGKILL, power loss) leaves every
// committed batch intact and nothing half-written. (point, run) is the primary key: a
// run can be present at most once, and --resume runs exactly the missing ones.
// sqlite3.h stays inside store.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sim/study/study.h"

namespace canarysim {

struct Manifest {
  std::string name;           // the sweep's name
  std::string sweep_file, sweep_text, scenario_text, policy_text;
  uint64_t seed = 1, runs = 0, points = 0;
  uint64_t shard = 1, shards = 1;  // this file holds shard K of N (1 of 1: all runs)
  std::string version = CANARYSIM_VERSION;
  std::string command_line;
  std::string fingerprint;    // hex hash of everything that determines the results
};

struct PointRecord {
  std::string label;                               // "bake_time=5m, steps=[10, 50]"
  std::string scenario_yaml, policy_yaml;          // as run
  std::vector<std::string> values;                 // one per field, YAML text
};

// Whether run `run` of `point` belongs to shard K of N (1-based K): runs are dealt
// round-robin over the sweep's (point, run) grid, so every shard gets a share of every
// point and the shards of one sweep partition it exactly.
inline bool in_shard(uint64_t point, uint64_t run, uint64_t runs, uint64_t shard, uint64_t shards) {
  return (point * runs + run) % shards == shard - 1;
}

class ResultStore {
 public:
  // Creates a new file. Throws InputError when `path` exists or cannot be written.
  static std::unique_ptr<ResultStore> create(const std::string& path, const Manifest& manifest,
                                             const std::vector<std::string>& fields,
                                             const std::vector<PointRecord>& points);
  // Opens an existing file. Throws InputError when it is missing or not a canarysim store.
  static std::unique_ptr<ResultStore> open(const std::string& path);
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  const Manifest& manifest() const;
  const std::string& path() const;
  // The (point, run) pairs present, sorted.
  std::vector<std::pair<uint64_t, uint64_t>> finished() const;
  // Points whose summary is stored.
  uint64_t summary_count() const;
  // One transaction. Throws if any (point, run) is already present (nothing is written).
  void insert(const std::vector<std::pair<uint64_t, RunResult>>& batch);
  // Each point's label ("bake_time=5m, steps=[10, 50]"), in point order.
  std::vector<std::string> point_labels() const;
  // The runs of one point, in run order.
  std::vector<RunResult> point_runs(uint64_t point) const;
  // Replaces the summaries of every point that has all its runs, and returns every
  // point's summary of the runs it has, in point order.
  std::vector<Summary> write_summaries();
  // Writes a table as CSV or JSON; see export_store.
  void write_table(const std::string& table, const std::string& format, std::ostream& out) const;

  struct Impl;

 private:
  explicit ResultStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Combines the shard files of one sweep into `out`, which then holds what the sweep run
// on one machine holds, run for run, with its summaries. Throws InputError, naming the
// files, when the shards come from different sweeps or versions, overlap, are missing,
// or are incomplete (resume those first).
void merge_stores(const std::string& out, const std::vector<std::string>& shards,
                  const std::string& command_line);

// Writes a store's table as CSV or JSON (records): "summaries" (one row per point, the
// swept fields first), "runs" (one row per run, likewise) or "points".
void export_store(const std::string& path, const std::string& table, const std::string& format,
                  std::ostream& out);

}  // namespace canarysim
