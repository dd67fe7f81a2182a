#include "sim/model/graph.h"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>

namespace canarysim {

namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

// A back edge u -> v found by depth-first search closes the cycle v ... u.
struct CycleFinder : boost::default_dfs_visitor {
  std::vector<long>* parent;
  std::vector<size_t>* cycle;
  void tree_edge(Graph::edge_descriptor e, const Graph& g) const {
    (*parent)[boost::target(e, g)] = static_cast<long>(boost::source(e, g));
  }
  void back_edge(Graph::edge_descriptor e, const Graph& g) const {
    if (!cycle->empty()) return;
    const long from = static_cast<long>(boost::source(e, g)), to = static_cast<long>(boost::target(e, g));
    for (long v = from; v != to && v >= 0; v = (*parent)[static_cast<size_t>(v)])
      cycle->push_back(static_cast<size_t>(v));
    cycle->push_back(static_cast<size_t>(to));
    std::reverse(cycle->begin(), cycle->end());
  }
};

}  // namespace

GraphOrder order_graph(size_t n, const std::vector<std::pair<size_t, size_t>>& edges) {
  Graph g(n);
  for (const auto& [from, to] : edges) boost::add_edge(from, to, g);
  GraphOrder out;
  std::vector<long> parent(n, -1);
  boost::depth_first_search(g, boost::visitor(CycleFinder{{}, &parent, &out.cycle}));
  if (!out.cycle.empty()) return out;
  std::vector<size_t> reversed;
  boost::topological_sort(g, std::back_inserter(reversed));
  out.order.assign(reversed.rbegin(), reversed.rend());
  return out;
}

}  // namespace canarysim
