// The components a request passes through, as a directed acyclic graph.
//
//   topology:
//     - {name: gateway, latency: 4ms, shared: true}
//     - {name: model, after: [gateway]}     # the version's serving (sampled or batched)
//     - {name: safety-filter, after: [model], latency: {median: 25ms, p99: 90ms},
//        error_rate: 0.01%, shared: true}
//
// Every request passes every component; a component starts when all it comes `after`
// are done, so a request's latency is the longest path through the graph. Components
// upstream of `model` delay the first token as well as the end; downstream ones (they
// act on the finished response) delay only the end. A shared component is one instance
// for both versions: a regression in it hits baseline and canary alike. Without a
// `topology`, a request meets the model alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/model/traffic.h"

namespace canarysim {

class ConfigMap;

struct Component {
  std::string name;
  Distribution latency = Distribution::fixed(0);  // seconds
  double error_rate = 0;
  bool shared = true;
  std::vector<uint32_t> after;  // indices of components it waits for
  bool upstream = false;        // on a path into the model
};

// Where the model sits among a request's component latencies.
struct PathTimes {
  double pre = 0;     // longest path to the model's start
  double post = 0;    // longest path from the model's end to the end of the request
  double bypass = 0;  // longest path that avoids the model
};

struct Topology {
  static constexpr size_t kMaxComponents = 32;
  // In topological order; `model` is among them, at index `model`.
  std::vector<Component> components;
  uint32_t model = 0;

  bool empty() const { return components.size() <= 1; }
  int index_of(const std::string& name) const;
  // Given each component's latency for one request (the model's entry is ignored), the
  // request's end-to-end latency is max(pre + model + post, bypass). Exact for chains and
  // for branches that rejoin before the model.
  PathTimes paths(const double* latency) const;
  // Parses the list, orders it with Boost.Graph, and rejects a cycle with a message
  // naming it ("gateway -> model -> gateway").
  static Topology parse(const ConfigMap& parent, const char* key);
};

}  // namespace canarysim
