// A sweep's throughput, and what the crash-safe store costs: the same (point, run) pairs
// run as plain in-memory studies (run_study, point by point) and as a sweep committing to
// SQLite (run_sweep), alternately, on the same threads. Prints runs/s of each and their ratio per repetition, then medians.
//   build/bench/sweep_bench [SWEEP.yaml] [repetitions] [threads]
// Default: tests/data/sweeps/bench.yaml (8 points x 60 runs of the error-spike scenario).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/study/sweep.h"

using namespace canarysim;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string file = argc > 1 ? argv[1] : CANARYSIM_SOURCE_DIR "/tests/data/sweeps/bench.yaml";
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  const unsigned threads = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3])) : 0;
  const Sweep sweep = load_sweep(file);
  const double runs = static_cast<double>(sweep.points.size() * sweep.manifest.runs);
  StudyOptions study;
  study.runs = sweep.manifest.runs;
  study.seed = sweep.manifest.seed;
  study.threads = threads;
  const std::string db = (std::filesystem::temp_directory_path() /
                          ("canarysim-sweep-bench-" + std::to_string(::getpid()) + ".db")).string();

  std::vector<double> memory, stored, ratio;
  for (int r = 0; r < reps; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (const SweepPoint& p : sweep.points) run_study(p.scenario, study);
    memory.push_back(runs / seconds_since(start));
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(db + ext);
    SweepOptions o;
    o.threads = threads;
    start = std::chrono::steady_clock::now();
    run_sweep(sweep, db, o);  // includes creating the store and writing the summaries
    stored.push_back(runs / seconds_since(start));
    ratio.push_back(stored.back() / memory.back());
    std::printf("rep %d: in memory %.1f runs/s, sweep with store %.1f runs/s (ratio %.3f)\n", r, memory.back(),
                stored.back(), ratio.back());
  }
  for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(db + ext);
  std::printf("median of %d: in memory %.1f runs/s, sweep with store %.1f runs/s, ratio %.3f "
              "(%zu points x %llu runs, %s threads)\n",
              reps, median(memory), median(stored), median(ratio), sweep.points.size(),
              static_cast<unsigned long long>(sweep.manifest.runs), threads ? std::to_string(threads).c_str() : "all");
  return 0;
}
