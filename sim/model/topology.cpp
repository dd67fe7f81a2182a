#include "sim/model/topology.h"

#include <algorithm>
#include <map>

#include "sim/io/config.h"
#include "sim/io/schema.h"
#include "sim/model/graph.h"

namespace canarysim {


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

namespace {
using namespace schema;
const Section kComponent{"scenario", "topology[]", "A component a request passes through (a DAG by `after`); `model` is each version's serving.", {
    {"name", kText, "", "unique; one is model", "the component's name"},
    {"after", kTexts, "none", "component names", "components that must finish before this one starts"},
    {"latency", kDuration | kMap, "0s", "> 0", "its latency (a distribution); not on model"},
    {"error_rate", kFraction, "0", "[0, 1]", "probability it fails a request; not on model"},
    {"shared", kFlag, "true", "", "shared by both versions (a regression in it hits the baseline too); not on model"},
}};
}  // namespace

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
    m.allow(kComponent);
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
  std::vector<std::pair<size_t, size_t>> edges;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].has("after")) continue;
    const std::vector<std::string> names = items[i].texts("after");
    for (size_t j = 0; j < names.size(); ++j) {
      const auto it = index.find(names[j]);
      if (it == index.end()) items[i].fail_item("after", j, "the name of a component in the topology");
      edges.emplace_back(it->second, i);
      parsed[i].after.push_back(it->second);
    }
  }
  const GraphOrder g = order_graph(parsed.size(), edges);
  if (!g.cycle.empty()) {
    std::string path;
    for (size_t v : g.cycle) path += parsed[v].name + " -> ";
    path += parsed[g.cycle.front()].name;
    parent.reject(key, "the components form a cycle: " + path + "; expected a graph without cycles");
  }
  std::vector<uint32_t> position(parsed.size());
  for (size_t k = 0; k < g.order.size(); ++k) position[g.order[k]] = static_cast<uint32_t>(k);
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
