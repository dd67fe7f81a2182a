// Progress of a long command on stderr, and the cost said up front.
//
// On a terminal, one line redrawn in place (runs done, rate, ETA); elsewhere (batch logs,
// CI), a plain line every 5 s when asked (--progress); nothing when quiet. Before the
// work, one line says what it is (work_line: runs, requests a run, fidelity); after the
// first unit of work finishes, one line says what the whole should take from it (the
// pilot: the first run, timed on this machine, whatever the model's cost).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace canarysim {

struct Scenario;
class PolicyConfig;

class Progress {
 public:
  // `threads`: workers sharing the work (for the pilot's estimate); `unit`: what is counted.
  Progress(bool quiet, bool plain, unsigned threads, std::string unit = "runs");
  // A line before the work starts (printed unless quiet).
  void note(const std::string& line) const;
  // (done, total) from the study's callback; thread-compatible (the study calls it from one thread at a time).
  void operator()(uint64_t done, uint64_t total);
  std::function<void(uint64_t, uint64_t)> callback() {
    return [this](uint64_t done, uint64_t total) { (*this)(done, total); };
  }

 private:
  bool quiet_, tty_, plain_;
  unsigned threads_;
  std::string unit_;
  bool piloted_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

// "work: 1,000 runs of up to 8.1 M requests (90 min of traffic), scaled: 1 user in 20
// simulated" for a study of `runs` runs.
std::string work_line(const Scenario& scenario, const PolicyConfig& policy, uint64_t runs);

// 75 -> "75 s", 2040 -> "34 min", 9000 -> "2.5 h".
std::string rough_duration(double seconds);
// A rate with the digits that matter: 1234 -> "1234", 12.34 -> "12.3", 0.3234 -> "0.32".
std::string rough_rate(double per_s);

}  // namespace canarysim
