// Scenarios fitted from monitoring data: `canarysim fit prometheus FILE.json...` reads
// results of the Prometheus HTTP API (/api/v1/query_range matrices, /api/v1/query
// vectors, as curl saves them) and writes a scenario's traffic and baseline sections.
//
// What each file holds is found from its series (the metric name, when the query kept
// it) or its file name, or said with a flag:
//   rate      requests per second (series summed at each step)  -> traffic.schedule
//   ttft      time-to-first-token histogram buckets (`le`)       -> baseline.ttft
//   itl       inter-token histogram buckets                      -> baseline.inter_token
//   latency   end-to-end histogram buckets                       -> a comment (canarysim
//             computes end-to-end latency from TTFT and inter-token latency)
//   errors    an error ratio in [0, 1]                           -> baseline.error_rate
// Histogram series are bucket counts: a vector's values, or a matrix's samples summed
// per bucket (one increase per step, as `increase(...[STEP])` at that step writes them).
// NaN samples are skipped (said in a comment), a series that stops before the others
// ends is counted for the samples it has, and every histogram needs its +Inf bucket. A
// step with no requests at all is refused (a schedule's pieces have positive rates), and
// so is a range beyond a scenario's: over 365 days, steps under 1 ms, rates over 10^6/s.
// docs/fit.md gives the PromQL and curl commands for vLLM and TGI.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace canarysim {

struct FitInputs {
  std::vector<std::string> files;              // classified by name or metric
  std::map<std::string, std::string> assigned;  // role (rate, ttft, itl, latency, errors) -> file
};

// The scenario text (YAML with comments). Throws InputError naming the file, and the
// series or sample, for anything it cannot read.
std::string fit_prometheus(const FitInputs& inputs, const std::string& name);

}  // namespace canarysim
