#include "sim/topology.h"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>
#include <map>

#include "sim/config.h"

namespace canarysim {

namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

// Finds one cycle by depth-first search: a back edge u -> v closes the path v ... u.
struct CycleFinder : boost::default_dfs_visitor {
  std::vector<int>* parent;
  std::vector<int>* cycle;
  void tree_edge(Graph::edge_descriptor e, const Graph& g) const {
    (*parent)[boost::target(e, g)] = static_cast<int>(boost::source(e, g));
  }
  void back_edge(Graph::edge_descriptor e, const Graph& g) const {
    if (!cycle->empty()) return;
    const int from = static_cast<int>(boost::source(e, g)), to = static_cast<int>(boost::target(e, g));
    for (int v = from; v != to && v >= 0; v = (*parent)[v]) cycle->push_back(v);
    cycle->push_back(to);
    std::reverse(cycle->begin(), cycle->end());
  }
};

}  // namespace

int Topology::index_of(const std::string& name) const {
  for (size_t i = 0; i < components.size(); ++i)
    if (components[i].name == name) return static_cast<int>(i);
  return -1;
}

PathTimes Topology::paths(const double* latency) const {
  PathTimes p;
  double finish[kMaxComponents], through[kMaxComponents];
  constexpr double kNone = -1;  // not downstream of the model
  for (size_t k = 0; k < components.size(); ++k) {
    double start = 0, via_model = kNone;
    for (uint32_t a : components[k].after) {
      start = std::max(start, finish[a]);
      if (through[a] != kNone) via_model = std::max(via_model, through[a]);
    }
    if (k == model) {
      p.pre = start;
      finish[k] = start;
      through[k] = 0;
      continue;
    }
    finish[k] = start + latency[k];
    through[k] = via_model == kNone ? kNone : via_model + latency[k];
    if (through[k] != kNone) p.post = std::max(p.post, through[k]);
    else p.bypass = std::max(p.bypass, finish[k]);
  }
  return p;
}

Topology Topology::parse(const ConfigMap& parent, const char* key) {
  Topology t;
  if (!parent.has(key)) {
    t.components.push_back(Component{"model", Distribution::fixed(0), 0, false, {}, false});
    return t;
  }
  const std::vector<ConfigMap> items = parent.maps(key);
  std::vector<Component> parsed;
  std::map<std::string, uint32_t> index;
  for (const ConfigMap& m : items) {
    m.allow({"name", "after", "latency", "error_rate", "shared"});
    Component c;
    c.name = m.text("name");
    if (index.count(c.name)) m.fail("name", "a component name not used before");
    const bool is_model = c.name == "model";
    if (is_model && (m.has("latency") || m.has("error_rate") || m.has("shared"))) {
      m.fail(m.has("latency") ? "latency" : m.has("error_rate") ? "error_rate" : "shared",
             "no latency, error_rate or shared on `model`: it is each version's serving");
    }
    c.latency = Distribution::parse(m, "latency", true, Distribution::fixed(0));
    c.error_rate = m.probability("error_rate", 0);
    c.shared = is_model ? false : m.flag("shared", true);
    index[c.name] = static_cast<uint32_t>(parsed.size());
    parsed.push_back(c);
  }
  if (parsed.size() > kMaxComponents)
    parent.fail(key, "at most " + std::to_string(kMaxComponents) + " components");
  if (!index.count("model"))
    parent.reject(key, "no component named model; expected the serving model among them");

  // Edges from each `after` entry to its component, now that every name is known.
  Graph g(parsed.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].has("after")) continue;
    const std::vector<std::string> names = items[i].texts("after");
    for (size_t j = 0; j < names.size(); ++j) {
      const auto it = index.find(names[j]);
      if (it == index.end()) items[i].fail_item("after", j, "the name of a component in the topology");
      boost::add_edge(it->second, static_cast<uint32_t>(i), g);
      parsed[i].after.push_back(it->second);
    }
  }

  std::vector<int> parent_of(parsed.size(), -1), cycle;
  boost::depth_first_search(g, boost::visitor(CycleFinder{{}, &parent_of, &cycle}));
  if (!cycle.empty()) {
    std::string path;
    for (int v : cycle) path += parsed[static_cast<size_t>(v)].name + " -> ";
    path += parsed[static_cast<size_t>(cycle.front())].name;
    parent.reject(key, "the components form a cycle: " + path + "; expected a graph without cycles");
  }
  std::vector<uint32_t> reversed;
  boost::topological_sort(g, std::back_inserter(reversed));
  std::vector<uint32_t> position(parsed.size());
  for (size_t k = 0; k < reversed.size(); ++k) {
    const uint32_t v = reversed[reversed.size() - 1 - k];
    position[v] = static_cast<uint32_t>(k);
  }
  t.components.resize(parsed.size());
  for (size_t v = 0; v < parsed.size(); ++v) {
    Component c = parsed[v];
    for (uint32_t& a : c.after) a = position[a];
    t.components[position[v]] = c;
  }
  t.model = position[index["model"]];
  // Upstream of the model: every component with a path into it.
  t.components[t.model].upstream = false;
  for (size_t k = t.model + 1; k-- > 0;) {
    const bool feeds_model = k == t.model;
    if (!feeds_model && !t.components[k].upstream) continue;
    for (uint32_t a : t.components[k].after) t.components[a].upstream = true;
  }
  return t;
}

}  // namespace canarysim
