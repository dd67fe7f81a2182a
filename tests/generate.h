// Test helper: every request one run of a traffic model generates before `horizon`.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/model/traffic.h"

namespace canarysim {

inline std::vector<Request> Generate(const TrafficSpec& spec, double horizon, uint64_t seed = 1, uint64_t run = 0) {
  TrafficSource source(spec);
  source.reset(seed, run);
  std::vector<Request> out;
  Request r;
  double now = 0;
  while (source.next(now, r) && r.arrival < horizon) {
    out.push_back(r);
    now = r.arrival;
  }
  return out;
}

}  // namespace canarysim
