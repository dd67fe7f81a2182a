#include "policies/interop/import.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <map>
#include <regex>

#include "sim/io/config.h"

namespace canarysim {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A node of a user's configuration with its place in the file. Every access checks the
// node's type before touching it, so no yaml-cpp exception reaches the user, and every
// message names file:line:column and the dotted key, as ConfigMap does for our own files.
// A missing key reads as an absent node (false), never as an error.
class Node {
 public:
  Node() = default;
  // `first_line`: where the node's document starts in the file (marks count from it).
  Node(YAML::Node n, std::string file, std::string path, size_t first_line = 0)
      : n_(std::move(n)), file_(std::move(file)), path_(std::move(path)), first_line_(first_line) {}

  explicit operator bool() const { return n_.IsDefined() && !n_.IsNull(); }
  bool is_map() const { return n_.IsDefined() && n_.IsMap(); }
  bool is_list() const { return n_.IsDefined() && n_.IsSequence(); }
  bool is_text() const { return n_.IsDefined() && n_.IsScalar(); }

  // A mapping's value (absent when missing); fails when this node is present and not a mapping.
  Node operator[](const std::string& key) const {
    const std::string path = path_.empty() ? key : path_ + "." + key;
    if (!*this) return child(YAML::Node(YAML::NodeType::Undefined), path);
    if (!n_.IsMap()) fail("a mapping of keys to values");
    return child(n_[key], path);
  }
  // A list's items (none when absent); fails when present and not a list.
  std::vector<Node> items() const {
    std::vector<Node> out;
    if (!*this) return out;
    if (!n_.IsSequence()) fail("a list");
    for (size_t i = 0; i < n_.size(); ++i) out.push_back(child(n_[i], path_ + "[" + std::to_string(i) + "]"));
    return out;
  }
  // A mapping's entries in file order (none when absent); fails when present and not a mapping.
  std::vector<std::pair<std::string, Node>> entries() const {
    std::vector<std::pair<std::string, Node>> out;
    if (!*this) return out;
    if (!n_.IsMap()) fail("a mapping of keys to values");
    for (const auto& kv : n_) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      out.emplace_back(key, child(kv.second, path_.empty() ? key : path_ + "." + key));
    }
    return out;
  }
  std::string text() const {
    if (!is_text()) fail("a text value");
    return n_.Scalar();
  }
  std::string text_or(const std::string& fallback) const { return is_text() ? n_.Scalar() : fallback; }
  double number() const {
    // A plain number, as the tools read it: "5%" would need a guess at its unit.
    const bool unit = is_text() && !n_.Scalar().empty() && n_.Scalar().back() == '%';
    const auto x = is_text() && !unit ? parse_fraction(n_.Scalar()) : std::nullopt;
    if (!x || !std::isfinite(*x) || std::abs(*x) > 1e15) fail("a plain number");
    return *x;
  }
  int whole() const {
    int v = 0;
    const std::string s = is_text() ? n_.Scalar() : "";
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0) fail("a whole number");
    return v;
  }
  bool boolean() const {
    const std::string s = is_text() ? n_.Scalar() : "";
    if (s == "true") return true;
    if (s == "false") return false;
    fail("true or false");
  }
  const YAML::Node& raw() const { return n_; }
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  // "file:line:column: path"
  std::string where() const {
    std::string w = file_;
    if (n_.IsDefined() && !n_.Mark().is_null())
      w += ":" + std::to_string(first_line_ + n_.Mark().line + 1) + ":" + std::to_string(n_.Mark().column + 1);
    return w + (path_.empty() ? "" : ": " + path_);
  }
  [[noreturn]] void fail(const std::string& expected) const {
    std::string got = "nothing";
    if (n_.IsDefined()) {
      if (n_.IsScalar()) got = "'" + n_.Scalar().substr(0, 80) + "'";
      else if (n_.IsSequence()) got = "a list";
      else if (n_.IsMap()) got = "a mapping";
    }
    throw InputError(where() + ": expected " + expected + ", got " + got);
  }

 private:
  Node child(YAML::Node n, std::string path) const { return Node(std::move(n), file_, std::move(path), first_line_); }

  YAML::Node n_{YAML::NodeType::Undefined};
  std::string file_, path_;
  size_t first_line_ = 0;
};

// Every document of a file, each with its place (documents after the first are named
// "file (document N)").
std::vector<Node> load_documents(const std::string& path) {
  if (!file_exists(path)) throw MissingFileError(path + ": no such file");
  check_file_size(path, kMaxYamlBytes, "a configuration file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  check_yaml_text(text.str(), path);
  // yaml-cpp 0.7's LoadAll can loop forever on malformed input (making empty documents
  // without advancing), while Load of one document cannot: split the stream at its
  // document markers ("---" at the start of a line, which YAML allows nowhere else) and
  // load each part, keeping its first line for messages.
  const std::string all = text.str();
  std::vector<Node> out;
  size_t part_start = 0, part_line = 0, line = 0;
  auto load = [&](size_t end) {
    const std::string part = all.substr(part_start, end - part_start);
    YAML::Node doc;
    try {
      doc = YAML::Load(part);
    } catch (const YAML::DeepRecursion& e) {
      throw InputError(path + ":" + std::to_string(part_line + e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                       ": invalid YAML: nested deeper than yaml-cpp reads (2,000 levels)");
    } catch (const YAML::Exception& e) {
      throw InputError(path + ":" + std::to_string(part_line + e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                       ": invalid YAML: " + e.msg);
    }
    if (doc.IsDefined() && !doc.IsNull()) out.emplace_back(doc, path, "", part_line);
  };
  for (size_t i = 0; i < all.size(); ++line) {
    const size_t eol = std::min(all.find('\n', i), all.size());
    const bool marker = all.compare(i, 3, "---") == 0 && (i + 3 == eol || std::isspace(static_cast<unsigned char>(all[i + 3])));
    if (marker && i > part_start) {
      load(i);
      part_start = i, part_line = line;
    }
    i = eol + 1;
  }
  load(all.size());
  return out;
}

// The kind of a Kubernetes-style document ("" when it is not a mapping with a kind).
std::string kind_of(const Node& doc) { return doc.is_map() ? doc["kind"].text_or("") : ""; }

std::string emit(const YAML::Node& n) {
  YAML::Emitter out;
  out << n;
  return std::string(out.c_str()) + "\n";
}

// Argo and Flagger durations are "10m" strings or whole seconds.
std::string duration_text(const Node& n) {
  const std::string s = n.text();
  if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit)) return s + "s";
  return s;
}

class Importer {
 public:
  Imported out;
  void warn(const std::string& w) { out.warnings.push_back(w); }
  // Warns about every key of `node` not in `known`, under its dotted path.
  void unsupported(const Node& node, std::initializer_list<const char*> known, const std::string& why = "not simulated") {
    if (!node.is_map()) return;
    for (const auto& entry : node.entries()) {
      const std::string& key = entry.first;
      if (std::find_if(known.begin(), known.end(), [&](const char* k) { return key == k; }) == known.end())
        warn(entry.second.path() + ": " + why);
    }
  }
};

}  // namespace

std::string metric_for_query(const std::string& query) {
  const std::string q = lower(query);
  std::string pct = "99";
  // histogram_quantile(0.95, ...): read by hand, since std::regex recurses per character.
  if (const size_t h = q.find("histogram_quantile"); h != std::string::npos) {
    size_t i = h + 18;
    auto spaces = [&] { while (i < q.size() && std::isspace(static_cast<unsigned char>(q[i]))) ++i; };
    spaces();
    if (i < q.size() && q[i] == '(') {
      ++i;
      spaces();
      if (i < q.size() && q[i] == '0') ++i;
      if (i < q.size() && q[i] == '.') {
        const size_t from = ++i;
        while (i < q.size() && i - from < 4 && std::isdigit(static_cast<unsigned char>(q[i]))) ++i;
        if (i > from) pct = q.substr(from, i - from);
      }
    }
  }
  if (pct.size() == 1) pct += "0";  // 0.9 -> 90
  auto has = [&](std::initializer_list<const char*> words) {
    return std::any_of(words.begin(), words.end(), [&](const char* w) { return q.find(w) != std::string::npos; });
  };
  if (has({"time_to_first_token", "ttft", "first_token"})) return "ttft_p" + pct;
  if (has({"inter_token", "time_per_output_token", "itl", "tpot"})) return "itl_p" + pct;
  if (has({"hallucination"})) return "hallucination_rate";
  if (has({"unsafe", "jailbreak"})) return "unsafe_rate";
  if (has({"quality", "judge_score"})) return "quality_mean";
  if (has({"cost"})) return "cost_per_request";
  const bool errors = has({"5..", "5.*", "5xx", "=~\"5", "error", "fail"});
  if (errors) {
    // A success rate: non-errors (!~ "5..") over all requests.
    if (has({"!~\"5", "!~'5", "!=\"5", "success"})) return "success_rate";
    return "error_rate";
  }
  if (has({"duration", "latency", "e2e", "response_time"})) return "latency_p" + pct;
  return "";
}

namespace {

// ---------------------------------------------------------------------------------
// Argo Rollouts: a Rollout and AnalysisTemplates, in any number of files and documents.

Imported import_argo(const std::vector<std::string>& inputs) {
  Importer im;
  Node rollout;
  std::map<std::string, Node> templates;
  for (const std::string& path : inputs) {
    for (const Node& doc : load_documents(path)) {
      const std::string kind = kind_of(doc);
      if (kind == "Rollout") {
        rollout = doc;
      } else if (kind == "AnalysisTemplate" || kind == "ClusterAnalysisTemplate") {
        templates[doc["metadata"]["name"].text()] = doc;
      } else if (!kind.empty()) {
        im.warn(path + ": a " + kind + " is not part of a rollout policy; ignored");
      }
    }
  }
  if (!rollout) throw InputError(inputs.front() + ": no Rollout found; expected kind: Rollout");
  const Node strategy = rollout["spec"]["strategy"];
  const Node canary = strategy["canary"];
  if (!canary) throw InputError(strategy.where() + ".canary: missing; expected a canary strategy");
  im.unsupported(strategy, {"canary"});
  im.unsupported(canary, {"steps", "analysis"}, "not simulated (canarysim routes by weight with sticky users)");

  YAML::Node out;
  out["kind"] = "argo";
  std::vector<std::string> used;
  auto template_refs = [&](const Node& analysis) {
    YAML::Node refs(YAML::NodeType::Sequence);
    for (const Node& t : analysis["templates"].items()) {
      YAML::Node ref;
      ref["templateName"] = t["templateName"].text();
      used.push_back(t["templateName"].text());
      refs.push_back(ref);
    }
    if (analysis["args"]) im.warn(analysis["args"].path() + ": not substituted; queries map to canarysim metrics");
    return refs;
  };
  YAML::Node steps(YAML::NodeType::Sequence);
  for (const Node& s : canary["steps"].items()) {
    YAML::Node step;
    if (!s.is_map()) s.fail("a step (a mapping such as {setWeight: 20})");
    if (s["setWeight"]) {
      step["setWeight"] = s["setWeight"].number();
    } else if (s["pause"]) {
      YAML::Node pause(YAML::NodeType::Map);
      if (s["pause"].is_map() && s["pause"]["duration"]) pause["duration"] = duration_text(s["pause"]["duration"]);
      step["pause"] = pause;
    } else if (s["analysis"]) {
      step["analysis"]["templates"] = template_refs(s["analysis"]);
    } else {
      const auto e = s.entries();
      im.warn(s.path() + ": " + (e.empty() ? std::string("step") : e.front().first) + " is not simulated; skipped");
      continue;
    }
    steps.push_back(step);
  }
  out["steps"] = steps;
  if (const Node bg = canary["analysis"]) {
    out["analysis"]["templates"] = template_refs(bg);
    if (bg["startingStep"]) out["analysis"]["startingStep"] = bg["startingStep"].whole();
  }
  for (const std::string& name : used) {
    if (out["templates"][name]) continue;
    const auto it = templates.find(name);
    if (it == templates.end()) throw InputError("templates: no AnalysisTemplate named '" + name + "' in the files given");
    const Node spec = it->second["spec"];
    im.unsupported(spec, {"metrics", "args"});
    YAML::Node metrics(YAML::NodeType::Sequence);
    for (const Node& m : spec["metrics"].items()) {
      const std::string mwhere = "AnalysisTemplate " + name + ".metrics." + m["name"].text();
      YAML::Node o;
      o["name"] = m["name"].text();
      for (const char* key : {"interval", "initialDelay"})
        if (m[key]) o[key] = duration_text(m[key]);
      for (const char* key : {"count", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit"}) {
        if (!m[key]) continue;
        if (m[key].text_or("").find("{{") != std::string::npos) {
          im.warn(mwhere + "." + key + ": a template argument; left at Argo's default");
          continue;
        }
        o[key] = m[key].whole();
      }
      for (const char* key : {"successCondition", "failureCondition"})
        if (m[key]) o[key] = m[key].text();
      im.unsupported(m, {"name", "interval", "initialDelay", "count", "failureLimit", "inconclusiveLimit",
                         "consecutiveErrorLimit", "successCondition", "failureCondition", "provider"});
      std::string query;
      for (const auto& [provider, p] : m["provider"].entries()) {
        for (const char* key : {"query", "metricName", "expression"})
          if (p.is_map() && p[key].is_text()) query += p[key].text() + " ";
        if (query.empty()) im.warn(mwhere + ".provider." + provider + ": no query canarysim can read");
      }
      const std::string metric = metric_for_query(query);
      if (metric.empty()) {
        im.warn(mwhere + ": no canarysim metric for query '" + query + "'; metric dropped (see policies/interop/import.h)");
        continue;
      }
      o["provider"]["query"] = metric;
      metrics.push_back(o);
    }
    if (metrics.size() == 0)
      throw InputError(it->second.where() + ": AnalysisTemplate " + name + ": no metric could be mapped to a canarysim metric");
    out["templates"][name]["metrics"] = metrics;
  }
  im.out.yaml = "# Imported from Argo Rollouts (" + rollout.file() + ") by canarysim import.\n" + emit(out);
  return im.out;
}

// ---------------------------------------------------------------------------------
// Flagger: a Canary, and MetricTemplates for its custom metrics.

Imported import_flagger(const std::vector<std::string>& inputs) {
  Importer im;
  Node canary;
  std::map<std::string, std::string> template_queries;
  for (const std::string& path : inputs) {
    for (const Node& doc : load_documents(path)) {
      const std::string kind = kind_of(doc);
      if (kind == "Canary") canary = doc;
      else if (kind == "MetricTemplate") template_queries[doc["metadata"]["name"].text()] = doc["spec"]["query"].text();
      else if (!kind.empty()) im.warn(path + ": a " + kind + " is not part of a rollout policy; ignored");
    }
  }
  if (!canary) throw InputError(inputs.front() + ": no Canary found; expected kind: Canary");
  const Node spec = canary["spec"];
  im.unsupported(spec, {"analysis"}, "not simulated (deployment, service and autoscaler wiring)");
  if (spec["skipAnalysis"] && spec["skipAnalysis"].boolean())
    im.warn("spec.skipAnalysis: true promotes without analysis in Flagger; canarysim runs the analysis");
  const Node a = spec["analysis"] ? spec["analysis"] : spec["canaryAnalysis"];
  if (!a) throw InputError(spec.where() + ".analysis: missing; expected Flagger's analysis");
  im.unsupported(a, {"interval", "threshold", "maxWeight", "stepWeight", "stepWeights", "stepWeightPromotion", "metrics"});
  YAML::Node out;
  out["kind"] = "flagger";
  if (a["interval"]) out["interval"] = duration_text(a["interval"]);
  for (const char* key : {"threshold", "maxWeight", "stepWeight", "stepWeightPromotion"})
    if (a[key]) out[key] = a[key].number();
  if (a["stepWeights"]) {
    YAML::Node weights(YAML::NodeType::Sequence);
    for (const Node& w : a["stepWeights"].items()) weights.push_back(w.number());
    out["stepWeights"] = weights;
  }
  YAML::Node metrics(YAML::NodeType::Sequence);
  for (const Node& m : a["metrics"].items()) {
    const std::string name = m["name"].text();
    YAML::Node o;
    if (m["templateRef"]) {
      const std::string ref = m["templateRef"]["name"].text();
      const auto it = template_queries.find(ref);
      const std::string metric = it == template_queries.end() ? "" : metric_for_query(it->second);
      if (metric.empty()) {
        im.warn(m.where() + " (" + name + "): " +
                (it == template_queries.end() ? "MetricTemplate '" + ref + "' not among the files given"
                                              : "no canarysim metric for its query") + "; metric dropped");
        continue;
      }
      if (metric == "success_rate") {
        im.warn(m.where() + " (" + name + "): a success ratio; judged as request-success-rate (percent)");
        o["name"] = "request-success-rate";
      } else {
        o["name"] = metric;
      }
    } else if (name == "request-success-rate" || name == "request-duration") {
      o["name"] = name;
    } else {
      im.warn(m.where() + " (" + name + "): neither built in nor a templateRef; metric dropped");
      continue;
    }
    if (const Node range = m["thresholdRange"]) {
      im.unsupported(range, {"min", "max"}, "not a bound Flagger reads; ignored");
      for (const char* bound : {"min", "max"})
        if (range[bound]) o["thresholdRange"][bound] = range[bound].number();
    }
    if (m["threshold"]) o["thresholdRange"][name == "request-duration" ? "max" : "min"] = m["threshold"].number();
    if (m["interval"]) o["interval"] = duration_text(m["interval"]);
    metrics.push_back(o);
  }
  if (metrics.size() == 0) throw InputError(a.where() + ".metrics: no metric canarysim can judge");
  out["metrics"] = metrics;
  im.out.yaml = "# Imported from a Flagger Canary (" + inputs.front() + ") by canarysim import.\n" + emit(out);
  return im.out;
}

// ---------------------------------------------------------------------------------
// Kayenta: a canary config (JSON).

Imported import_kayenta(const std::vector<std::string>& inputs, const ImportOptions& opt) {
  Importer im;
  const std::vector<Node> docs = load_documents(inputs.front());
  if (docs.empty() || !docs[0].is_map() || !docs[0]["metrics"])
    throw InputError(inputs.front() + ": metrics: missing; expected a Kayenta canary config");
  const Node cfg = docs[0];
  im.unsupported(cfg, {"metrics", "classifier", "name", "description", "configVersion", "applications", "judge",
                       "templates", "createdTimestamp", "updatedTimestamp", "createdTimestampIso",
                       "updatedTimestampIso", "id"});
  YAML::Node out;
  out["kind"] = "kayenta";
  out["weight"] = opt.weight_percent;
  out["lifetime"] = opt.lifetime;
  out["interval"] = opt.interval;
  out["step"] = "1m";
  im.warn("schedule: lifetime " + opt.lifetime + ", interval " + opt.interval + ", weight " +
          std::to_string(static_cast<int>(opt.weight_percent)) +
          " % from the command line (a Kayenta config holds no schedule; Spinnaker's stage does)");
  YAML::Node metrics(YAML::NodeType::Sequence);
  for (const Node& m : cfg["metrics"].items()) {
    const std::string name = m["name"].text();
    const std::string where = "metrics." + name;
    std::string query;
    for (const auto& [key, part] : m["query"].entries())
      if (part.is_text()) query += part.text() + " ";
    const std::string metric = metric_for_query(query + " " + name);
    if (metric.empty() || metric == "success_rate") {
      im.warn(where + ": no canarysim metric for query '" + query + "'; metric dropped");
      continue;
    }
    YAML::Node o;
    o["name"] = name;
    o["metric"] = metric;
    YAML::Node groups(YAML::NodeType::Sequence);
    for (const Node& g : m["groups"].items()) groups.push_back(g.text());
    if (m["groups"].is_text()) groups.push_back(m["groups"].text());
    o["groups"] = groups;
    const Node c = m["analysisConfigurations"]["canary"];
    if (c["direction"]) o["direction"] = c["direction"].text();
    if (c["critical"]) o["critical"] = c["critical"].boolean();
    if (const Node e = c["effectSize"]) {
      if (e["measure"]) o["effect_size"]["measure"] = e["measure"].text();
      for (const auto& [from, to] : std::vector<std::pair<const char*, const char*>>{
               {"allowedIncrease", "allowed_increase"}, {"criticalIncrease", "critical_increase"},
               {"allowedDecrease", "allowed_decrease"}, {"criticalDecrease", "critical_decrease"}})
        if (e[from]) o["effect_size"][to] = e[from].number();
    }
    im.unsupported(c, {"direction", "critical", "effectSize", "nanStrategy"});
    if (c["nanStrategy"] && c["nanStrategy"].text() == "replace")
      im.warn(where + ": nanStrategy replace; canarysim removes missing points");
    metrics.push_back(o);
  }
  if (metrics.size() == 0) throw InputError(inputs.front() + ": metrics: none maps to a canarysim metric");
  out["metrics"] = metrics;
  const Node cl = cfg["classifier"];
  for (const auto& [group, weight] : cl["groupWeights"].entries()) out["classifier"]["group_weights"][group] = weight.number();
  if (const Node t = cl["scoreThresholds"]) {
    out["classifier"]["score_thresholds"]["pass"] = t["pass"].number();
    out["classifier"]["score_thresholds"]["marginal"] = t["marginal"].number();
  } else {
    out["classifier"]["score_thresholds"]["pass"] = 95;
    out["classifier"]["score_thresholds"]["marginal"] = 75;
    im.warn("classifier.scoreThresholds: not in the config (Spinnaker's stage sets them); pass 95, marginal 75");
  }
  im.out.yaml = "# Imported from a Kayenta canary config (" + inputs.front() + ") by canarysim import.\n" + emit(out);
  return im.out;
}

// ---------------------------------------------------------------------------------
// AWS CodeDeploy and AppConfig predefined strategies.

Imported import_aws(const std::vector<std::string>& names) {
  Importer im;
  if (names.size() != 1) throw InputError("aws: expected one predefined strategy name");
  const std::string& name = names.front();
  std::vector<double> steps;
  double bake_s = 0, final_bake_s = 0;
  std::smatch m;
  static const std::regex canary(R"(CodeDeployDefault\.(Lambda|ECS)Canary(\d+)Percent(\d+)Minutes?)");
  static const std::regex linear(R"(CodeDeployDefault\.(Lambda|ECS)Linear(\d+)PercentEvery(\d+)Minutes?)");
  // The numbers in a name: a percent in [1, 99] and whole minutes up to a day (AWS
  // allows at most 2,880 minutes in a custom configuration; a predefined name less).
  auto number_in = [&](const std::string& digits, int lo, int hi, const char* what) {
    int v = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size() || v < lo || v > hi)
      throw InputError(name + ": " + what + " " + digits + " is out of range; expected " + std::to_string(lo) +
                       " to " + std::to_string(hi));
    return v;
  };
  // std::regex recurses per character: a long name must not reach it.
  if (name.size() > 128)
    throw InputError(name.substr(0, 40) + "...: not a predefined strategy name (" + std::to_string(name.size()) +
                     " characters; expected one like CodeDeployDefault.LambdaCanary10Percent5Minutes)");
  if (std::regex_match(name, m, canary)) {
    steps = {static_cast<double>(number_in(m[2], 1, 99, "percent")), 100};
    bake_s = 60.0 * number_in(m[3], 1, 2880, "minutes");
  } else if (std::regex_match(name, m, linear)) {
    const int pct = number_in(m[2], 1, 99, "percent");
    for (int w = pct; w < 100; w += pct) steps.push_back(w);
    steps.push_back(100);
    bake_s = 60.0 * number_in(m[3], 1, 2880, "minutes");
  } else if (name == "CodeDeployDefault.LambdaAllAtOnce" || name == "CodeDeployDefault.ECSAllAtOnce") {
    steps = {100};
  } else if (name == "AppConfig.AllAtOnce") {
    steps = {100};
    final_bake_s = 600;
  } else if (name == "AppConfig.Linear50PercentEvery30Seconds") {
    steps = {50, 100};
    bake_s = 30;
    final_bake_s = 60;
  } else if (name == "AppConfig.Linear20PercentEvery6Minutes") {
    steps = {20, 40, 60, 80, 100};
    bake_s = 360;
    final_bake_s = 1800;
  } else if (name == "AppConfig.Canary10Percent20Minutes") {
    steps = {10, 20, 40, 80, 100};  // exponential, growth factor 10 %, over 20 minutes
    bake_s = 300;
    final_bake_s = 600;
  } else {
    throw InputError(name + ": not a predefined strategy; expected CodeDeployDefault.(Lambda|ECS)Canary<P>Percent<M>Minutes, "
                            "...Linear<P>PercentEvery<M>Minutes, ...AllAtOnce, or AppConfig.AllAtOnce, "
                            "AppConfig.Linear50PercentEvery30Seconds, AppConfig.Linear20PercentEvery6Minutes, "
                            "AppConfig.Canary10Percent20Minutes");
  }
  YAML::Node out;
  out["kind"] = "stepped";
  if (steps.size() == 1) {  // all at once: a step of 100 would promote at once, before any alarm
    steps = {100};
  }
  YAML::Node s(YAML::NodeType::Sequence);
  for (double w : steps) s.push_back(w);
  out["steps"] = s;
  out["bake_time"] = std::to_string(static_cast<int>(bake_s)) + "s";
  out["interval"] = bake_s > 0 && bake_s < 60 ? std::to_string(static_cast<int>(bake_s)) + "s" : "1m";
  if (final_bake_s > 0) out["final_bake"] = std::to_string(static_cast<int>(final_bake_s)) + "s";
  out["failure_limit"] = 0;
  YAML::Node check;
  check["name"] = "cloudwatch-alarm";
  check["metric"] = "error_rate";
  check["max"] = "1%";
  out["checks"].push_back(check);
  im.warn("checks: " + name + " rolls back on the CloudWatch alarms attached to the deployment, which a "
          "strategy name does not carry; canarysim adds an alarm on an error rate above 1 %: replace it with yours");
  if (steps.size() == 1 && final_bake_s == 0)
    im.warn("steps: all at once with no bake: the new version takes all traffic at once and nothing judges it");
  im.out.yaml = "# Imported from the AWS predefined strategy " + name + " by canarysim import.\n" + emit(out);
  return im.out;
}

}  // namespace

Imported import_policy(const std::string& tool, const std::vector<std::string>& inputs, const ImportOptions& options) {
  if (inputs.empty()) throw InputError(tool + ": expected at least one input");
  try {
    if (tool == "argo") return import_argo(inputs);
    if (tool == "flagger") return import_flagger(inputs);
    if (tool == "kayenta") return import_kayenta(inputs, options);
    if (tool == "aws") return import_aws(inputs);
  } catch (const YAML::Exception& e) {
    throw InputError(inputs.front() + ": " + e.what());
  }
  throw InputError(tool + ": unknown tool; expected one of: argo, flagger, kayenta, aws");
}

}  // namespace canarysim
