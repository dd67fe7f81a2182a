// The default study on the continuous-batching model (scenarios/batched.yaml: llama2-70b
// on H100, 200 requests/s), on one thread: simulated requests per second per core, and
// peak memory as the horizon grows.
//
// The policy is replaced by one that holds the canary at 50 % for the whole horizon, so
// that every run simulates the full horizon (the shipped policy ends runs at promotion).
//   build/bench/batched_bench [runs per repetition] [repetitions] [scenario]
// With a scenario (scenarios/production.yaml: timeouts, patience, KV cache, 397 replicas
// at 1,500 requests/s), its own horizon and no memory figure.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "policies/policy.h"
#include "sim/io/config.h"
#include "sim/model/scenario.h"
#include "sim/study/study.h"

using namespace canarysim;

namespace {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024;
}

struct Figures {
  double requests_per_s, events_per_s;
};

Figures measure(const Scenario& s, uint64_t runs) {
  StudyOptions o;
  o.runs = runs;
  o.threads = 1;
  const auto start = std::chrono::steady_clock::now();
  const Study study = run_study(s, o);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t requests = 0;
  for (const RunResult& r : study.runs) requests += r.requests;
  return {static_cast<double>(requests) / seconds,
          static_cast<double>(study.summary.events) / seconds};
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t runs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 4;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  const bool own = argc > 3;
  Scenario s = load_scenario(own ? argv[3] : CANARYSIM_SOURCE_DIR "/scenarios/batched.yaml");
  s.policy = parse_policy(ConfigMap::parse_string(
      "kind: stepped\nsteps: [50]\nbake_time: 1000h\nchecks: [{metric: error_rate, max: 100%}]\n",
      "<bench>"));

  if (!own) s.horizon_s = 3600;
  std::vector<double> rps, eps;
  for (int r = 0; r < reps; ++r) {
    const Figures f = measure(s, runs);
    rps.push_back(f.requests_per_s);
    eps.push_back(f.events_per_s);
    std::printf("rep %d: %.3f M requests/s, %.2f M events/s\n", r, f.requests_per_s / 1e6,
                f.events_per_s / 1e6);
  }
  std::sort(rps.begin(), rps.end());
  std::sort(eps.begin(), eps.end());
  std::printf("median: %.3f M requests/s per core, %.2f M events/s (%s, %s horizon, canary at 50 %%, "
              "%llu runs per repetition)\n",
              rps[rps.size() / 2] / 1e6, eps[eps.size() / 2] / 1e6, s.name.c_str(), format_duration(s.horizon_s).c_str(),
              static_cast<unsigned long long>(runs));
  if (own) return 0;
  const double after_1h = peak_rss_mb();
  s.horizon_s = 4 * 3600;
  measure(s, 1);
  const double after_4h = peak_rss_mb();
  std::printf("peak memory: %.1f MB after 1 h runs, %.1f MB after a 4 h run (%.2fx)\n", after_1h,
              after_4h, after_4h / after_1h);
  return 0;
}
