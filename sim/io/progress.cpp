#include "sim/io/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/io/config.h"
#include "sim/model/scenario.h"

namespace canarysim {

Progress::Progress(bool quiet, bool plain, unsigned threads, std::string unit)
    : quiet_(quiet),
      tty_(!quiet && isatty(STDERR_FILENO)),
      plain_(!quiet && plain && !tty_),
      threads_(std::max(1u, threads)),
      unit_(std::move(unit)) {}

void Progress::note(const std::string& line) const {
  if (!quiet_) std::fprintf(stderr, "%s\n", line.c_str());
}

void Progress::operator()(uint64_t done, uint64_t total) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (!piloted_ && done > 0 && done < total) {
    // The first unit of work, on `threads_` workers at once: the whole takes about
    // total / threads of it (an estimate: later runs may end sooner or later).
    piloted_ = true;
    const double per = elapsed / static_cast<double>(done) * std::min<double>(threads_, static_cast<double>(done));
    if (tty_) std::fprintf(stderr, "\r%78s\r", "");
    std::fprintf(stderr, "pilot: the first %s took %s; %s %s on %u thread%s: about %s\n",
                 unit_ == "runs" ? "run" : unit_.c_str(), rough_duration(per).c_str(), format_amount(total).c_str(),
                 unit_.c_str(), threads_, threads_ == 1 ? "" : "s",
                 rough_duration(per * static_cast<double>(total) / threads_).c_str());
  }
  if (!tty_ && !plain_) return;
  const auto every = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
  if (done < total && now - last_ < every) return;
  last_ = now;
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
  char bar[32] = "";
  if (tty_) {
    const int filled = total ? static_cast<int>(20 * done / total) : 20;
    for (int i = 0; i < 20; ++i) bar[i] = i < filled ? '#' : '.';
    bar[20] = ' ';
    bar[21] = '\0';
  }
  std::fprintf(stderr, "%s%s%llu/%llu %s, %s %s/s, ETA %s%s", tty_ ? "\r" : "", bar,
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), unit_.c_str(),
               rough_rate(rate).c_str(),
               unit_.c_str(), rough_duration(eta).c_str(), tty_ ? "   " : "\n");
  if (tty_ && done == total) std::fprintf(stderr, "\r%78s\r", "");
}

std::string rough_rate(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, x >= 10 ? "%.0f" : x >= 1 ? "%.1f" : "%.2g", x);
  return buf;
}

std::string rough_duration(double s) {
  char buf[32];
  if (!(s < 90)) {
    if (s < 90 * 60) std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
    else std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  } else {
    std::snprintf(buf, sizeof buf, s < 10 ? "%.1f s" : "%.0f s", std::max(0.0, s));
  }
  return buf;
}

std::string work_line(const Scenario& s, const PolicyConfig& policy, uint64_t runs) {
  // The requests of the horizon: the rate model averaged over 1,000 points (bursts at
  // their mean factor), or a trace's rows within the horizon. Runs that promote or roll
  // back earlier see fewer.
  double requests = 0;
  if (s.traffic.trace) {
    const double scale = s.traffic.trace_time_scale, span = s.traffic.trace->duration_s() * scale;
    const double rows = static_cast<double>(s.traffic.trace->arrival_s.size());
    requests = span > 0 ? rows * (s.traffic.trace_loop ? s.horizon_s / span : std::min(1.0, s.horizon_s / span)) : rows;
  } else {
    double sum = 0;
    for (int i = 0; i < 1000; ++i) sum += s.traffic.rate_at((i + 0.5) / 1000 * s.horizon_s);
    double burst = 1;
    if (s.traffic.burst_every_s > 0)
      burst = (s.traffic.burst_every_s + s.traffic.burst_lasting_s * s.traffic.burst_factor) /
              (s.traffic.burst_every_s + s.traffic.burst_lasting_s);
    requests = sum / 1000 * s.horizon_s * burst;
  }
  std::string line = "work: " + format_amount(static_cast<double>(runs)) + " run" + (runs == 1 ? "" : "s") +
                     " of up to " + format_amount(requests) + " requests (" + format_duration(s.horizon_s) +
                     " of traffic)";
  if (s.fidelity.scaled) {
    const Scenario shrunk = shrink(s, policy);
    line += ", scaled: 1 user in " + std::to_string(shrunk.fidelity.sample) + " simulated";
  }
  return line;
}

}  // namespace canarysim
