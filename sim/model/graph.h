// Ordering small dependency graphs (topology components, rollout plan stages) with
// Boost.Graph, which stays inside graph.cpp.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace canarysim {

// Nodes 0..n-1, edges (from, to): `from` comes before `to`.
struct GraphOrder {
  std::vector<size_t> order;  // a topological order, when there is no cycle
  std::vector<size_t> cycle;  // else one cycle, each node once, in edge order
};
GraphOrder order_graph(size_t n, const std::vector<std::pair<size_t, size_t>>& edges);

}  // namespace canarysim
