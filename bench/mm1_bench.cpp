// M/M/1 queue on the engine's public API: the engine's raw speed, and a check that it
// computes the right thing. Arrival rate lambda = 0.9, service rate mu = 1, so the mean
// wait in queue is rho / (mu - lambda) = 9.0.
//
// Prints customers/s and events/s per core (median of the repetitions) and the mean
// wait with its standard error (batch means: consecutive waits are strongly correlated).
//   build/bench/mm1_bench [customers] [repetitions]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <vector>

#include "sim/model/engine.h"
#include "sim/model/random.h"

namespace {

using canarysim::Engine;
using canarysim::Event;
using canarysim::Rng;
using canarysim::Stream;

struct Result {
  double seconds;
  uint64_t events;
  double mean_wait;
  double wait_stderr;
};

Result run_mm1(uint64_t customers, uint64_t seed) {
  constexpr double kLambda = 0.9, kMu = 1.0;
  enum : uint32_t { kArrival, kDeparture };
  Engine engine;
  Rng arrivals(seed, 0, Stream::kArrivals), service(seed, 0, Stream::kRequests);
  std::deque<double> queue;  // arrival times of customers waiting or in service
  uint64_t arrived = 0, served = 0;
  double wait_sum = 0;
  // Batch means for the standard error of the mean wait.
  constexpr uint64_t kBatches = 50;
  const uint64_t batch_size = std::max<uint64_t>(1, customers / kBatches);
  std::vector<double> batch_sums(kBatches + 1, 0.0);

  const auto start = std::chrono::steady_clock::now();
  engine.schedule(arrivals.exponential(kLambda), kArrival);
  // A customer's wait is recorded when its service starts: on arrival at an idle
  // server (wait 0), or when the customer ahead of it departs.
  auto start_service = [&](double wait) {
    wait_sum += wait;
    batch_sums[std::min(served / batch_size, kBatches)] += wait;
    ++served;
    engine.schedule(service.exponential(kMu), kDeparture);
  };
  engine.run(Engine::kNever, [&](const Event& e) {
    if (e.type == kArrival) {
      queue.push_back(engine.now());
      if (queue.size() == 1) start_service(0.0);
      if (++arrived < customers) engine.schedule(arrivals.exponential(kLambda), kArrival);
    } else {
      queue.pop_front();
      if (!queue.empty()) start_service(engine.now() - queue.front());
    }
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const double mean = wait_sum / static_cast<double>(served);
  double ss = 0;
  for (uint64_t b = 0; b < kBatches; ++b) {
    const double m = batch_sums[b] / static_cast<double>(batch_size);
    ss += (m - mean) * (m - mean);
  }
  const double se = std::sqrt(ss / (kBatches - 1) / kBatches);
  return {seconds, engine.processed(), mean, se};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t customers = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 7;
  std::vector<double> cps, eps;
  double pooled = 0, pooled_var = 0;
  for (int r = 0; r < reps; ++r) {
    const Result res = run_mm1(customers, 1 + r);
    cps.push_back(static_cast<double>(customers) / res.seconds);
    eps.push_back(static_cast<double>(res.events) / res.seconds);
    pooled += res.mean_wait / reps;
    pooled_var += res.wait_stderr * res.wait_stderr / (reps * reps);
    std::printf("rep %d: %.2f M customers/s, %.2f M events/s, mean wait %.3f +- %.3f\n", r,
                cps.back() / 1e6, eps.back() / 1e6, res.mean_wait, res.wait_stderr);
  }
  std::printf("median: %.2f M customers/s, %.2f M events/s (one core, %llu customers)\n",
              median(cps) / 1e6, median(eps) / 1e6, static_cast<unsigned long long>(customers));
  const double se = std::sqrt(pooled_var);
  std::printf("mean wait over all repetitions: %.3f +- %.3f (expected rho/(mu-lambda) = 9.000, "
              "z = %.2f)\n", pooled, se, (pooled - 9.0) / se);
  return 0;
}
