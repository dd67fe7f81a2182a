#include "policies/interop/import.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <filesystem>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <string_view>

#include "policies/expr.h"
#include "policies/interop/query.h"
#include "policies/interop/text.h"
#include "policies/policy.h"
#include "sim/model/scenario.h"
#include "sim/io/config.h"

namespace canarysim {

namespace {

// A key with case, '_' and '-' set aside: how AWS's tools spell one key (CanarySize,
// canarySize, canary_size), and how near a misspelt key is to one the import reads.
std::string key_form(const std::string& key) {
  std::string out;
  for (char c : key)
    if (c != '_' && c != '-') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A node of a user's configuration with its place in the file. Every access checks the
// node's type before touching it, so no yaml-cpp exception reaches the user, and every
// message names file:line:column and the dotted key, as ConfigMap does for our own files.
// A missing key reads as an absent node (false), never as an error.
class Node {
 public:
  Node() = default;
  // `first_line`: where the node's document starts in the file (marks count from it).
  // A missing key's node (yaml-cpp's "zombie", on which most calls throw) is held as an
  // undefined one.
  Node(YAML::Node n, std::string file, std::string path, size_t first_line = 0)
      : Node(std::move(n), std::move(file), std::move(path), first_line, std::make_shared<Asked>()) {}
  Node(const Node&) = default;
  // Rebinds to o's node. (YAML::Node's own assignment writes o's value into the node this
  // one refers to, in the user's document, and throws when o's is a missing key's.)
  Node& operator=(const Node& o) {
    n_.reset(o.n_);
    file_ = o.file_;
    path_ = o.path_;
    first_line_ = o.first_line_;
    asked_ = o.asked_;
    return *this;
  }

  explicit operator bool() const { return n_.IsDefined() && !n_.IsNull(); }
  bool is_map() const { return n_.IsDefined() && n_.IsMap(); }
  bool is_list() const { return n_.IsDefined() && n_.IsSequence(); }
  bool is_text() const { return n_.IsDefined() && n_.IsScalar(); }

  // A mapping's value (absent when missing); fails when this node is present and not a mapping.
  Node operator[](const std::string& key) const {
    const std::string path = path_.empty() ? key : path_ + "." + key;
    (*asked_)[path_].insert(key);
    if (!*this) return child(YAML::Node(YAML::NodeType::Undefined), path);
    if (!n_.IsMap()) fail("a mapping of keys to values");
    check_unique(key, path);
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
  // A mapping's entries in file order (none when absent), each recorded as read; fails
  // when present and not a mapping.
  std::vector<std::pair<std::string, Node>> entries() const {
    std::vector<std::pair<std::string, Node>> out = look();
    for (const auto& kv : out) (*asked_)[path_].insert(kv.first);
    return out;
  }
  // The same, none recorded as read: for a search that reads only what it finds.
  std::vector<std::pair<std::string, Node>> look() const {
    std::vector<std::pair<std::string, Node>> out;
    if (!*this) return out;
    if (!n_.IsMap()) fail("a mapping of keys to values");
    std::set<std::string> seen;
    for (const auto& kv : n_) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      const std::string path = path_.empty() ? key : path_ + "." + key;
      if (!seen.insert(key).second) child(kv.first, path).duplicate();
      out.emplace_back(key, child(kv.second, path));
    }
    return out;
  }
  // A mapping's value, not recorded as read (absent when missing or when this is not a
  // mapping): to decide whether to read it.
  Node peek(const std::string& key) const {
    if (!is_map()) return Node();
    for (const auto& [k, v] : look())
      if (k == key) return v;
    return Node();
  }
  // The keys of a mapping and their nodes, in file order, without reading them (for
  // checks of what was read); none when this is not a mapping.
  std::vector<std::pair<std::string, Node>> unread_entries() const {
    std::vector<std::pair<std::string, Node>> out;
    if (!is_map()) return out;
    const auto it = asked_->find(path_);
    for (const auto& kv : n_) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      if (it != asked_->end() && it->second.count(key)) continue;
      out.emplace_back(key, child(kv.second, path_.empty() ? key : path_ + "." + key));
    }
    return out;
  }
  // Every key the import asked of this mapping, present or not (what it reads here).
  std::vector<std::string> asked() const {
    const auto it = asked_->find(path_);
    return it == asked_->end() ? std::vector<std::string>() : std::vector<std::string>(it->second.begin(), it->second.end());
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
  // The keys asked of each mapping of one document, by the mapping's path: what the import
  // reads, so that what it does not read can be said (Importer::unsupported).
  using Asked = std::map<std::string, std::set<std::string>>;
  Node(YAML::Node n, std::string file, std::string path, size_t first_line, std::shared_ptr<Asked> asked)
      : n_(n.IsDefined() ? std::move(n) : YAML::Node(YAML::NodeType::Undefined)),
        file_(std::move(file)), path_(std::move(path)), first_line_(first_line), asked_(std::move(asked)) {}
  Node child(YAML::Node n, std::string path) const { return Node(std::move(n), file_, std::move(path), first_line_, asked_); }
  // YAML forbids a key twice in a mapping (kubectl refuses such a file); yaml-cpp keeps
  // both and finds the first, so a second successCondition would be read as never written.
  void check_unique(const std::string& key, const std::string& path) const {
    bool found = false;
    for (const auto& kv : n_)
      if (kv.first.IsScalar() && kv.first.Scalar() == key && std::exchange(found, true)) child(kv.first, path).duplicate();
  }
  [[noreturn]] void duplicate() const { throw InputError(where() + ": duplicate key (YAML allows a key once in a mapping)"); }

  YAML::Node n_{YAML::NodeType::Undefined};
  std::string file_, path_;
  size_t first_line_ = 0;
  std::shared_ptr<Asked> asked_ = std::make_shared<Asked>();
};

// The first Helm (Go template) directive in a file, as "line:column: text", or "". Argo's
// {{args.name}} and Flagger's {{ namespace }} are variables the tools fill in and read
// here; a directive that is Go's own (a leading dash, a field of dot or a variable, a
// quoted string, a pipe, a keyword such as if, range, include or toYaml) belongs to a
// chart: the file is a template of a manifest, whose values no one has filled in yet.
std::string helm_directive(const std::string& text) {
  static const std::set<std::string, std::less<>> kGoWords = {
      "if", "else", "end", "range", "with", "define", "template", "include", "block", "tpl", "toYaml",
      "required", "printf", "quote", "default", "lookup"};
  // Whether the directive opening at `at` ("{{") is Go's; looks at most 256 characters on.
  auto go_directive = [&](std::string_view line, size_t at) {
    size_t p = at + 2;
    if (p < line.size() && line[p] == '-') return true;
    while (p < line.size() && std::isspace(static_cast<unsigned char>(line[p]))) ++p;
    if (p < line.size() && std::string_view(".$\"`(").find(line[p]) != std::string_view::npos) return true;
    if (line.substr(p, 2) == "/*") return true;
    size_t q = p;
    while (q < line.size() && (std::isalnum(static_cast<unsigned char>(line[q])) || line[q] == '_')) ++q;
    if (kGoWords.count(line.substr(p, q - p))) return true;
    const std::string_view body = line.substr(p, 256);
    return body.substr(0, body.find("}}")).find('|') != std::string_view::npos;
  };
  size_t number = 0;
  for (size_t start = 0; start < text.size(); ++number) {
    const size_t eol = std::min(text.find('\n', start), text.size());
    const std::string_view line = std::string_view(text).substr(start, eol - start);
    start = eol + 1;
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;  // a comment may quote anything
    for (size_t at = line.find("{{"); at != std::string_view::npos; at = line.find("{{", at + 2)) {
      if (!go_directive(line, at)) continue;
      // To the last "}}" of its line (a Helm-escaped {{ "{{args.x}}" }} nests), at most 80 characters.
      const size_t limit = std::min(line.size(), at + 80);
      const size_t close = line.rfind("}}", limit - 2);
      const size_t end = close != std::string_view::npos && close > at ? close + 2 : limit;
      return std::to_string(number + 1) + ":" + std::to_string(at + 1) + ": '" + std::string(line.substr(at, end - at)) + "'";
    }
  }
  return "";
}

// How Argo and Flagger route by weight, against canarysim's router (sim/model/router.h).
constexpr const char* kPerRequestRouting =
    "each request goes to a version by the weight, so one user meets both; canarysim's users are sticky "
    "by default (a user who reached the canary keeps it), so its blast radius in users is then a lower bound; "
    "routing: {sticky: false} in the scenario routes as ";

// Every document of a file, each with its place (documents after the first are named
// "file (document N)").
std::vector<Node> load_documents(const std::string& path) {
  const std::string all = read_text_file(path, kMaxYamlBytes, "a configuration file");
  check_yaml_text(all, path);
  if (const std::string d = helm_directive(all); !d.empty())
    throw InputError(path + ":" + d + " is a Helm template directive: the file is a chart's template, not a manifest, "
                     "and its values are not filled in; render it first (helm template CHART > rendered.yaml) and import that");
  // yaml-cpp 0.7's LoadAll can loop forever on malformed input (making empty documents
  // without advancing), while Load of one document cannot: split the stream at its
  // document markers ("---" at the start of a line, which YAML allows nowhere else) and
  // load each part, keeping its first line for messages.
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

// Argo and Flagger durations are "10m" strings or whole seconds.
std::string duration_text(const Node& n) {
  const std::string s = n.text();
  if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit)) return s + "s";
  return s;
}

// The rules a condition keeps on a measurement, found by evaluating it: the condition's
// truth over the value line changes at its boundaries, located by bisection between
// sample points (its constants and a logarithmic grid), so any expression over one
// value is read exactly, whatever its shape. `holds` is the truth on a value; `text` the
// condition, whose constants are sample points.
// Returns {op, threshold} pairs; empty with `why` set when no rule form fits.
std::vector<std::pair<std::string, double>> condition_rules(const std::function<bool(double)>& holds,
                                                            const std::string& text, std::string* why) {
  std::vector<double> points = {0};
  for (int k = -9; k <= 12; ++k) points.push_back(std::pow(10.0, k)), points.push_back(-std::pow(10.0, k));
  // The condition's constants (read by hand: std::regex recurses per character).
  for (size_t i = 0; i < text.size();) {
    if (!std::isdigit(static_cast<unsigned char>(text[i])) && !(text[i] == '.' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      ++i;
      continue;
    }
    char* end = nullptr;
    const double c = std::strtod(text.c_str() + i, &end);
    i = std::max(i + 1, static_cast<size_t>(end - text.c_str()));
    if (std::isfinite(c)) points.push_back(c), points.push_back(-c);
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  std::vector<std::pair<double, bool>> changes;  // boundary, and truth above it
  for (size_t i = 0; i + 1 < points.size(); ++i) {
    const double first = points[i], last = points[i + 1];
    double lo = first, hi = last;
    const bool a = holds(lo);
    if (holds(hi) == a) continue;
    for (int k = 0; k < 200 && hi - lo > 1e-12 * std::max(1.0, std::abs(hi)); ++k) {
      const double mid = lo + (hi - lo) / 2;
      (holds(mid) == a ? lo : hi) = mid;
    }
    // A boundary at one of the sample points (the condition's constants) is that point.
    const auto near = [&](double c) { return std::abs(hi - c) <= 1e-9 * std::max(1.0, std::abs(c)); };
    const double at = near(first) ? first : near(last) ? last : std::abs(hi) < 1e-300 ? 0 : std::stod(number_text(hi));
    changes.emplace_back(at, !a);
  }
  std::vector<std::pair<std::string, double>> out;
  if (changes.empty()) {
    *why = holds(0) ? "holds for every value" : "holds for no value";
    return out;
  }
  // At the boundary itself the condition says whether the bound is strict.
  auto op = [&](double at, bool above) {
    return std::string(above ? ">" : "<") + (holds(at) ? "=" : "");
  };
  if (changes.size() == 1) return {{op(changes[0].first, changes[0].second), changes[0].first}};
  if (changes.size() == 2 && changes[0].second && !changes[1].second)
    return {{op(changes[0].first, true), changes[0].first}, {op(changes[1].first, false), changes[1].first}};
  *why = "holds outside a band or on several intervals: no rule of the form <= or >= states it";
  return out;
}

// Why a query of failures selected by a status label returns no data at first.
std::string sparse_series(const QueryMeaning& m) {
  return "it counts failures by " + m.sparse + ", a series that client libraries create when the label value is "
         "first used, so, unless the application creates it at start-up, until the canary's first failure the "
         "query returns no data";
}

// Why a condition's read fails on a measurement with data, for a warning: the form of
// `result` it reads, against what the provider gives (policies/expr.h).
std::string misread(const Expression& e, ResultShape shape, const std::string& dialect) {
  if (e.reads_past_one_series())
    return "reads past result[0], and the query returns one series (index out of range). A measurement is one query "
           "and result[0] its value; count takes measurements one after another, each judged alone";
  switch (shape) {
    case ResultShape::kVector:
      if (e.calls_default())
        return "calls default(), which returns the whole result when there is one, and a Prometheus query's result "
               "is the list of its series' values ([0.004]), which no comparison takes; `len(result) == 0 || "
               "result[0] ...` guards no data";
      return "reads the result without an index, and a Prometheus query's result is the list of its series' values "
             "([0.004]), which Argo cannot compare or pass to isNaN (mismatched types); result[0] is the value";
    case ResultShape::kScalar:
      return "reads result[...] or result.field, and " +
             std::string(dialect == "datadog" ? "a Datadog query's" : "this query's (scalar())") +
             " result is one number, which has neither; result is the value";
    case ResultShape::kMap:
      return "reads the result as a value, and a New Relic result is the NRQL row's fields (result.name, named by "
             "the SELECT's aliases)";
    case ResultShape::kAny: break;
  }
  return "reads the result in a form it does not have";
}

class Importer {
 public:
  explicit Importer(const ImportOptions& o) : opt(o) {}
  const ImportOptions& opt;
  Imported out;
  std::vector<std::string> comments;  // the rules, for the written policy

  void warn(const std::string& w) { out.warnings.push_back(w); }
  // A caveat that holds for every policy of its kind, for the written policy's reader: a
  // comment, not a warning (--strict refuses on warnings).
  void note(const std::string& text) { comments.push_back("# note: " + text); }
  [[noreturn]] void refuse(const std::string& why) { throw ImportRefused(why, out.warnings); }
  // States a rule kept on a query's value: `op` and `threshold` in the query's units.
  void rule(const QueryMeaning& m, const std::string& op, double threshold, const std::string& source,
            const std::string& outcome = "") {
    const std::string text = rule_text(m, op, threshold) + outcome;
    state(text, source);
    // Web services answer in milliseconds; an LLM completion streams for seconds.
    if (m.metric.rfind("latency_", 0) == 0 && m.version == "canary" && op[0] == '<' && threshold / m.scale < 2)
      warn(source + ": " + text + " looks like a web latency: LLM completions stream for seconds end to end; if it "
           "meant the time to the first token, import with --latency ttft");
  }
  // States what the imported policy does, with where it comes from.
  void state(const std::string& text, const std::string& source) {
    out.rules.push_back("rule: " + text + "  (" + source + ")");
    comments.push_back("# rule: " + text + "  (" + source + ")");
  }
  // Warns, when the import finishes, of each key of `node` it never read: `why`, or, for a
  // key a slip away from one it read or asked for (sucessCondition), that it is misspelled.
  // The reads are recorded by Node, so a key the import forgets to read cannot pass
  // silently. `quiet`: keys deliberately not read because they cannot change what is
  // simulated (descriptions, timestamps, replica counts kept for scale-down).
  void unsupported(const Node& node, const std::string& why = "not simulated",
                   std::initializer_list<const char*> quiet = {}) {
    if (node.is_map()) pending_.push_back({node, why, std::vector<std::string>(quiet.begin(), quiet.end())});
  }
  QueryMeaning read(const std::string& query, const std::string& dialect, const QueryContext& ctx, const Node& where) {
    QueryMeaning m = read_query(query, dialect, ctx);
    for (const std::string& n : m.notes) warn(where.where() + ": " + n);
    return m;
  }
  // The policy text: a header, the rules as comments, the YAML.
  // `source`: what was imported ("Argo Rollouts (file:line:column)").
  Imported finish(const std::string& source, const YAML::Node& policy) {
    check_unread();
    // The policy as canarysim will load it: what the tool would refuse (an inline Argo
    // analysis that never ends, say) is refused here, naming the source, not a file the
    // user never saw. Its keys are the source's, so the message locates it there too.
    std::shared_ptr<const PolicyConfig> config;
    try {
      config = parse_policy(ConfigMap::parse_string(emit(policy), "<imported>"));
    } catch (const InputError& e) {
      std::string why = e.what();
      if (why.rfind("<imported>", 0) == 0) why.erase(0, why.find(": ") + 2);  // <imported>:line:column:
      refuse("what was imported from " + source + " is not a valid policy: " + why);
    }
    // Judgements that rest on too few points, whatever the traffic (Kayenta's series).
    for (const std::string& w : sample_warnings(*config, nullptr)) warn("the imported policy's " + w);
    if (out.rules.empty())
      warn("no rule could be kept: the imported policy follows the ladder and cannot roll back on its own");
    if (opt.strict && !out.warnings.empty())
      refuse("--strict: " + std::to_string(out.warnings.size()) + " warning(s) above; nothing written");
    std::string text = "# Imported from " + source + " by canarysim import.\n";
    for (const std::string& c : comments) text += c + "\n";
    out.yaml = text + emit(policy);
    return out;
  }
  // The warnings unsupported() deferred: every key of those mappings not read by now.
  void check_unread() {
    for (const Unread& u : std::exchange(pending_, {})) {
      const std::vector<std::string> asked = u.node.asked();
      for (const auto& [key, value] : u.node.unread_entries()) {
        if (std::find(u.quiet.begin(), u.quiet.end(), key) != u.quiet.end()) continue;
        std::string slip = nearest(key, asked, 2);
        if (slip.empty()) {  // a slip in case or separators too (wait_interval_in_second)
          std::vector<std::string> forms;
          for (const std::string& a : asked) forms.push_back(key_form(a));
          const std::string form = nearest(key_form(key), forms, 2);
          if (!form.empty()) slip = asked[static_cast<size_t>(std::find(forms.begin(), forms.end(), form) - forms.begin())];
        }
        // A key set to nothing (null, []: how `terraform show -json` writes a block or an
        // attribute not given) sets nothing, unless it is a slip for a key that is read.
        if (slip.empty() && (!value || (value.is_list() && value.items().empty()))) continue;
        // A template used twice is checked twice: said once.
        const std::string w = slip.empty() ? value.where() + ": " + u.why + "; ignored"
                                           : value.where() + ": not a key the tool reads (did you mean '" + slip +
                                                 "'?), so what it says is not applied; ignored";
        if (std::find(out.warnings.begin(), out.warnings.end(), w) == out.warnings.end()) warn(w);
      }
    }
  }
  struct Unread {
    Node node;
    std::string why;
    std::vector<std::string> quiet;
  };
  std::vector<Unread> pending_;

  // The one document of `kind` among `docs`, by --name when several; refuses otherwise.
  // `other_kinds`: kinds of other tools found, each with the tool that reads it.
  Node pick(const std::vector<Node>& docs, const std::string& kind, const std::string& files,
            const std::vector<std::pair<std::string, std::string>>& other_kinds,
            const std::map<std::string, Node>& templates) {
    if (docs.empty() && !templates.empty()) {
      // Templates alone: the metrics are there, the steps that use them are not.
      std::string names;
      std::map<std::string, std::string> by_name;  // as the tool names them, not by kind
      for (const auto& [key, doc] : templates)
        by_name.emplace(doc["metadata"]["name"].text_or(key) + "\n" + key, doc.where());
      for (const auto& [name, where] : by_name)
        names += (names.empty() ? "" : ", ") + where + " (" + name.substr(0, name.find('\n')) + ")";
      refuse("no " + kind + " found in " + files + ", only the templates " + names + ": a template has no steps; "
             "import the " + kind + " that uses it, with it (canarysim import " + (kind == "Rollout" ? "argo" : "flagger") +
             " " + (kind == "Rollout" ? "rollout" : "canary") + ".yaml " + files + ")");
    }
    if (docs.empty()) {
      std::string held, tool;
      for (size_t i = 0; i < other_kinds.size(); ++i) {
        const std::string& k = other_kinds[i].first;
        const bool vowel = std::string("AEIOU").find(k[0]) != std::string::npos;
        held += std::string(i == 0 ? "" : " and ") + (vowel ? "an " : "a ") + k;
        tool = other_kinds[i].second;
      }
      refuse("no " + kind + " found in " + files +
             (held.empty() ? "; expected kind: " + kind : " (it holds " + held + ": use `import " + tool + "`)"));
    }
    std::vector<std::string> names;
    for (const Node& d : docs) names.push_back(d["metadata"]["name"].text_or("(unnamed)"));
    if (!opt.name.empty()) {
      for (size_t i = 0; i < docs.size(); ++i)
        if (names[i] == opt.name) return docs[i];
      refuse("no " + kind + " named '" + opt.name + "' in " + files + " (it holds: " + join(names) + ")");
    }
    if (docs.size() > 1)
      refuse(files + (files.find(", ") == std::string::npos ? " holds " : " hold ") + std::to_string(docs.size()) + " " + kind + "s (" + join(names) + "): pick one with --name");
    return docs.front();
  }
};

std::string files_text(const std::vector<std::string>& inputs) { return join(inputs); }

// The documents of the files given, sorted: those of `kind`, the templates of
// `template_kinds` by name, and the kinds another tool reads (for the wrong-tool hint);
// any other kind is warned about and ignored.
struct Documents {
  std::vector<Node> main;
  std::map<std::string, Node> templates;
  std::vector<std::pair<std::string, std::string>> other;  // kind, the tool that reads it
};

Documents sort_documents(Importer& im, const std::vector<std::string>& inputs, const std::string& kind,
                         std::initializer_list<const char*> template_kinds) {
  static const std::pair<const char*, const char*> kTools[] = {
      {"Rollout", "argo"}, {"AnalysisTemplate", "argo"}, {"ClusterAnalysisTemplate", "argo"},
      {"Canary", "flagger"}, {"MetricTemplate", "flagger"}};
  Documents out;
  auto held = [&](const std::string& k, const std::string& tool) {
    if (std::find(out.other.begin(), out.other.end(), std::make_pair(k, tool)) == out.other.end()) out.other.emplace_back(k, tool);
  };
  // kubectl's output of several objects (`kubectl get rollouts,analysistemplates -o yaml`)
  // is one List (or a RolloutList...) holding them under items.
  std::vector<Node> docs;
  for (const std::string& path : inputs)
    for (const Node& doc : load_documents(path)) {
      const std::string k = kind_of(doc);
      const bool list = k.size() >= 4 && k.compare(k.size() - 4, 4, "List") == 0 && doc["items"].is_list();
      for (const Node& item : list ? doc["items"].items() : std::vector<Node>{doc}) docs.push_back(item);
    }
  for (const Node& doc : docs) {
    const std::string k = kind_of(doc);
    const bool is_template = std::any_of(template_kinds.begin(), template_kinds.end(), [&](const char* t) { return k == t; });
    const auto tool = std::find_if(std::begin(kTools), std::end(kTools), [&](const auto& t) { return k == t.first; });
    if (k == kind) out.main.push_back(doc);
    else if (is_template)  // a cluster-scoped kind apart from the namespaced one of its name
      out.templates[(k == *template_kinds.begin() ? "" : k + "/") + doc["metadata"]["name"].text()] = doc;
    else if (tool != std::end(kTools)) held(k, tool->second);
    else if (doc.is_map() && doc["metrics"] && doc["classifier"]) held("Kayenta canary config", "kayenta");
    else if (!k.empty())
      im.warn(doc.where() + (std::strchr("AEIOU", k[0]) ? ": an " : ": a ") + k + " is not part of a rollout policy; ignored");
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Argo Rollouts: a Rollout and AnalysisTemplates, in any number of files and documents.

class ArgoImporter {
 public:
  ArgoImporter(Importer& im, std::map<std::string, Node> templates, Node rollout)
      : im_(im), rollout_(std::move(rollout)), templates_(std::move(templates)) {}

  // An analysis block (step, background, or blue/green pre/post) as canarysim template
  // references; empty when nothing in it could be kept. `version_service`: a name that
  // serves the new version alone when the analysis runs (blue/green's preview service
  // before the switch, its active service after), so a query that selects it names the
  // version.
  YAML::Node analysis(const Node& a, const std::string& version_service = "") {
    version_service_ = version_service;
    YAML::Node refs(YAML::NodeType::Sequence);
    std::vector<Node> items = a["templates"].items();
    if (a["templateName"]) items.push_back(a);  // the deprecated single-template form
    // measurementRetention: how many measurements Argo keeps for display.
    im_.unsupported(a, "not simulated", {"measurementRetention"});
    // The Rollout's arguments that give a value (Argo's MergeArgs passes over the others).
    std::map<std::string, std::string> args;
    for (const Node& arg : a["args"].items())
      if (arg["value"] || arg["valueFrom"]) args[arg["name"].text()] = arg_value(arg);
    check_run(a, items);
    std::vector<std::string> dry;
    for (const Node& d : a["dryRun"].items()) dry.push_back(d["metricName"].text());
    for (const Node& t : items) {
      const std::string name = t["templateName"].text();
      const std::string key = convert(name, t, args, dry);
      if (key.empty()) continue;
      YAML::Node ref;
      ref["templateName"] = key;
      refs.push_back(ref);
    }
    return refs;
  }
  YAML::Node templates() const { return out_; }

 private:
  // An argument's value: literal, the side a pod template hash names, or a field of the
  // Rollout's metadata (fieldRef: metadata.name, metadata.labels['app'], ...); "" when
  // unknown here (a secret, another field).
  std::string arg_value(const Node& arg) {
    if (arg["value"]) return arg["value"].text();
    const Node from = arg["valueFrom"];
    if (from["podTemplateHashValue"]) {
      const std::string v = from["podTemplateHashValue"].text();
      if (v == "Latest") return "{canary}";
      if (v == "Stable") return "{stable}";
    }
    const std::string path = from["fieldRef"]["fieldPath"].text_or("");
    const Node meta = rollout_["metadata"];
    if (path == "metadata.name" || path == "metadata.namespace") return meta[path.substr(9)].text_or("");
    for (const char* map : {"labels", "annotations"}) {
      const std::string open = "metadata." + std::string(map) + "['";
      if (path.rfind(open, 0) == 0 && path.size() > open.size() + 2 && path.compare(path.size() - 2, 2, "']") == 0)
        return meta[map][path.substr(open.size(), path.size() - open.size() - 2)].text_or("");
    }
    return "";
  }

  // The template a reference names: a ClusterAnalysisTemplate with clusterScope: true, an
  // AnalysisTemplate without; nullptr when the files hold neither. Argo looks up that kind
  // alone, so one of the other kind by the name makes the Rollout invalid: refused.
  static bool cluster_scoped(const Node& ref) { return ref["clusterScope"] && ref["clusterScope"].boolean(); }
  const Node* find_template(const Node& ref) {
    const std::string name = ref["templateName"].text();
    const bool cluster = cluster_scoped(ref);
    const std::string kind = cluster ? "ClusterAnalysisTemplate" : "AnalysisTemplate";
    if (const auto it = templates_.find(cluster ? kind + "/" + name : name); it != templates_.end()) {
      // An AnalysisTemplate is looked up in the Rollout's namespace (said when both write one).
      const Node has = it->second["metadata"]["namespace"], wants = rollout_["metadata"]["namespace"];
      if (!cluster && has && wants && has.text() != wants.text())
        im_.refuse(ref.where() + ": Argo looks up AnalysisTemplate " + name + " in the Rollout's namespace " +
                   wants.text() + " (" + wants.where() + "), and the one in the files is in " + has.text() + " (" +
                   has.where() + "): it finds none, so the Rollout is invalid (InvalidSpec) and never rolls out; "
                   "move the template, or make it a ClusterAnalysisTemplate (clusterScope: true)");
      return &it->second;
    }
    const auto other = templates_.find(cluster ? name : "ClusterAnalysisTemplate/" + name);
    if (other != templates_.end())
      im_.refuse(ref.where() + ": '" + name + "' is looked up as " + (cluster ? "a " : "an ") + kind +
                 (cluster ? " (clusterScope: true)" : " (no clusterScope: true)") + ", and the files hold " +
                 (cluster ? "an AnalysisTemplate" : "a ClusterAnalysisTemplate") + " of that name (" +
                 other->second.where() + "): Argo finds no template, so the Rollout is invalid (InvalidSpec) and "
                 "never rolls out; " + (cluster ? "remove clusterScope" : "add clusterScope: true"));
    return nullptr;
  }

  // A template converted under the given arguments and dry-run patterns; its key in the
  // policy's templates ("" when no metric could be kept).
  std::string convert(const std::string& name, const Node& ref, const std::map<std::string, std::string>& args,
                      const std::vector<std::string>& dry_patterns) {
    const Node* found = find_template(ref);
    if (!found) {
      im_.warn(ref.where() + ": no " + (cluster_scoped(ref) ? "ClusterAnalysisTemplate" : "AnalysisTemplate") +
               " named '" + name + "' in the files given; its metrics are not judged");
      return "";
    }
    const Node spec = (*found)["spec"];
    QueryContext ctx;
    ctx.latency = im_.opt.latency;
    ctx.canary_name = version_service_;
    std::vector<std::string> dry = dry_patterns;
    for (const Node& d : spec["dryRun"].items()) dry.push_back(d["metricName"].text());
    // Argo builds the run's arguments from the template's: each needs a value, from the
    // Rollout's analysis or the template, or the Rollout is invalid and never rolls out.
    declared_.clear();
    for (const Node& arg : spec["args"].items()) {
      const std::string arg_name = arg["name"].text();
      declared_.insert("args." + arg_name);
      if (!args.count(arg_name) && !arg["value"] && !arg["valueFrom"])
        im_.refuse(arg.where() + ": args." + arg_name + " was not resolved: AnalysisTemplate " + name +
                   " declares it with no value and the Rollout's analysis (" + ref.where() + ") gives it none; Argo "
                   "rejects such a Rollout (InvalidSpec), so it never rolls out; give the argument a value");
      std::string v = args.count(arg_name) ? args.at(arg_name) : arg_value(arg);
      if (!v.empty()) ctx.variables["args." + arg_name] = v;
    }
    // One converted template per distinct use: its arguments and dry-run patterns may
    // change what its metrics read and enforce.
    std::string signature = (cluster_scoped(ref) ? "ClusterAnalysisTemplate/" : "") + name;
    for (const auto& [k, v] : ctx.variables) signature += "\n" + k + "=" + v;
    for (const std::string& d : dry_patterns) signature += "\ndryRun:" + d;
    signature += "\nversion service:" + version_service_;
    if (done_.count(signature)) return done_[signature];
    std::string key = name;
    for (int n = 2; out_[key]; ++n) key = name + "-" + std::to_string(n);
    const std::string& done_key = signature;
    im_.unsupported(spec, "not simulated", {"measurementRetention"});
    YAML::Node metrics(YAML::NodeType::Sequence);
    for (const Node& m : spec["metrics"].items()) {
      YAML::Node o = metric(m, ctx, dry);
      if (o.IsDefined() && !o.IsNull()) metrics.push_back(o);
    }
    if (metrics.size() == 0) {
      im_.warn(found->where() + ": " + kind_of(*found) + " " + name + ": no metric could be kept; the analysis is dropped");
      return done_[done_key] = "";
    }
    out_[key]["metrics"] = metrics;
    return done_[done_key] = key;
  }

  // A metricName rule (dryRun, measurementRetention) as Argo matches it: a Go regexp found
  // anywhere in the name (regexp.MatchString). nullopt, with why, when canarysim cannot
  // match it as Go would; `go_rejects`: Go does not compile it either (a backreference or
  // a lookaround, which RE2 lacks). Polynomial: libstdc++'s automaton, not its
  // backtracking, which a pattern such as l*l*l*...x takes exponential time on.
  static std::optional<std::regex> go_regex(std::string p, std::string* why, bool* go_rejects) {
    *go_rejects = false;
    static const std::regex unsupported(R"(\\[1-9]|\(\?<?[=!])");
    if (p.size() > 256) {
      *why = "longer than 256 characters";
      return std::nullopt;
    }
    if (std::regex_search(p, unsupported)) {
      *go_rejects = true;
      *why = "not a pattern Go's regexp compiles (a backreference or a lookaround)";
      return std::nullopt;
    }
    auto flags = std::regex::ECMAScript | std::regex_constants::__polynomial;
    // Go's leading flag group: i is the one that changes what a name matches.
    static const std::regex flag_group(R"(^\(\?([imsU]+)\))");
    if (std::smatch f; std::regex_search(p, f, flag_group) && f[1].length() > 0) {
      if (f[1].str().find('i') != std::string::npos) flags |= std::regex::icase;
      p.erase(0, f[0].length());
    }
    try {
      return std::regex(p, flags);
    } catch (const std::regex_error&) {
      *why = "a pattern canarysim cannot read as Go's regexp does";
      return std::nullopt;
    }
  }
  static bool dry_run(const std::string& metric, const std::vector<std::string>& patterns) {
    bool rejects = false;
    std::string why;
    for (const std::string& p : patterns)
      if (const auto re = go_regex(p, &why, &rejects); re && std::regex_search(metric, *re)) return true;
    return false;
  }

  // Argo runs an analysis's templates as one AnalysisRun: every template's metrics and
  // arguments, and the metricName rules of the Rollout's analysis and of each template.
  // An argument two templates value differently, or a rule two entries repeat, makes the
  // Rollout invalid; a rule that matches none of the metrics (or that Go does not
  // compile) ends the run in Error at its start, which aborts the rollout at every
  // release. Either way no release would pass, so import refuses, naming the input.
  // Unchecked when a template is missing (its metrics are unknown).
  void check_run(const Node& a, const std::vector<Node>& refs) {
    std::vector<std::string> metrics;
    std::vector<Node> specs;
    std::map<std::string, Node> valued;  // each argument's first value among the templates
    for (const Node& t : refs) {
      const Node* found = find_template(t);
      if (!found) return;
      specs.push_back((*found)["spec"]);
      for (const Node& m : specs.back()["metrics"].items()) metrics.push_back(m["name"].text_or(""));
      for (const Node& arg : specs.back()["args"].items()) {
        const Node v = arg["value"];
        if (!v) continue;
        const auto [first, fresh] = valued.emplace(arg["name"].text_or(""), v);
        if (!fresh && first->second.text() != v.text())
          im_.refuse(v.where() + ": argument " + first->first + " is '" + v.text().substr(0, 60) + "' here and '" +
                     first->second.text().substr(0, 60) + "' at " + first->second.where() + ", two templates of one "
                     "analysis: Argo refuses to merge them (\"specified multiple times with different values\"), so "
                     "the Rollout is invalid and never rolls out");
      }
    }
    for (const char* kind : {"dryRun", "measurementRetention"}) {
      std::vector<Node> rules = a[kind].items();
      for (const Node& spec : specs)
        for (const Node& r : spec[kind].items()) rules.push_back(r);
      std::map<std::string, std::string> seen;
      for (const Node& r : rules) {
        const Node n = r["metricName"];
        const std::string p = n.text_or("");
        const std::string head = n.where() + ": '" + p.substr(0, 80) + "'";
        if (const auto [it, fresh] = seen.emplace(p, n.where()); !fresh)
          im_.refuse(head + " is a second " + kind + " rule for the same name (the first at " + it->second +
                     "); Argo refuses to merge them, so the analysis never runs and the release never passes it");
        std::string why;
        bool go_rejects = false;
        const auto re = go_regex(p, &why, &go_rejects);
        if (!re && !go_rejects)
          im_.refuse(head + " is " + why + ", so which metrics it marks is unknown here (a " + kind +
                     " rule that matches none ends Argo's AnalysisRun in Error)");
        const bool matches = re && std::any_of(metrics.begin(), metrics.end(),
                                               [&](const std::string& m) { return std::regex_search(m, *re); });
        if (!matches)
          im_.refuse(head + (re ? " matches none of the analysis's metrics" : " is " + why) + ": Argo ends the "
                     "AnalysisRun in Error at its start (\"Analysis spec invalid: " + kind + "[...]: Rule didn't "
                     "match any metric name(s)\"), which aborts the rollout at every release; name a metric of "
                     "the analysis, or remove the rule");
      }
    }
  }

  // A whole number field, substituting arguments; Argo's default when unknown.
  std::optional<int> whole(const Node& n, const QueryContext& ctx) {
    if (!n) return std::nullopt;
    const std::string s = n.text();
    if (s.find("{{") != std::string::npos) {
      const std::string filled = substitute(s, ctx);
      int v = 0;
      const auto [end, ec] = std::from_chars(filled.data(), filled.data() + filled.size(), v);
      if (ec == std::errc() && end == filled.data() + filled.size() && v >= 0) return v;
      im_.warn(n.where() + ": '" + s + "' is an argument with no whole-number value in the files; Argo's default is used");
      return std::nullopt;
    }
    return n.whole();
  }

  // Argo fills a metric's {{args.NAME}} (spaces trimmed) from the run's arguments, the
  // template's declared ones only, and fails on any other {{...}} (fasttemplate's, with no
  // escape): the run ends in Error at its start, which aborts the rollout at every release.
  void check_tags(const Node& n) {
    if (n.is_list())
      for (const Node& item : n.items()) check_tags(item);
    if (n.is_map())
      for (const auto& [key, value] : n.look()) check_tags(value);
    if (!n.is_text()) return;
    const std::string s = n.text();
    for (size_t open = s.find("{{"), close = 0; open != std::string::npos; open = s.find("{{", close + 2)) {
      close = s.find("}}", open + 2);
      if (close == std::string::npos)
        im_.refuse(n.where() + ": '" + s.substr(open, 40) + "' opens a {{ with no }}: Argo cannot parse the "
                   "metric's template, so its AnalysisRun ends in Error at its start, which aborts every rollout");
      std::string tag = s.substr(open + 2, close - open - 2);
      tag.erase(0, tag.find_first_not_of(" \t\r\n"));
      tag.erase(tag.find_last_not_of(" \t\r\n") + 1);
      if (declared_.count(tag)) continue;
      // (A Helm directive, {{ .Values.x }}, was refused with the file: helm_directive.)
      im_.refuse(n.where() + ": {{" + s.substr(open + 2, std::min<size_t>(close - open - 2, 60)) + "}} " +
                 (tag.rfind("args.", 0) == 0     ? "names an argument the template does not declare"
                  : tag.rfind("inputs.", 0) == 0 ? "is an argument by its name before Argo Rollouts 0.6 (spec.inputs); "
                                                   "Argo reads args.NAME"
                                                 : "is not an argument ({{args.NAME}})") +
                 ": Argo fails to resolve it (\"failed to resolve {{" + tag.substr(0, 60) + "}}\"), so the AnalysisRun "
                 "ends in Error at its start, which aborts the rollout at every release; declare it in the "
                 "template's args, or write its value");
    }
  }

  YAML::Node metric(const Node& m, const QueryContext& ctx, const std::vector<std::string>& dry) {
    check_tags(m);
    const std::string name = m["name"].text();
    const std::string where = m.where() + " (metric " + name + ")";
    // The provider's query.
    std::string dialect, query;
    Node qnode, provider_node;
    // Argo's ValidateMetric: exactly one provider, else the run ends in Error at its start.
    if (const auto providers = m["provider"].look(); providers.size() != 1)
      im_.refuse(where + ": " +
                 (providers.empty() ? std::string("no provider")
                                    : std::to_string(providers.size()) + " providers (" + providers[0].first + ", " +
                                          providers[1].first + (providers.size() > 2 ? ", ..." : "") + ")") +
                 ": Argo's AnalysisRun ends in Error at its start (\"" +
                 (providers.empty() ? "no provider specified" : "multiple providers specified") +
                 "\"), which aborts the rollout at every release; give the metric one provider");
    for (const auto& [provider, p] : m["provider"].entries()) {
      provider_node = p;
      if (provider == "prometheus") dialect = "prometheus", qnode = p["query"];
      else if (provider == "datadog") dialect = "datadog", qnode = p["query"];
      else if (provider == "newRelic") dialect = "newrelic", qnode = p["query"];
      else {
        im_.warn(where + ": provider " + provider + " is not read by canarysim (it reads prometheus, datadog and "
                 "newRelic queries); metric dropped");
        return YAML::Node();
      }
    }
    if (dialect.empty() || !qnode.is_text()) {
      im_.warn(where + ": no provider query; metric dropped");
      return YAML::Node();
    }
    const QueryMeaning meaning = im_.read(qnode.text(), dialect, ctx, qnode);
    if (!meaning.ok) {
      im_.warn(where + ": its query (" + qnode.where() + ") was not read: " + meaning.why + "; metric dropped");
      return YAML::Node();
    }
    // What Argo's `result` is for this provider and query.
    const ResultShape shape = dialect == "datadog" ? ResultShape::kScalar
                              : dialect == "newrelic" ? ResultShape::kMap
                              : meaning.scalar      ? ResultShape::kScalar
                                                    : ResultShape::kVector;
    // And what it is when the query finds nothing: nil, but NaN from PromQL's scalar().
    const bool nan_when_empty = dialect == "prometheus" && meaning.scalar;
    const std::optional<double> empty =
        nan_when_empty ? std::optional<double>(std::numeric_limits<double>::quiet_NaN()) : std::nullopt;
    YAML::Node o;
    o["name"] = name;
    // Argo fills {{args.*}} anywhere in a metric: in durations and conditions too.
    auto filled = [&](const char* key, const std::string& text) -> std::optional<std::string> {
      const std::string out = substitute(text, ctx);
      if (out.find("__var_") == std::string::npos) return out;
      im_.warn(m[key].where() + ": '" + text + "' uses an argument with no value in the files given; metric dropped");
      return std::nullopt;
    };
    for (const char* key : {"interval", "initialDelay"})
      if (m[key]) {
        // Go's time.ParseDuration, which Argo reads these with, wants a unit ("60" is no
        // duration, unlike a pause's seconds): the run ends in Error at its start.
        if (const std::string t = m[key].text(); t != "0" && !t.empty() && std::all_of(t.begin(), t.end(), ::isdigit))
          im_.refuse(m[key].where() + ": " + key + " " + t + " has no unit, and Argo reads it with Go's "
                     "time.ParseDuration (\"missing unit in duration\"), so the AnalysisRun ends in Error at its "
                     "start, which aborts the rollout at every release; write " + t + "s");
        if (const auto d = filled(key, duration_text(m[key]))) o[key] = *d;
        else return YAML::Node();  // a metric whose schedule is unknown is not simulated
      }
    if (m["failureLimit"] && m["failureLimit"].text() == "-1") {
      // Argo 1.8: no limit on failures, the metric left to consecutiveSuccessLimit.
      im_.warn(m["failureLimit"].where() + ": failureLimit -1 leaves metric " + name + " to consecutiveSuccessLimit, "
               "which canarysim does not simulate; metric dropped");
      return YAML::Node();
    }
    for (const char* key : {"count", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit"})
      if (const auto v = whole(m[key], ctx)) o[key] = *v;
    // `muted: true`, which some teams' tooling adds, reads as a dry run: observed, never enforced.
    const bool is_dry = dry_run(name, dry) || (m["muted"] && m["muted"].boolean());
    bool errs_on_no_data = false;  // a condition Argo cannot evaluate on an empty result
    std::optional<bool> succeeds_on_no_data, fails_on_no_data;  // each condition, when evaluated
    for (const char* key : {"successCondition", "failureCondition"}) {
      if (!m[key]) continue;
      const auto condition = filled(key, m[key].text());
      if (!condition) return YAML::Node();
      const std::string& text = *condition;
      std::string error;
      const auto e = Expression::parse(text, &error);
      if (!e) {
        // An unquoted YAML value ends at " #", which starts a comment: all(result, # < 1).
        const bool cut = error.rfind("unexpected end", 0) == 0;
        im_.warn(m[key].where() + ": '" + text + "' is not a condition canarysim evaluates (" + error + ")" +
                 (cut ? "; if it goes on past a ' #', YAML read the rest as a comment: quote the condition" : "") +
                 "; metric dropped");
        return YAML::Node();
      }
      o[key] = text;
      if (e->quantifies() && !meaning.series.empty())
        im_.warn(m[key].where() + ": '" + text + "' judges each of the query's series, one for each " + meaning.series +
                 ", not one of them: all() and none() fail the measurement when one " + meaning.series +
                 "'s figure does, any() and one() pass it when one passes, so the real check fails more often (all, "
                 "none) or less often (any, one) than canarysim's, which judges each version's whole traffic as one "
                 "series");
      if (nan_when_empty && e->takes_extremes())
        im_.warn(m[key].where() + ": '" + text + "' calls min() or max(), and scalar() of no data is NaN, whose "
                 "extreme canarysim takes to be NaN (expr-lang's may be the other operand): check it on no data");
      const std::optional<double> on_empty = e->evaluate(empty, shape);
      errs_on_no_data |= !on_empty;
      const bool failure = std::string(key) == "failureCondition";
      if (on_empty) (failure ? fails_on_no_data : succeeds_on_no_data) = *on_empty != 0;
      auto source = [&](const char* outcome) {
        return m[key].where() + ": " + name + outcome + ", query at " + qnode.where();
      };
      std::string why;
      // A failure condition keeps its complement; a failed evaluation holds neither.
      const auto rules = condition_rules([&](double x) { return e->holds(x, shape) != failure; }, text, &why);
      // Values at which Argo fails to evaluate the condition: reads of a form the
      // provider's result does not have, or past its one series.
      std::string unused;
      const auto errs = condition_rules([&](double x) { return !e->evaluate(x, shape); }, text, &unused);
      const bool always = errs.empty() && !e->evaluate(0.0, shape);  // no boundary, and errs: everywhere
      if (!errs.empty() || always) {
        if (e->reads_past_one_series() && !meaning.series.empty()) {
          // Argo's result is the query's series; canarysim's measurement is the version's one.
          im_.warn(m[key].where() + ": '" + text + "' reads a second series, and the query returns one for each " +
                   meaning.series + "; canarysim measures each version as one series; metric dropped");
          return YAML::Node();
        }
        im_.warn(m[key].where() + ": '" + text + "' " + misread(*e, shape, dialect) + " (query at " + qnode.where() +
                 "): in Argo, as in the imported policy, a measurement whose evaluation reaches that read is an "
                 "Error, and Errors beyond consecutiveErrorLimit in a row end the analysis in Error, which aborts "
                 "the rollout");
        if (!is_dry && always) im_.state(rule_subject(meaning) + " is an Error at every value", source(" errs"));
        for (const auto& [op, x] : errs)
          if (!is_dry) im_.rule(meaning, op, x, source(" errs"), " is an Error");
      } else if (rules.empty()) {
        im_.warn(m[key].where() + ": '" + text + "' " + why);
      }
      if (is_dry) continue;
      for (const auto& [op, x] : rules) im_.rule(meaning, op, x, source(failure ? " fails otherwise" : ""));
    }
    if (!m["successCondition"] && !m["failureCondition"])
      im_.warn(where + ": no successCondition or failureCondition: every measurement succeeds");
    // A query with no data until the canary's first failure, and a condition that errs on
    // no data: Argo errs at each measurement until then, where canarysim reads 0.
    if (!meaning.sparse.empty() && errs_on_no_data)
      im_.warn(qnode.where() + ": " + sparse_series(meaning) + "; Argo's result is then empty and the conditions "
               "err (each measurement an Error, argo-rollouts#1466), where canarysim reads a rate of 0; guard "
               "with `len(result) == 0 || ...` or add `or on() vector(0)` to the query to match");
    // scalar() of nothing is NaN, which comparisons do not hold, phased as Argo phases it.
    const Measured on_nan = measured(succeeds_on_no_data, fails_on_no_data);
    if (!meaning.sparse.empty() && nan_when_empty && !errs_on_no_data && on_nan != Measured::kSuccessful)
      im_.warn(qnode.where() + ": " + sparse_series(meaning) + "; scalar() of no data is NaN, on which the "
               "conditions make each measurement " + (on_nan == Measured::kFailed ? "Failed" : "Inconclusive") + ", where canarysim "
               "reads a rate of 0; guard with `isNaN(result) || ...` or add `or on() vector(0)` inside scalar() to match");
    if (is_dry) {
      o["dryRun"] = true;
      im_.warn(where + ": dryRun: measured and reported, never enforced");
    }
    o["provider"]["query"] = meaning.metric;
    if (meaning.version != "canary") o["provider"]["version"] = meaning.version;
    if (meaning.scale != 1) o["provider"]["scale"] = meaning.scale;
    if (meaning.window_s > 0) o["provider"]["window"] = number_text(meaning.window_s) + "s";
    o["provider"]["result"] = shape_name(shape);
    if (nan_when_empty) o["provider"]["no_data"] = "nan";
    // What a kept metric says and import did not read. The provider's connection
    // (address, credentials, timeout) cannot change what a query measures.
    im_.unsupported(m);
    im_.unsupported(provider_node, "not read: the imported check measures the metric over the window it states",
                    {"address", "timeout", "insecure", "headers", "authentication", "profile", "apiVersion"});
    return o;
  }

  Importer& im_;
  Node rollout_;
  std::string version_service_;  // of the analysis being converted
  std::set<std::string> declared_;  // the converted template's arguments, as args.NAME
  std::map<std::string, Node> templates_;
  std::map<std::string, std::string> done_;
  YAML::Node out_{YAML::NodeType::Map};
};

// Argo's validation of a Rollout's strategy (ValidateRolloutStrategy in argo-rollouts'
// pkg/apis/rollouts/validation): a Rollout it finds invalid is marked InvalidSpec and never
// rolls out, so import refuses it where written rather than simulate a rollout that does
// not happen. The checks here decide whether the strategy runs at all; the pod template's
// are not read.
void check_argo_strategy(Importer& im, const Node& strategy) {
  auto invalid = [&](const Node& at, const std::string& what, const std::string& argo) {
    im.refuse(at.where() + ": " + what + ": Argo's validation marks the Rollout InvalidSpec (\"" + argo +
              "\"), so it never rolls out");
  };
  const Node canary = strategy.peek("canary"), blue = strategy.peek("blueGreen");
  if (canary && blue) invalid(strategy, "both canary and blueGreen", "Multiple Strategies can not be listed");
  if (blue) {
    const Node active = blue.peek("activeService"), preview = blue.peek("previewService");
    if (active && preview && active.text() == preview.text())
      invalid(preview, "the preview service is the active one",
              "This rollout uses the same service for the active and preview services");
  }
  if (!canary) return;
  const Node routing = canary.peek("trafficRouting");
  const auto routed_by = [&](std::initializer_list<const char*> routers) {
    return std::any_of(routers.begin(), routers.end(), [&](const char* r) { return bool(routing.peek(r)); });
  };
  const Node canary_service = canary.peek("canaryService"), stable_service = canary.peek("stableService");
  if (canary_service && stable_service && canary_service.text() == stable_service.text())
    invalid(stable_service, "the stable service is the canary's",
            "This rollout uses the same service for the stable and canary services");
  // These routers route between two Services, which the Rollout must name.
  const bool two_services = (routing.peek("alb") && !canary.peek("pingPong")) ||
                            (routing.peek("istio") && !routing.peek("istio").peek("destinationRule")) ||
                            routed_by({"smi", "apisix", "ambassador", "nginx", "appMesh", "traefik"});
  if (two_services && (!canary_service || !stable_service))
    invalid(routing, std::string("this router shifts traffic between canaryService and stableService, and ") +
                         (canary_service ? "stableService" : "canaryService") + " is not given",
            "Canary service and Stable service must to be set to use Traffic Routing");
  const Node delay = canary.peek("scaleDownDelaySeconds"), dynamic = canary.peek("dynamicStableScale");
  const bool is_dynamic = dynamic && dynamic.is_text() && dynamic.text() == "true";
  if (!routing && (delay || is_dynamic))
    invalid(delay ? delay : dynamic, std::string(delay ? "scaleDownDelaySeconds" : "dynamicStableScale") +
                                         " without trafficRouting",
            "Canary " + std::string(delay ? "scaleDownDelaySeconds" : "dynamicStableScale") +
                " can only be used with traffic routing");
  if (routing && delay && is_dynamic)
    invalid(dynamic, "dynamicStableScale with scaleDownDelaySeconds",
            "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds");
  static const char* const kActions[] = {"setWeight",      "pause",          "experiment",     "analysis",
                                         "setCanaryScale", "setHeaderRoute", "setMirrorRoute", "plugin"};
  const Node managed = routing.peek("managedRoutes");
  for (const Node& step : canary.peek("steps").is_list() ? canary.peek("steps").items() : std::vector<Node>{}) {
    if (!step.is_map()) continue;  // the step loop says what a step must be
    std::vector<std::string> actions, nulls;  // action keys with a value, and set to nothing
    for (const auto& entry : step.look())  // (clang cannot capture a structured binding)
      if (std::find_if(std::begin(kActions), std::end(kActions), [&](const char* a) { return entry.first == a; }) !=
          std::end(kActions))
        (entry.second ? actions : nulls).push_back(entry.first);
    if (actions.size() > 1)
      invalid(step, "a step with " + std::to_string(actions.size()) + " actions (" + actions[0] + ", " + actions[1] +
                        (actions.size() > 2 ? ", ..." : "") + ")",
              "Step must have one of the following set: experiment, setWeight, setCanaryScale or pause");
    // `- pause:` is a null pause, not an empty one: the API server prunes a null from a
    // field its CRD does not mark nullable (and Go would read it as no pause anyway), so
    // Argo sees a step with no action.
    if (actions.empty() && !nulls.empty())
      invalid(step, "a step whose only action, " + nulls.front() + ", is null (`- " + nulls.front() +
                        ":` with no value: the API server drops it, leaving an empty step" +
                        (nulls.front() == "pause" ? "; `- pause: {}` pauses until promoted" : "") + ")",
              "Step must have one of the following set: experiment, setWeight, setCanaryScale or pause");
    if (actions.empty() && nulls.empty()) {
      const std::string key = step.look().empty() ? "" : step.look().front().first;
      const std::string slip = nearest(key, std::vector<std::string>(std::begin(kActions), std::end(kActions)), 2);
      invalid(step, key.empty() ? std::string("an empty step")
                                : "a step with none of Argo's actions (it has " + key +
                                      (slip.empty() ? "" : ": did you mean " + slip + "?") +
                                      "; Argo's are setWeight, pause, analysis, experiment, setCanaryScale, "
                                      "setHeaderRoute, setMirrorRoute, plugin)",
              "Step must have one of the following set: experiment, setWeight, setCanaryScale or pause");
    }
    if (step.peek("setCanaryScale") && !routing)
      invalid(step.peek("setCanaryScale"), "setCanaryScale without trafficRouting",
              "SetCanaryScale requires TrafficRouting to be set");
    if (step.peek("setHeaderRoute") && !routed_by({"istio", "alb", "apisix", "plugins"}))
      invalid(step.peek("setHeaderRoute"), "setHeaderRoute without an Istio, ALB, APISIX or plugin router",
              "SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix");
    if (step.peek("setMirrorRoute") && !routed_by({"istio"}))
      invalid(step.peek("setMirrorRoute"), "setMirrorRoute without an Istio router",
              "SetMirrorRoute requires TrafficRouting, supports Istio only");
    for (const char* route : {"setHeaderRoute", "setMirrorRoute"}) {
      const Node r = step.peek(route);
      if (!r) continue;
      if (!managed)
        invalid(r, std::string(route) + " without trafficRouting.managedRoutes",
                "spec.strategy.canary.trafficRouting.managedRoutes is required");
      const std::string name = r.peek("name").text_or("");
      const auto items = managed.is_list() ? managed.items() : std::vector<Node>{};
      if (std::none_of(items.begin(), items.end(), [&](const Node& m) { return m.peek("name").text_or("") == name; }))
        invalid(r, "route '" + name + "' is not among trafficRouting.managedRoutes",
                "Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes.routes");
    }
  }
}

Imported import_argo(const std::vector<std::string>& inputs, const ImportOptions& opt) {
  Importer im(opt);
  const Documents docs = sort_documents(im, inputs, "Rollout", {"AnalysisTemplate", "ClusterAnalysisTemplate"});
  const std::vector<Node>& rollouts = docs.main;
  const std::map<std::string, Node>& templates = docs.templates;
  const auto& other = docs.other;
  const Node rollout = im.pick(rollouts, "Rollout", files_text(inputs), other, templates);
  const Node strategy = rollout["spec"]["strategy"];
  check_argo_strategy(im, strategy);
  if (const Node paused = rollout["spec"]["paused"]; paused && paused.boolean())
    im.warn(paused.where() + ": true: Argo does not advance the rollout while it is set; imported as if false");
  ArgoImporter argo(im, templates, rollout);
  YAML::Node out;
  out["kind"] = "argo";
  YAML::Node steps(YAML::NodeType::Sequence);
  auto add_analysis_step = [&](const Node& a, const std::string& version_service = "") {
    // A step (or blue/green) analysis with no templates still gets an AnalysisRun, with no
    // metrics, which Argo's analysis controller ends in Error (ValidateMetrics). (A
    // background one without templates runs nothing, and is not refused.)
    if (!a.peek("templateName") && a.peek("templates").is_list() && a.peek("templates").items().empty())
      im.refuse(a["templates"].where() + ": an analysis with no templates: Argo creates its AnalysisRun with no "
                "metrics, which its analysis controller ends in Error (\"no metrics specified\"), so the rollout "
                "aborts here at every release; name a template, or remove the step");
    const YAML::Node refs = argo.analysis(a, version_service);
    if (refs.size() == 0) return;
    YAML::Node step;
    step["analysis"]["templates"] = refs;
    steps.push_back(step);
  };
  if (const Node canary = strategy["canary"]) {
    im.unsupported(strategy);
    im.unsupported(canary, "not simulated (canarysim routes by weight with sticky users)");
    im.note(kPerRequestRouting + std::string("Argo's"));
    // setWeight counts units of trafficRouting.maxTrafficWeight (default 100: percent).
    // Only when it is given is trafficRouting read, and then its other keys are said.
    double max_weight = 100;
    if (canary.peek("trafficRouting").peek("maxTrafficWeight")) {
      const Node max = canary["trafficRouting"]["maxTrafficWeight"];
      const int m = max.whole();
      if (m < 1) max.fail("a whole number of at least 1");
      max_weight = m;
      im.unsupported(canary["trafficRouting"], "not simulated (canarysim routes by weight with sticky users)");
      if (m != 100)
        im.note("maxTrafficWeight " + std::to_string(m) + " (" + max.where() + "): setWeight counts parts of " +
                std::to_string(m) + " of the traffic, so the weights below, in percent, are the Rollout's times 100/" +
                std::to_string(m));
    }
    // For each of the Rollout's steps, how many imported steps come before it: steps are
    // dropped (setHeaderRoute) or split (an experiment's analyses), and startingStep counts
    // the Rollout's.
    std::vector<size_t> imported_before;
    for (const Node& s : canary["steps"].items()) {
      imported_before.push_back(steps.size());
      if (!s.is_map()) s.fail("a step (a mapping such as {setWeight: 20})");
      YAML::Node step;
      if (s["setWeight"]) {
        const double w = s["setWeight"].number();
        if (!(w >= 0 && w <= max_weight))
          s["setWeight"].fail("a weight in [0, " + number_text(max_weight) + "] (maxTrafficWeight: " + number_text(max_weight) + ")");
        if (w != std::floor(w))
          im.warn(s["setWeight"].where() + ": " + number_text(w) + " is not a whole number, and Argo's setWeight is one "
                  "(the API server refuses the Rollout); read as written");
        step["setWeight"] = w * 100 / max_weight;
      } else if (s["pause"]) {
        im.unsupported(s["pause"]);
        YAML::Node pause(YAML::NodeType::Map);
        if (s["pause"].is_map() && s["pause"]["duration"]) pause["duration"] = duration_text(s["pause"]["duration"]);
        else im.warn(s.where() + ": a pause without a duration waits for a person: the simulated rollout stops there, unfinished");
        step["pause"] = pause;
      } else if (s["analysis"]) {
        add_analysis_step(s["analysis"]);
        continue;
      } else if (s["setMirrorRoute"]) {
        const Node r = s["setMirrorRoute"];
        im.unsupported(r, "not simulated", {"name"});  // the mesh route's name
        if (!r["match"] && !r["percentage"]) {
          step["setMirrorRoute"]["percentage"] = 0;  // a route without match removes the mirror
        } else {
          step["setMirrorRoute"]["percentage"] = r["percentage"] ? r["percentage"].number() : 100.0;
          if (r["match"]) im.warn(r["match"].where() + ": mirrors the matched requests; canarysim mirrors that share of all traffic");
        }
      } else if (s["setCanaryScale"]) {
        const Node c = s["setCanaryScale"];
        im.unsupported(c);
        if (c["matchTrafficWeight"] && c["matchTrafficWeight"].boolean()) {
          step["setCanaryScale"]["matchTrafficWeight"] = true;
        } else if (c["weight"]) {
          step["setCanaryScale"]["weight"] = c["weight"].number();
        } else if (c["replicas"]) {
          // Argo's replicas are of spec.replicas; canarysim sizes the pool by fleet share.
          const Node total = rollout["spec"]["replicas"];
          if (!total) {
            im.warn(c["replicas"].where() + ": replicas without spec.replicas: no share of the fleet to size the "
                    "canary pool for; step dropped");
            continue;
          }
          const double share = 100.0 * c["replicas"].number() / std::max(1.0, total.number());
          step["setCanaryScale"]["weight"] = std::min(100.0, share);
          im.warn(c.where() + ": " + number_text(c["replicas"].number()) + " of spec.replicas " + number_text(total.number()) +
                  ": the canary pool is sized for " + number_text(std::min(100.0, share)) + " % of the scenario's fleet");
        } else {
          im.warn(c.where() + ": neither replicas, weight nor matchTrafficWeight; step dropped");
          continue;
        }
      } else if (s["setHeaderRoute"]) {
        im.warn(s.where() + ": setHeaderRoute sends requests by header; canarysim routes by weight; step dropped");
        continue;
      } else if (s["experiment"]) {
        const Node e = s["experiment"];
        if (e["analyses"]) {
          YAML::Node refs(YAML::NodeType::Sequence);
          for (const Node& an : e["analyses"].items()) add_analysis_step(an);
          im.warn(s.where() + ": experiment: its variants' own ReplicaSets are not simulated; its analyses judge the canary");
        } else {
          im.warn(s.where() + ": experiment without analyses: nothing canarysim judges; step dropped");
        }
        continue;
      } else {
        const auto e = s.entries();
        im.warn(s.where() + ": " + (e.empty() ? std::string("an empty step") : e.front().first) + " is not simulated; step dropped");
        continue;
      }
      // A kept step: what else it says (a key no step has, a slip in a key) is said.
      im.unsupported(s);
      steps.push_back(step);
    }
    imported_before.push_back(steps.size());  // past the last step
    if (const Node bg = canary["analysis"]) {
      const Node start = bg["startingStep"];
      const YAML::Node refs = argo.analysis(bg);
      if (refs.size() > 0) {
        out["analysis"]["templates"] = refs;
        if (start) {
          const int k = start.whole();
          if (k < 0 || static_cast<size_t>(k) >= imported_before.size())
            start.fail("a step of the Rollout's, in [0, " + std::to_string(imported_before.size() - 1) + "]");
          const size_t at = imported_before[static_cast<size_t>(k)];
          out["analysis"]["startingStep"] = at;
          if (at != static_cast<size_t>(k))  // the same moment of the rollout: said, not warned
            im.note("startingStep " + std::to_string(k) + " (" + start.where() + ") is step " + std::to_string(at) +
                    " of the steps below (steps before it were dropped or split): the background analysis starts at "
                    "the same point of the rollout as in Argo");
        }
      }
    }
  } else if (const Node bg = strategy["blueGreen"]) {
    im.unsupported(strategy);
    // How long the old stack is kept, and the preview's size: no user's request depends on them.
    im.unsupported(bg, "not simulated", {"scaleDownDelaySeconds", "previewReplicaCount", "abortScaleDownDelaySeconds",
                                         "scaleDownDelayRevisionLimit"});
    // The preview stack serves no users: canarysim validates it on shadow traffic.
    YAML::Node mirror;
    mirror["setMirrorRoute"]["percentage"] = 100;
    steps.push_back(mirror);
    im.warn(bg.where() + ": blueGreen: the preview is judged on shadow copies of live traffic (Argo's preview "
            "service serves only whoever calls it)");
    if (const Node pre = bg["prePromotionAnalysis"]) add_analysis_step(pre, bg["previewService"].text_or(""));
    const bool auto_promote = !bg["autoPromotionEnabled"] || bg["autoPromotionEnabled"].boolean();
    YAML::Node pause;
    if (!auto_promote) {
      pause["pause"] = YAML::Node(YAML::NodeType::Map);
      im.warn(bg["autoPromotionEnabled"].where() + ": false: promotion waits for a person; the simulated rollout stops there, unfinished");
      steps.push_back(pause);
    } else if (bg["autoPromotionSeconds"]) {
      pause["pause"]["duration"] = std::to_string(bg["autoPromotionSeconds"].whole()) + "s";
      steps.push_back(pause);
    }
    YAML::Node off, full;
    off["setMirrorRoute"]["percentage"] = 0;
    full["setWeight"] = 100;
    steps.push_back(off);
    steps.push_back(full);
    if (const Node post = bg["postPromotionAnalysis"]) {
      add_analysis_step(post, bg["activeService"].text_or(""));
      im.warn(post.where() + ": after the switch, a failed analysis switches back at once (scaleDownDelaySeconds keeps "
              "the old stack; canarysim's rollback is instant)");
    }
  } else {
    im.refuse(strategy.where() + ": expected a canary or blueGreen strategy");
  }
  if (steps.size() == 0) im.refuse(strategy.where() + ": no step canarysim can simulate");
  out["steps"] = steps;
  // What Argo has no field for, as canarysim export-policy writes it.
  const Node notes = rollout["metadata"]["annotations"];
  if (notes["canarysim.io/tick"]) out["tick"] = notes["canarysim.io/tick"].text();
  if (notes["canarysim.io/rollback-drain"]) out["rollback_drain"] = notes["canarysim.io/rollback-drain"].text();
  const YAML::Node t = argo.templates();
  if (t.size() > 0) out["templates"] = t;
  return im.finish("Argo Rollouts (" + rollout.where() + ")", out);
}

// ---------------------------------------------------------------------------------
// Flagger: a Canary, and MetricTemplates for its custom metrics.

// Flagger renders a MetricTemplate's query with Go's text/template and these functions
// (MetricTemplateModel.TemplateFunctions) besides Go's own. Any other name fails the
// parse ("function \"workload\" not defined"), and a variables key the metric does not
// give renders as "<no value>": either way every check of the metric fails, so the
// canary rolls back at every release. Refused, naming the query. (A Helm directive was
// refused with the file: helm_directive.)
void check_flagger_template(Importer& im, const Node& query, const Node& variables) {
  static const std::set<std::string, std::less<>> kKnown = {
      "name", "namespace", "target", "service", "ingress", "interval", "variables", "and", "or", "not", "len",
      "index", "slice", "print", "printf", "println", "html", "js", "urlquery", "call", "eq", "ne", "lt", "le", "gt",
      "ge", "nil", "true", "false"};
  const std::string q = query.text_or("");
  for (size_t open = q.find("{{"); open != std::string::npos; open = q.find("{{", open + 2)) {
    const size_t close = q.find("}}", open + 2);
    if (close == std::string::npos) break;  // text/template fails too; the query reader says where
    std::string_view body = std::string_view(q).substr(open + 2, close - open - 2);
    while (!body.empty() && (body.front() == '-' || std::isspace(static_cast<unsigned char>(body.front()))))
      body.remove_prefix(1);
    size_t n = 0;
    while (n < body.size() && (std::isalnum(static_cast<unsigned char>(body[n])) || body[n] == '_')) ++n;
    const std::string word(body.substr(0, n));
    std::string why;
    if (!word.empty() && !kKnown.count(word)) {
      why = "'" + word + "' is no function Flagger's template knows (name, namespace, target, service, ingress, "
            "interval, variables.KEY): rendering fails (function \"" + word + "\" not defined)";
    } else if (word == "variables" && n < body.size() && body[n] == '.') {
      size_t k = n + 1;
      while (k < body.size() && (std::isalnum(static_cast<unsigned char>(body[k])) || body[k] == '_')) ++k;
      const std::string key(body.substr(n + 1, k - n - 1));
      if (!variables.peek(key))
        why = "variables." + key + " is not among the metric's templateVariables" +
              (variables.is_map() ? " (" + variables.where() + ")" : std::string(" (it gives none)")) +
              ": Flagger renders it as <no value>, which no query parses";
    }
    if (!why.empty())
      im.refuse(query.where() + ": {{" + std::string(q.substr(open + 2, std::min<size_t>(close - open - 2, 60))) +
                "}}: " + why + ", so every check of the metric fails and the canary rolls back at every release; "
                "write the value, or use one of Flagger's variables");
  }
}

Imported import_flagger(const std::vector<std::string>& inputs, const ImportOptions& opt) {
  Importer im(opt);
  const Documents docs = sort_documents(im, inputs, "Canary", {"MetricTemplate"});
  const std::vector<Node>& canaries = docs.main;
  const std::map<std::string, Node>& metric_templates = docs.templates;
  const auto& other = docs.other;
  const Node canary = im.pick(canaries, "Canary", files_text(inputs), other, metric_templates);
  const Node spec = canary["spec"];
  // References to the objects Flagger manages, and what it does on a stuck rollout or on
  // deletion: not what the analysis judges. The mesh provider routes by weight as canarysim does.
  im.unsupported(spec, "not simulated", {"autoscalerRef", "ingressRef", "progressDeadlineSeconds", "provider",
                                         "revertOnDeletion", "upstreamRef"});
  if (spec["suspend"] && spec["suspend"].boolean())
    im.warn(spec["suspend"].where() + ": true: Flagger runs no analysis while it is set, so the canary neither advances "
            "nor rolls back; imported as if false");
  if (spec["skipAnalysis"] && spec["skipAnalysis"].boolean())
    im.warn(spec["skipAnalysis"].where() + ": true promotes without analysis in Flagger; canarysim runs the analysis");
  const Node a = spec["analysis"] ? spec["analysis"] : spec["canaryAnalysis"];
  if (!a) im.refuse(spec.where() + ": no analysis (or canaryAnalysis): nothing to import");
  im.unsupported(a);
  for (const Node& hook : a["webhooks"].items())
    im.warn(hook.where() + ": webhook " + hook["name"].text_or("?") + " (" + hook["type"].text_or("rollout") +
            "): load tests and gates are not simulated; dropped");
  for (const char* key : {"primaryReadyThreshold", "canaryReadyThreshold", "alerts"})
    if (a[key]) im.warn(a[key].where() + ": not simulated; ignored");
  if (a["sessionAffinity"])
    im.note("sessionAffinity (" + a["sessionAffinity"].where() + "): a user who reached the canary stays on it, as "
            "canarysim's users do; the cookie's name and age are not simulated");
  else if (!a["iterations"])
    im.note(kPerRequestRouting + std::string("Flagger's (without sessionAffinity)"));
  YAML::Node out;
  out["kind"] = "flagger";
  // Flagger's CRD requires its intervals to start with digits and m or s (^[0-9]+(m|s)):
  // the API server rejects any other Canary, so it never runs.
  const auto crd_interval = [&](const Node& n) {
    static const std::regex kPattern("^[0-9]+(m|s)");
    if (n && !std::regex_search(n.text(), kPattern))
      im.refuse(n.where() + ": '" + n.text().substr(0, 40) + "' does not match the pattern Flagger's CRD gives an "
                "interval (^[0-9]+(m|s): minutes or seconds, 90s, 2m), so the API server rejects the Canary and it "
                "never runs; write it in minutes or seconds");
  };
  crd_interval(a["interval"]);
  for (const Node& m : a["metrics"].items()) crd_interval(m["interval"]);
  std::string interval = a["interval"] ? duration_text(a["interval"]) : "1m";
  // Flagger runs an analysis at most every 10 s (GetAnalysisInterval raises a shorter one).
  if (const auto d = parse_duration(interval); d && *d < 10) {
    im.warn(a["interval"].where() + ": interval " + interval + " is below Flagger's 10s floor; Flagger runs it every 10s, "
            "and so does the imported policy");
    interval = "10s";
  }
  out["interval"] = interval;
  // Flagger's CRD requires a threshold; its scheduler reads one below 1 as 1.
  const int64_t threshold = a["threshold"] ? a["threshold"].whole() : 0;
  if (threshold < 1)
    im.warn((a["threshold"] ? a["threshold"].where() : a.where()) + ": " +
            (a["threshold"] ? "threshold " + std::to_string(threshold) : std::string("no threshold")) +
            ": Flagger rolls back at the first failed check, as with threshold 1 (GetAnalysisThreshold)");
  out["threshold"] = std::max<int64_t>(threshold, 1);
  const Node notes = canary["metadata"]["annotations"];
  if (notes["canarysim.io/rollback-drain"]) out["rollback_drain"] = notes["canarysim.io/rollback-drain"].text();
  if (a["iterations"]) {
    out["iterations"] = a["iterations"].whole();
    if (a["match"] && notes["canarysim.io/match-weight"]) {
      out["match_weight"] = notes["canarysim.io/match-weight"].number();
    } else if (a["match"]) {
      out["match_weight"] = opt.match_weight;
      im.warn(a["match"].where() + ": A/B testing: the header/cookie match decides who reaches the canary; canarysim "
              "sends it " + number_text(opt.match_weight) + " % of users (--match-weight)");
    } else {
      out["mirror"] = true;
      // Flagger mirrors mirrorWeight percent of the traffic; 0 is unset, all of it.
      if (a["mirrorWeight"] && a["mirrorWeight"].number() > 0) out["mirrorWeight"] = a["mirrorWeight"].number();
      if (!a["mirror"] || !a["mirror"].boolean())
        im.warn(a["iterations"].where() + ": blue/green: Flagger judges the canary on load-test traffic from webhooks; "
                "canarysim judges it on shadow copies of live traffic");
    }
    for (const char* key : {"stepWeight", "stepWeights", "maxWeight"})
      if (a[key]) im.warn(a[key].where() + ": not used with iterations; ignored");
  } else {
    for (const char* key : {"maxWeight", "stepWeight", "stepWeightPromotion"})
      if (a[key] && !(a["stepWeights"] && std::string(key) == "maxWeight")) out[key] = a[key].number();
    if (a["stepWeights"] && a["maxWeight"])
      im.warn(a["maxWeight"].where() + ": Flagger ignores maxWeight where stepWeights are given, and promotes at the "
              "last entry; so does the imported policy");
    if (a["stepWeights"]) {
      YAML::Node weights(YAML::NodeType::Sequence);
      for (const Node& w : a["stepWeights"].items()) weights.push_back(w.number());
      out["stepWeights"] = weights;
    }
    if (!a["stepWeight"] && !a["stepWeights"]) im.refuse(a.where() + ": neither stepWeight, stepWeights nor iterations");
    if (a["mirror"]) im.warn(a["mirror"].where() + ": mirroring with a weight ladder is not simulated; ignored");
  }
  // Template variables, as Flagger fills them.
  QueryContext ctx;
  ctx.latency = opt.latency;
  const std::string target = spec["targetRef"]["name"].text_or("");
  ctx.variables["name"] = canary["metadata"]["name"].text_or("");
  ctx.variables["namespace"] = canary["metadata"]["namespace"].text_or("default");
  ctx.variables["target"] = target;
  ctx.variables["service"] = spec["service"]["name"].text_or(target);
  // Flagger fills {{ ingress }} with the ingress the Canary names (its NGINX and Skipper
  // routing): the public one, which carries both versions' traffic.
  if (spec["ingressRef"]["name"]) ctx.variables["ingress"] = spec["ingressRef"]["name"].text();
  ctx.canary_name = target;
  ctx.stable_name = target + "-primary";  // Flagger's primary Deployment
  YAML::Node metrics(YAML::NodeType::Sequence);
  for (const Node& m : a["metrics"].items()) {
    const std::string name = m["name"].text();
    const std::string where = m.where() + " (metric " + name + ")";
    if (m["muted"] && m["muted"].boolean()) {
      im.warn(where + ": muted: observed, never enforced; a flagger policy only enforces, so the metric is dropped");
      continue;
    }
    QueryMeaning meaning;
    Node qnode;
    QueryContext mctx = ctx;
    mctx.variables["interval"] = m["interval"] ? duration_text(m["interval"]) : interval;
    for (const auto& [k, v] : m["templateVariables"].entries()) mctx.variables["variables." + k] = v.text_or("");
    const bool builtin = !m["templateRef"] && !m["query"] && (name == "request-success-rate" || name == "request-duration");
    if (builtin) {
      meaning.ok = true;
      meaning.metric = name == "request-success-rate" ? "success_rate" : "latency_p99";
      meaning.scale = name == "request-success-rate" ? 100 : 1000;
      if (name == "request-duration" && opt.latency != "e2e") meaning.metric = opt.latency + "_p99";
    } else if (m["templateRef"] || m["query"]) {
      std::string dialect = "prometheus";
      if (m["templateRef"]) {
        const std::string ref = m["templateRef"]["name"].text();
        const auto it = metric_templates.find(ref);
        if (it == metric_templates.end()) {
          im.warn(where + ": MetricTemplate '" + ref + "' is not among the files given; metric dropped");
          continue;
        }
        // Flagger looks the template up in templateRef's namespace, else the Canary's; in
        // another it finds none, and every check fails. Said only when both are written.
        const Node ns = m["templateRef"]["namespace"] ? m["templateRef"]["namespace"] : canary["metadata"]["namespace"];
        const Node has = it->second["metadata"]["namespace"];
        if (ns && has && ns.text() != has.text())
          im.refuse(m["templateRef"].where() + ": Flagger looks up MetricTemplate " + ref + " in namespace " + ns.text() +
                    " (" + ns.where() + "), and the one in the files is in " + has.text() + " (" + has.where() +
                    "): it finds none, so every check of the metric fails and the canary rolls back at every "
                    "release; set templateRef.namespace: " + has.text());
        const std::string type = it->second["spec"]["provider"]["type"].text_or("prometheus");
        if (type == "datadog") dialect = "datadog";
        else if (type == "newrelic") dialect = "newrelic";
        else if (type != "prometheus") {
          im.warn(where + ": MetricTemplate " + ref + " uses provider " + type + ", which canarysim does not read "
                  "(prometheus, datadog, newrelic); metric dropped");
          continue;
        }
        qnode = it->second["spec"]["query"];
        check_flagger_template(im, qnode, m["templateVariables"]);
        // The provider's address and credentials cannot change what the query measures.
        im.unsupported(it->second["spec"]);
        im.unsupported(it->second["spec"]["provider"], "not simulated",
                       {"address", "secretRef", "insecureSkipVerify", "region"});
        // A variable substitute() cannot fill is marked by its name.
        if (!m["interval"] && substitute(qnode.text_or(""), {}).find("__var_interval__") != std::string::npos)
          im.warn(where + ": no interval, and MetricTemplate " + ref + "'s query uses {{ interval }}, which Flagger "
                  "fills with the metric's own interval (scheduler_metrics.go), empty here, so the query does not "
                  "parse and every check fails; canarysim reads it over the analysis interval (" + interval +
                  "); give the metric an interval");
      } else {
        qnode = m["query"];  // Flagger's deprecated inline query
      }
      meaning = im.read(qnode.text(), dialect, mctx, qnode);
      if (!meaning.ok) {
        im.warn(where + ": its query (" + qnode.where() + ") was not read: " + meaning.why + "; metric dropped");
        continue;
      }
      if (meaning.version == "baseline") {
        im.warn(where + ": its query measures the primary alone, which Flagger's analysis of the canary never "
                "judges in canarysim; metric dropped");
        continue;
      }
      if (!meaning.sparse.empty())
        im.warn(qnode.where() + ": " + sparse_series(meaning) + "; Flagger then halts the advance and counts a "
                "failed check (no values found), where canarysim reads a rate of 0; add `or on() vector(0)` to the "
                "query to match");
    } else {
      im.warn(where + ": neither built in (request-success-rate, request-duration) nor a templateRef; metric dropped");
      continue;
    }
    YAML::Node o;
    o["name"] = meaning.metric;
    o["scale"] = meaning.scale;
    if (meaning.version != "canary") o["version"] = meaning.version;
    std::optional<double> lo, hi;
    if (const Node range = m["thresholdRange"]) {
      for (const auto& entry : range.entries())
        if (entry.first != "min" && entry.first != "max") im.warn(entry.second.where() + ": not a bound Flagger reads; ignored");
      if (range["min"]) lo = range["min"].number();
      if (range["max"]) hi = range["max"].number();
    }
    // Without a thresholdRange, Flagger reads its deprecated threshold, 0 when unset
    // (scheduler_metrics.go): a minimum for the built-in success rate, a maximum otherwise.
    const bool success_rate = builtin && name == "request-success-rate";
    if (!m["thresholdRange"]) {
      (success_rate ? lo : hi) = m["threshold"] ? m["threshold"].number() : 0;
      if (!m["threshold"] && !success_rate)
        im.warn(where + ": no thresholdRange or threshold: Flagger compares the value with threshold, 0 when unset, so "
                "any value above 0 fails the check; the imported policy does the same");
    } else if (m["threshold"]) {
      im.warn(m["threshold"].where() + ": threshold is ignored where a thresholdRange is given, as in Flagger");
    }
    if (success_rate && lo && *lo <= 0 && !hi) lo.reset();  // a success rate is never below 0
    if (!lo && !hi) {
      im.warn(where + ": " + (m["thresholdRange"] ? "a thresholdRange with neither min nor max" : "threshold 0 on a success rate") +
              ": Flagger fails nothing on it; metric dropped");
      continue;
    }
    if (lo && hi && *lo > *hi)
      im.warn(m["thresholdRange"].where() + ": min " + number_text(*lo) + " is above max " + number_text(*hi) +
              ": no value passes, so every check fails and the canary rolls back at every release, in Flagger as in "
              "the imported policy; were the bounds swapped?");
    const std::string source = m.where() + ": " + name + (qnode ? ", query at " + qnode.where() : std::string(", built in"));
    if (lo) o["thresholdRange"]["min"] = *lo, im.rule(meaning, ">=", *lo, source);
    if (hi) o["thresholdRange"]["max"] = *hi, im.rule(meaning, "<=", *hi, source);
    if (m["interval"]) o["interval"] = duration_text(m["interval"]);
    else if (builtin) o["interval"] = "1m";  // Flagger's MetricInterval, not the analysis interval
    else if (meaning.window_s > 0) o["interval"] = number_text(meaning.window_s) + "s";
    im.unsupported(m);
    metrics.push_back(o);
  }
  out["metrics"] = metrics;
  return im.finish("a Flagger Canary (" + canary.where() + ")", out);
}

// ---------------------------------------------------------------------------------
// Kayenta: a canary config (JSON).

// Kayenta fills ${scope} and ${location} in: inside a label value with the scope's name,
// in place of matchers with the scope's matchers. The latter are written here as a label
// that names neither version (Kayenta queries each version itself); the former stay.
std::string scope_matchers_filled(const std::string& query) {
  std::string filled;
  bool quoted = false;
  for (size_t i = 0; i < query.size(); ++i) {
    if (query[i] == '"' && (i == 0 || query[i - 1] != '\\')) quoted = !quoted;
    const size_t close = !quoted && query.compare(i, 2, "${") == 0 ? query.find('}', i) : std::string::npos;
    const std::string var = close == std::string::npos ? "" : query.substr(i + 2, close - i - 2);
    const bool name = !var.empty() && std::all_of(var.begin(), var.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
    });
    if (!name) {
      filled += query[i];
      continue;
    }
    filled += "kayenta_" + var + "=\"" + var + "\"";
    i = close;
  }
  return filled;
}

// An ISO-8601 duration as Java's Duration reads it (PT1H30M, PT45M, P1D, PT90.5S), in
// seconds; nullopt when it is not one.
std::optional<double> iso_duration(const std::string& text) {
  static const std::regex kIso(R"(P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?)", std::regex::icase);
  std::smatch m;
  if (text.size() > 64 || !std::regex_match(text, m, kIso) || text.size() < 3 || text.back() == 'T' || text.back() == 't')
    return std::nullopt;
  double s = 0;
  const double unit[] = {86400, 3600, 60, 1};
  for (int i = 0; i < 4; ++i)
    if (m[i + 1].matched) s += unit[i] * std::stod(m[i + 1].str());
  return s;
}

// Spinnaker's kayentaCanary stage holds the schedule a canary config lacks. It is read as
// orca-kayenta runs it (KayentaCanaryContext, RunCanaryIntervalsStage): lifetimeDuration
// (or the older lifetimeHours); a judgement every canaryAnalysisIntervalMins (the lifetime
// when unset, zero or longer), floor(lifetime / interval) of them, so the last is at that
// multiple; lookbackMins (0: all data since the start); scoreThresholds, Orca's own
// pass 75 and marginal 50 when unset; the first scope's step. `docs`: a pipeline (its
// stages), a stage, or a stage's canaryConfig. Returns false when none is there.
bool read_kayenta_stage(Importer& im, const std::vector<Node>& docs, const std::string& name, YAML::Node* out) {
  std::vector<Node> stages;
  for (const Node& d : docs) {
    if (!d.is_map()) continue;
    if (d.peek("stages").is_list()) {
      for (const Node& st : d["stages"].items())
        if (st.is_map() && st.peek("type").text_or("") == "kayentaCanary") stages.push_back(st);
    } else if (d.peek("type").text_or("") == "kayentaCanary") {
      stages.push_back(d);
    } else if (d.peek("canaryConfigId") || d.peek("lifetimeDuration") || d.peek("lifetimeHours")) {
      stages.push_back(d);  // the stage's canaryConfig alone
    }
  }
  if (stages.empty()) return false;
  if (!name.empty())
    stages.erase(std::remove_if(stages.begin(), stages.end(),
                                [&](const Node& st) { return st.peek("name").text_or("") != name; }),
                 stages.end());
  if (stages.size() != 1) {
    std::string names;
    for (const Node& st : stages)
      names += (names.empty() ? "" : ", ") + st.where() + " (" + st.peek("name").text_or("?") + ")";
    im.refuse(stages.empty() ? "no kayentaCanary stage named '" + name + "'"
                             : std::to_string(stages.size()) + " kayentaCanary stages: " + names + "; pick one with --name");
  }
  const Node stage = stages.front();
  const Node c = stage.peek("type") ? stage["canaryConfig"] : stage;
  if (stage.peek("type"))
    im.unsupported(stage, "not simulated", {"type", "name", "refId", "requisiteStageRefIds", "analysisType"});
  im.unsupported(c, "not simulated", {"canaryConfigId", "canaryConfigName", "metricsAccountName", "storageAccountName",
                                      "configurationAccountName", "scopes", "lifetimeDuration", "lifetimeHours",
                                      "canaryAnalysisIntervalMins", "lookbackMins", "scoreThresholds",
                                      "beginCanaryAnalysisAfterMins", "baselineAnalysisOffsetInMins"});
  // Minutes, as Orca reads its Int fields (pipelines often write them as strings).
  auto minutes = [&](const char* key) -> double {
    const Node n = c.peek(key);
    if (!n) return 0;
    const double v = n.number();
    if (!(v >= 0 && v <= 525600) || v != std::floor(v)) n.fail("whole minutes, from 0 to 525600 (a year)");
    return v;
  };
  const std::vector<Node> scopes = c.peek("scopes").is_list() ? c.peek("scopes").items() : std::vector<Node>{};
  const Node scope = scopes.empty() ? Node() : scopes.front();
  if (scope.peek("endTimeIso"))
    im.refuse(scope.peek("endTimeIso").where() + ": a stage with an end time analyses a window that has passed, not a "
              "live rollout: canarysim simulates the live one; give lifetimeDuration instead");
  double lifetime = 0;
  if (const Node d = c.peek("lifetimeDuration")) {
    const auto v = iso_duration(d.text());
    if (!v || *v <= 0 || *v > 365 * 86400.0) d.fail("an ISO-8601 duration such as PT1H or PT30M, at most a year");
    lifetime = *v;
  } else if (const Node h = c.peek("lifetimeHours")) {
    lifetime = 3600 * h.number();
    if (!(lifetime > 0 && lifetime <= 365 * 86400.0)) h.fail("hours, above 0");
  } else {
    im.refuse(c.where() + ": no lifetimeDuration (or lifetimeHours): Orca refuses the stage (\"Canary stage "
              "configuration must include either `endTime` or `lifetimeDuration`\")");
  }
  // Orca counts whole minutes (Duration.toMinutes()).
  const double life_min = std::floor(lifetime / 60);
  if (life_min < 1)
    (c.peek("lifetimeDuration") ? c["lifetimeDuration"] : c["lifetimeHours"])
        .fail("a lifetime of at least a minute (Orca counts whole minutes)");
  double interval_min = c.peek("canaryAnalysisIntervalMins") ? minutes("canaryAnalysisIntervalMins") : life_min;
  if (interval_min == 0 || interval_min > life_min) interval_min = life_min;
  const double judgements = std::floor(life_min / interval_min);
  (*out)["lifetime"] = number_text(judgements * interval_min) + "m";
  (*out)["interval"] = number_text(interval_min) + "m";
  if (judgements * interval_min != life_min)
    im.note("lifetime " + number_text(life_min) + "m: Orca runs floor(lifetime / interval) = " + number_text(judgements) +
            " judgements of " + number_text(interval_min) + "m, so the last, which decides, comes at " +
            number_text(judgements * interval_min) + "m");
  if (const double lookback = minutes("lookbackMins"); lookback > 0) (*out)["lookback"] = number_text(lookback) + "m";
  if (scope.peek("step")) {
    const double step = scope["step"].number();
    if (!(step >= 1 && step <= 86400)) scope["step"].fail("a step in seconds, from 1 to 86400");
    (*out)["step"] = number_text(step) + "s";
  }
  const Node t = c.peek("scoreThresholds");
  (*out)["classifier"]["score_thresholds"]["pass"] = t.peek("pass") ? t["pass"].number() : 75.0;
  (*out)["classifier"]["score_thresholds"]["marginal"] = t.peek("marginal") ? t["marginal"].number() : 50.0;
  if (!t.peek("pass") || !t.peek("marginal"))
    im.warn(c.where() + ": scoreThresholds " + (t ? "incomplete" : "not given") + ": Orca's defaults, pass 75 and "
            "marginal 50, fill it in");
  for (const char* key : {"beginCanaryAnalysisAfterMins", "baselineAnalysisOffsetInMins"})
    if (minutes(key) > 0)
      im.warn(c[key].where() + ": " + key + " " + c[key].text() + ": " +
              (std::string(key) == "beginCanaryAnalysisAfterMins"
                   ? "Orca waits that long before the analysis, whose windows begin after it; canarysim judges from "
                     "the start, so its judgements come earlier and read the warm-up's data"
                   : "Orca compares the canary with the baseline that long before; canarysim compares the two at once") +
              "; not simulated");
  im.note("schedule from the Spinnaker stage at " + stage.where() + ": lifetime " + (*out)["lifetime"].as<std::string>() +
          ", interval " + (*out)["interval"].as<std::string>() + "; canary weight " + number_text(im.opt.weight_percent) +
          " % from the command line (the stage does not say it: Spinnaker's canary and baseline clusters do)");
  return true;
}

Imported import_kayenta(const std::vector<std::string>& inputs, const ImportOptions& opt) {
  Importer im(opt);
  // The config first, and any file holding Spinnaker's kayentaCanary stage (a pipeline).
  std::vector<Node> docs = load_documents(inputs.front());
  std::vector<Node> stage_docs;
  for (size_t i = 1; i < inputs.size(); ++i)
    for (const Node& d : load_documents(inputs[i])) stage_docs.push_back(d);
  // Kayenta's ad hoc request (POST /canary, the standalone analysis) holds the config
  // under canaryConfig and the execution request beside it.
  Node request;
  if (!docs.empty() && docs[0].is_map() && docs[0]["canaryConfig"].is_map()) {
    request = docs[0]["executionRequest"];
    im.unsupported(docs[0]);
    docs[0] = docs[0]["canaryConfig"];
  }
  if (docs.empty() || !docs[0].is_map() || !docs[0]["metrics"]) {
    for (const Node& d : docs) {
      const std::string kind = kind_of(d);
      const char* vowel = std::string("AEIOU").find(kind.empty() ? 'x' : kind[0]) != std::string::npos ? "an " : "a ";
      if (kind == "Rollout" || kind == "AnalysisTemplate" || kind == "ClusterAnalysisTemplate")
        im.refuse("no Kayenta canary config in " + inputs.front() + " (it holds " + vowel + kind + ": use `import argo`)");
      if (kind == "Canary" || kind == "MetricTemplate")
        im.refuse("no Kayenta canary config in " + inputs.front() + " (it holds " + vowel + kind + ": use `import flagger`)");
    }
    im.refuse(inputs.front() + ": metrics: missing; expected a Kayenta canary config");
  }
  const Node cfg = docs[0];
  // canarysim judges as NetflixACAJudge-v1.0 does, Kayenta's own and Spinnaker's default.
  if (const Node judge = cfg["judge"]; judge["name"].text_or("NetflixACAJudge-v1.0") != "NetflixACAJudge-v1.0")
    im.warn(judge["name"].where() + ": '" + judge["name"].text_or("?") + "' is another judge; canarysim judges as "
            "NetflixACAJudge-v1.0 does (Mann-Whitney per metric, weighted groups)");
  im.unsupported(cfg["judge"], "not simulated", {"judgeConfigurations"});
  // Kayenta's bookkeeping; templates are read where a metric names one.
  im.unsupported(cfg, "not simulated", {"name", "description", "configVersion", "applications", "templates",
                                        "createdTimestamp", "updatedTimestamp", "createdTimestampIso",
                                        "updatedTimestampIso", "id"});
  YAML::Node out;
  out["kind"] = "kayenta";
  out["weight"] = opt.weight_percent;
  out["lifetime"] = opt.lifetime;
  out["interval"] = opt.interval;
  out["step"] = "1m";
  const bool staged = read_kayenta_stage(im, stage_docs, opt.name, &out);
  if (!staged && inputs.size() > 1)
    im.refuse(inputs[1] + ": no kayentaCanary stage (a Spinnaker pipeline's, or the stage alone) in the files after the "
              "canary config; `import kayenta` reads the config and, optionally, the stage that runs it");
  if (!staged)
    im.warn("schedule: lifetime " + opt.lifetime + ", interval " + opt.interval + ", weight " +
            number_text(opt.weight_percent) + " % from the command line (a Kayenta config holds no schedule; Spinnaker's "
            "stage does: give the pipeline after the config)");
  if (request) {
    // The scopes' step (seconds) is the series' resolution; their window is the schedule's.
    Node scope;
    for (const auto& [name, pair] : request["scopes"].entries())
      if (!scope || name == "default") scope = pair["experimentScope"] ? pair["experimentScope"] : pair["controlScope"];
    if (scope["step"]) {
      const double step = scope["step"].number();
      if (!(step >= 1 && step <= 86400)) scope["step"].fail("a step in seconds, from 1 to 86400");
      out["step"] = number_text(step) + "s";
    }
    if (scope["start"] || scope["end"])
      im.warn(scope.where() + ": the request's window (start, end) is not read: the analysis runs on the schedule "
              "above, judged every interval");
    im.unsupported(request, "not simulated", {"scopes", "metadata", "siteLocal"});
  }
  QueryContext ctx;
  ctx.latency = opt.latency;
  ctx.versions_scoped = true;  // Kayenta queries each scope, canary and baseline, itself
  YAML::Node metrics(YAML::NodeType::Sequence);
  for (const Node& m : cfg["metrics"].items()) {
    const std::string name = m["name"].text();
    const std::string where = m.where() + " (metric " + name + ")";
    const Node q = m["query"];
    if (q && !q.is_map()) {
      // Older configs wrote a query as bare text: Atlas's stack language.
      im.warn(where + ": its query is " + (q.is_text() ? "the text '" + q.text().substr(0, 60) + "'" : std::string("not a mapping")) +
              ", not an object with a type (older configs wrote Atlas queries so); canarysim reads prometheus, "
              "datadog and newrelic queries; metric dropped");
      continue;
    }
    const std::string type = q["type"].text_or("prometheus");
    std::string dialect = type == "prometheus" ? "prometheus" : type == "datadog" ? "datadog" : type == "newrelic" ? "newrelic" : "";
    std::string query;
    if (q["customInlineTemplate"]) {
      query = q["customInlineTemplate"].text();
      const size_t colon = query.find(':');
      if (colon != std::string::npos && colon < 12) query = query.substr(colon + 1);  // "PromQL:..."
    } else if (q["select"]) {
      // Kayenta's New Relic query: "SELECT " + select + " FROM Transaction ... WHERE " + q
      // + " AND " + the scope (NewRelicMetricsService).
      query = q["select"].text();
      if (lower(query).rfind("select ", 0) == 0)
        im.warn(q["select"].where() + ": begins with SELECT, which Kayenta writes before it (SELECT SELECT ... is "
                "no NRQL New Relic answers); read as the query it spells");
      else
        query = "SELECT " + query + " FROM Transaction" + (q["q"] ? " WHERE " + q["q"].text() : "");
    } else if (q["metricName"]) {
      query = q["metricName"].text();
      if (dialect == "prometheus") {
        // Kayenta's query: the metric over the step, filtered by the named template.
        std::string filter;
        if (q["customFilterTemplate"]) filter = cfg["templates"][q["customFilterTemplate"].text()].text_or("");
        query = "rate(" + query + "{" + filter + "}[1m])";
      }
    }
    query = scope_matchers_filled(query);
    if (lower(name + " " + query).find("apdex") != std::string::npos) {
      im.warn(where + ": Apdex is a satisfaction score (higher is better) over latency thresholds canarysim does not "
              "compute; metric dropped");
      continue;
    }
    if (dialect.empty() || query.empty()) {
      im.warn(where + ": a " + type + " query canarysim does not read; metric dropped");
      continue;
    }
    QueryMeaning meaning = im.read(query, dialect, ctx, q);
    if (!meaning.ok && meaning.why.rfind("a rate per second of failures", 0) == 0) {
      // Kayenta gives canary and baseline equal traffic: their failures per second
      // compare as their error rates do.
      meaning.ok = true;
      meaning.metric = "error_rate";
      im.warn(where + ": failures per second, compared as error rates (Kayenta's canary and baseline take equal traffic)");
    }
    if (!meaning.ok) {
      im.warn(where + ": its query was not read: " + meaning.why + "; metric dropped");
      continue;
    }
    const Node c = m["analysisConfigurations"]["canary"];
    std::string direction = c["direction"].text_or("either");
    if (direction != "increase" && direction != "decrease" && direction != "either") {
      im.warn(c["direction"].where() + ": '" + direction + "' is not increase, decrease or either; Kayenta reads it as either");
      direction = "either";
    }
    bool flipped = false;
    if (meaning.metric == "success_rate") {  // judged as the error rate, direction reversed
      meaning.metric = "error_rate";
      flipped = true;
      direction = direction == "increase" ? "decrease" : direction == "decrease" ? "increase" : direction;
      im.warn(where + ": a success rate, judged as the error rate with the direction reversed (" + direction + ")");
    }
    YAML::Node o;
    o["name"] = name;
    o["metric"] = meaning.metric;
    YAML::Node groups(YAML::NodeType::Sequence);
    for (const Node& g : m["groups"].items()) groups.push_back(g.text());
    if (m["groups"].is_text()) groups.push_back(m["groups"].text());
    o["groups"] = groups;
    o["direction"] = direction;
    if (c["critical"]) o["critical"] = c["critical"].boolean();
    double allowed_up = 1, allowed_down = 1;
    if (const Node e = c["effectSize"]) {
      if (flipped) {
        im.warn(e.where() + ": effect sizes on a success rate do not carry over to the error rate; dropped");
      } else {
        if (e["measure"]) o["effect_size"]["measure"] = e["measure"].text();
        for (const auto& [from, to] : std::vector<std::pair<const char*, const char*>>{
                 {"allowedIncrease", "allowed_increase"}, {"criticalIncrease", "critical_increase"},
                 {"allowedDecrease", "allowed_decrease"}, {"criticalDecrease", "critical_decrease"}})
          if (e[from]) o["effect_size"][to] = e[from].number();
        if (e["allowedIncrease"]) allowed_up = e["allowedIncrease"].number();
        if (e["allowedDecrease"]) allowed_down = e["allowedDecrease"].number();
      }
    }
    if (c["mustHaveData"]) o["must_have_data"] = c["mustHaveData"].boolean();
    if (const Node nan = c["nanStrategy"]) {
      // Kayenta reads anything but "replace" as remove; a slip there would change the judgement.
      if (nan.text() != "remove" && nan.text() != "replace")
        im.warn(nan.where() + ": '" + nan.text() + "' is neither remove nor replace; Kayenta removes missing points");
      if (nan.text() == "replace") o["nan_strategy"] = "replace";
    }
    if (const Node outliers = c["outliers"]) {
      const std::string strategy = outliers["strategy"].text_or("keep");
      if (strategy != "keep" && strategy != "remove")
        im.refuse(outliers["strategy"].where() + ": expected keep or remove, got '" + strategy + "'");
      o["outliers"]["strategy"] = strategy;
      if (outliers["outlierFactor"]) o["outliers"]["factor"] = outliers["outlierFactor"].number();
      im.unsupported(outliers);
    }
    im.unsupported(c);
    im.unsupported(m["analysisConfigurations"]);
    // scopeName: Kayenta's one scope, "default"; the query's service and label bindings
    // name the store and the scope's labels, which Kayenta fills in.
    im.unsupported(m, "not simulated", {"scopeName", "serviceName"});
    im.unsupported(q, "not read: the query is read as written", {"type", "serviceType", "labelBindings"});
    QueryMeaning relative = meaning;
    relative.version = "ratio";
    const std::string source = m.where() + ": " + name + " (Mann-Whitney, canary against baseline)";
    if (direction != "decrease") im.rule(relative, "<=", allowed_up, source);
    if (direction != "increase") im.rule(relative, ">=", allowed_down, source);
    metrics.push_back(o);
  }
  if (metrics.size() == 0) im.refuse(cfg["metrics"].where() + ": no metric maps to a canarysim metric (see the warnings above)");
  out["metrics"] = metrics;
  const Node cl = cfg["classifier"];
  for (const auto& [group, weight] : cl["groupWeights"].entries()) out["classifier"]["group_weights"][group] = weight.number();
  // The thresholds Kayenta applies: an ad hoc request's, or the stage's (read above).
  if (staged) {
    if (cl.peek("scoreThresholds"))
      im.warn(cl["scoreThresholds"].where() + ": the config's scoreThresholds give way to the stage's, which Orca "
              "passes to Kayenta with each judgement");
  } else if (const Node t = request["thresholds"] ? request["thresholds"] : cl["scoreThresholds"]) {
    out["classifier"]["score_thresholds"]["pass"] = t["pass"].number();
    out["classifier"]["score_thresholds"]["marginal"] = t["marginal"].number();
  } else {
    out["classifier"]["score_thresholds"]["pass"] = 95;
    out["classifier"]["score_thresholds"]["marginal"] = 75;
    im.warn("classifier.scoreThresholds: not in the config (Spinnaker's stage sets them); pass 95, marginal 75");
  }
  return im.finish("a Kayenta canary config (" + inputs.front() + ")", out);
}

// ---------------------------------------------------------------------------------
// AWS CodeDeploy and AppConfig predefined strategies.

// A linear schedule's weights in percent: step, 2 step, ... and 100 last.
std::vector<double> linear_steps(double step) {
  std::vector<double> steps;
  for (double w = step; w < 100 - 1e-9; w += step) steps.push_back(w);
  steps.push_back(100);
  return steps;
}

// The policy of an AWS traffic-shifting schedule: the weights in percent (the last 100),
// the bake at each before the last, the bake at 100 %. AWS rolls back on CloudWatch alarms
// defined elsewhere (`alarms` says which): a stepped policy with one stand-in check on the
// error rate, warned about; with no alarms (`alarms` empty), the bare ladder as Argo steps.
YAML::Node aws_policy(Importer& im, const std::vector<double>& steps, double bake_s, double final_bake_s,
                       const std::string& what, const std::string& alarms) {
  auto seconds = [](double s) { return number_text(std::round(s)) + "s"; };
  auto weight = [](double w) { return YAML::Load(number_text(std::round(w * 100) / 100)); };
  YAML::Node out;
  if (alarms.empty()) {
    // Nothing judges the ladder: Argo's steps say exactly that (a stepped policy needs a check).
    im.warn("checks: " + what + " names no alarms (no AutoRollbackConfiguration): nothing rolls it back; the ladder "
            "is imported alone, as Argo steps");
    out["kind"] = "argo";
    for (size_t i = 0; i < steps.size(); ++i) {
      YAML::Node step, pause;
      step["setWeight"] = weight(steps[i]);
      out["steps"].push_back(step);
      const double bake = i + 1 < steps.size() ? bake_s : final_bake_s;
      if (bake <= 0) continue;
      pause["pause"]["duration"] = seconds(bake);
      out["steps"].push_back(pause);
    }
    return out;
  }
  out["kind"] = "stepped";
  YAML::Node s(YAML::NodeType::Sequence);
  for (double w : steps) s.push_back(weight(w));
  out["steps"] = s;
  out["bake_time"] = seconds(bake_s);
  out["interval"] = bake_s > 0 && bake_s < 60 ? seconds(bake_s) : "1m";
  if (final_bake_s > 0) out["final_bake"] = seconds(final_bake_s);
  out["failure_limit"] = 0;
  YAML::Node check;
  check["name"] = "cloudwatch-alarm";
  check["metric"] = "error_rate";
  check["max"] = "1%";
  out["checks"].push_back(check);
  im.warn("checks: " + what + " rolls back on " + alarms + "; canarysim adds an alarm on an error rate above 1 %: "
          "replace it with yours");
  QueryMeaning alarm;
  alarm.metric = "error_rate";
  im.rule(alarm, "<=", 0.01, "canarysim's stand-in for the CloudWatch alarms of " + what);
  if (steps.size() == 1 && final_bake_s == 0)
    im.warn("steps: all at once with no bake: the new version takes all traffic at once and nothing judges it");
  return out;
}

Imported import_aws_file(const std::string& path, const ImportOptions& opt);

Imported import_aws(const std::vector<std::string>& names, const ImportOptions& opt) {
  Importer im(opt);
  if (names.size() != 1) throw InputError("aws: expected one predefined strategy name");
  const std::string& name = names.front();
  std::error_code no_file;  // a name too long for a path is no file, not an error
  if (std::filesystem::is_regular_file(name, no_file)) return import_aws_file(name, opt);
  const std::string ext = std::filesystem::path(name).extension().string();
  if (name.find('/') != std::string::npos || ext == ".json" || ext == ".yaml" || ext == ".yml")
    throw MissingFileError(name + ": no such file (a deployment configuration file, or a predefined strategy's name)");
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
    steps = linear_steps(number_in(m[2], 1, 99, "percent"));
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
  } else if (name == "CodeDeployDefault.OneAtATime" || name == "CodeDeployDefault.HalfAtATime" ||
             name == "CodeDeployDefault.AllAtOnce") {
    // EC2 and on-premises deployments replace instances in place, by a count of healthy
    // hosts: what share of traffic meets the new version depends on the fleet and the load
    // balancer, which the name does not say.
    throw InputError(name + ": an EC2/on-premises in-place configuration: it replaces instances a number at a time "
                            "(minimum healthy hosts), not a share of traffic, and the share that meets the new version "
                            "depends on a fleet the name does not give; canarysim imports traffic-shifting strategies "
                            "(Lambda, ECS, AppConfig, SageMaker): write the steps as a kind: argo policy");
  } else {
    throw InputError(name + ": not a predefined strategy; expected CodeDeployDefault.(Lambda|ECS)Canary<P>Percent<M>Minutes, "
                            "...Linear<P>PercentEvery<M>Minutes, ...AllAtOnce, or AppConfig.AllAtOnce, "
                            "AppConfig.Linear50PercentEvery30Seconds, AppConfig.Linear20PercentEvery6Minutes, "
                            "AppConfig.Canary10Percent20Minutes");
  }
  const std::string alarms = "the CloudWatch alarms attached to the deployment, which a strategy name does not carry";
  return im.finish("the AWS predefined strategy " + name, aws_policy(im, steps, bake_s, final_bake_s, name, alarms));
}


// ---------------------------------------------------------------------------------
// AWS deployment configurations in a file: a SageMaker endpoint's DeploymentConfig
// (BlueGreenUpdatePolicy or RollingUpdatePolicy, as boto3, the CLI, CloudFormation, CDK or
// `terraform show -json` write it) or a CodeDeploy TrafficRoutingConfig.

// One key however the file spells it (key_form): CanarySize (the API, CloudFormation),
// canarySize (CDK, the CodeDeploy CLI), canary_size (Terraform, whose blocks are lists of
// one). Only the key found is recorded as read, or, when none is, the key asked.
Node aws_key(const Node& map, const std::string& key) {
  if (!map.is_map()) return Node();
  for (const auto& [k, v] : map.look())
    if (key_form(k) == key_form(key)) return map[k];
  return map[key];
}
// A nested structure: a mapping, or Terraform's block, a list of one mapping (none: absent).
Node block(const Node& n) {
  if (!n.is_list()) return n;
  const std::vector<Node> items = n.items();
  if (items.empty()) return Node();
  if (items.size() > 1 || !items.front().is_map()) n.fail("one block (a mapping)");
  return items.front();
}
Node aws_block(const Node& map, const std::string& key) { return block(aws_key(map, key)); }

// Every node under `root` (bounded depth) whose key is one of `keys`, with the mapping that
// holds it; found nodes are not searched further.
struct Found {
  std::string key;
  Node node, parent;
};
void find_keys(const Node& root, const std::vector<std::string>& keys, std::vector<Found>& out, int depth = 0) {
  if (depth > 32) return;
  if (root.is_list()) {
    for (const Node& item : root.items()) find_keys(item, keys, out, depth + 1);
    return;
  }
  if (!root.is_map()) return;
  for (const auto& entry : root.look()) {
    const std::string form = key_form(entry.first);
    const auto hit = std::find_if(keys.begin(), keys.end(), [&](const std::string& want) { return form == key_form(want); });
    if (hit == keys.end()) find_keys(entry.second, keys, out, depth + 1);
    else if (const Node b = block(root[entry.first])) out.push_back({*hit, b, root});  // an empty Terraform block is none
  }
}

Imported import_aws_file(const std::string& path, const ImportOptions& opt) {
  Importer im(opt);
  const std::vector<Node> docs = load_documents(path);
  std::vector<Found> found;
  for (const Node& doc : docs) find_keys(doc, {"BlueGreenUpdatePolicy", "RollingUpdatePolicy", "TrafficRoutingConfig"}, found);
  if (found.empty())
    im.refuse(path + ": no SageMaker DeploymentConfig (BlueGreenUpdatePolicy or RollingUpdatePolicy) or CodeDeploy "
              "TrafficRoutingConfig found; for a predefined strategy, give its name (CodeDeployDefault.LambdaCanary10Percent5Minutes)");
  if (found.size() > 1) {
    std::string places;
    for (const Found& f : found) places += (places.empty() ? "" : ", ") + f.node.where();
    im.refuse(path + ": several deployment configurations (" + places + "); import one at a time");
  }
  const Found& f = found.front();
  const Node& cfg = f.node;
  // Every key of the configuration is read or said: a misspelt WaitIntervalInSeconds would
  // otherwise be a deployment without baking.
  im.unsupported(cfg);
  auto seconds = [&](const Node& parent, const char* key, int lo, int hi) {
    const Node n = aws_key(parent, key);
    if (!n) return 0;
    const int v = n.whole();
    if (v < lo || v > hi) n.fail("seconds in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  };
  std::vector<double> steps;
  double bake_s = 0, final_bake_s = 0;
  std::string what, alarms;
  // A step's share of traffic, in percent: of capacity, or instances of the fleet's count.
  auto share = [&](const Node& size, const char* key) {
    if (!size) im.refuse(cfg.where() + ": no " + key + " (SageMaker requires it for this Type)");
    im.unsupported(size);
    const std::string type = aws_key(size, "Type").text();
    const Node value = aws_key(size, "Value");
    if (type == "CAPACITY_PERCENT") {
      const double p = value.number();
      if (!(p > 0 && p <= 100)) value.fail("a percent in (0, 100]");
      return p;
    }
    if (type != "INSTANCE_COUNT") aws_key(size, "Type").fail("CAPACITY_PERCENT or INSTANCE_COUNT");
    // The fleet's size, when the file has it (an EndpointConfig's InitialInstanceCount).
    std::vector<Found> counts;
    for (const Node& doc : docs) find_keys(doc, {"InitialInstanceCount"}, counts);
    std::set<int> sizes;
    for (const Found& c : counts) sizes.insert(c.node.whole());
    if (sizes.size() != 1)
      im.refuse(size.where() + ": " + key + " counts " + value.text() + " instance(s), a share of traffic that depends on "
                "the fleet's instance count, which the file " + (sizes.empty() ? "does not give" : "gives several of") +
                " (InitialInstanceCount); write it as CAPACITY_PERCENT");
    const double n = *sizes.begin(), k = value.number();
    if (!(k >= 1 && k <= n)) value.fail("an instance count in [1, " + number_text(n) + "]");
    im.note(key + std::string(" ") + number_text(k) + " of the fleet's " + number_text(n) + " instances (InitialInstanceCount at " +
            counts.front().node.where() + "): " + number_text(std::round(1e4 * k / n) / 100) + " % of traffic");
    return 100 * k / n;
  };
  auto ladder = [&](double step) {
    if (100 / step > 1000)
      im.refuse(cfg.where() + ": a step of " + number_text(step) + " % makes over 1,000 steps; no deployment takes that many");
    steps = linear_steps(step);
  };
  if (f.key == "TrafficRoutingConfig") {
    // CodeDeploy: intervals in minutes; alarms belong to the deployment group.
    what = "the CodeDeploy deployment configuration at " + cfg.where();
    alarms = "the CloudWatch alarms of the deployment group, which a deployment configuration does not carry";
    const std::string type = aws_key(cfg, "Type").text();
    auto minutes = [&](const Node& n) {
      const int v = n.whole();
      if (v < 1 || v > 2880) n.fail("whole minutes in [1, 2880]");
      return 60.0 * v;
    };
    auto percent = [&](const Node& n) {
      const double p = n.number();
      if (!(p >= 1 && p <= 99)) n.fail("a percent in [1, 99]");
      return p;
    };
    if (type == "TimeBasedCanary") {
      const Node c = aws_block(cfg, "TimeBasedCanary");
      im.unsupported(c);
      steps = {percent(aws_key(c, "CanaryPercentage")), 100};
      bake_s = minutes(aws_key(c, "CanaryInterval"));
    } else if (type == "TimeBasedLinear") {
      const Node l = aws_block(cfg, "TimeBasedLinear");
      im.unsupported(l);
      ladder(percent(aws_key(l, "LinearPercentage")));
      bake_s = minutes(aws_key(l, "LinearInterval"));
    } else if (type == "AllAtOnce") {
      steps = {100};
    } else {
      aws_key(cfg, "Type").fail("TimeBasedCanary, TimeBasedLinear or AllAtOnce");
    }
  } else {
    // SageMaker: alarms are watched in every baking period, the final one at 100 % too
    // (deployment-guardrails-blue-green); each lasts WaitIntervalInSeconds.
    what = "the SageMaker " + f.key + " at " + cfg.where();
    im.unsupported(f.parent);  // the DeploymentConfig: the policy and its rollback alarms
    const Node rollback = aws_block(f.parent, "AutoRollbackConfiguration");
    im.unsupported(rollback);
    for (const Node& a : aws_key(rollback, "Alarms").items()) {
      im.unsupported(a);
      alarms += (alarms.empty() ? "" : ", ") + aws_key(a, "AlarmName").text_or("?");
    }
    if (!alarms.empty()) alarms = "its CloudWatch alarms " + alarms + ", defined elsewhere";
    if (f.key == "BlueGreenUpdatePolicy") {
      const Node trc = aws_block(cfg, "TrafficRoutingConfiguration");
      if (!trc) im.refuse(cfg.where() + ": no TrafficRoutingConfiguration (SageMaker requires it)");
      im.unsupported(trc);
      const std::string type = aws_key(trc, "Type").text();
      bake_s = final_bake_s = seconds(trc, "WaitIntervalInSeconds", 0, 3600);
      if (type == "ALL_AT_ONCE") {
        steps = {100};
      } else if (type == "CANARY") {
        const double p = share(aws_block(trc, "CanarySize"), "CanarySize");
        if (p > 50) aws_key(aws_block(trc, "CanarySize"), "Value").fail("a canary of at most 50 % of capacity, as SageMaker requires");
        steps = {p, 100};
      } else if (type == "LINEAR") {
        ladder(share(aws_block(trc, "LinearStepSize"), "LinearStepSize"));
      } else {
        aws_key(trc, "Type").fail("ALL_AT_ONCE, CANARY or LINEAR");
      }
      if (const Node wait = aws_key(cfg, "TerminationWaitInSeconds"); wait && wait.number() > 0)
        im.warn(wait.where() + ": the blue fleet kept after the deployment completes is not simulated (nor its cost)");
    } else {
      // A rolling update replaces instances in batches within one fleet: the new
      // version's share of traffic grows with the instances replaced.
      ladder(share(aws_block(cfg, "MaximumBatchSize"), "MaximumBatchSize"));
      bake_s = final_bake_s = seconds(cfg, "WaitIntervalInSeconds", 0, 3600);
      if (const Node rb = aws_key(cfg, "RollbackMaximumBatchSize"))
        im.warn(rb.where() + ": a rollback here takes all traffic off the new version at once, not batch by batch");
    }
    if (final_bake_s > 0)
      im.note("the final baking period, at 100 %, is taken as WaitIntervalInSeconds long (" + number_text(final_bake_s) +
              " s): SageMaker's guide names it but not its length");
    if (const Node timeout = aws_key(cfg, "MaximumExecutionTimeoutInSeconds"))
      im.warn(timeout.where() + ": not simulated (a deployment here never times out)");
  }
  return im.finish(what, aws_policy(im, steps, bake_s, final_bake_s, what, alarms));
}
}  // namespace

Imported import_policy(const std::string& tool, const std::vector<std::string>& inputs, const ImportOptions& options) {
  if (inputs.empty()) throw InputError(tool + ": expected at least one input");
  try {
    if (tool == "argo") return import_argo(inputs, options);
    if (tool == "flagger") return import_flagger(inputs, options);
    if (tool == "kayenta") return import_kayenta(inputs, options);
    if (tool == "aws") return import_aws(inputs, options);
  } catch (const YAML::Exception& e) {
    throw InputError(inputs.front() + ": " + e.what());
  }
  throw InputError(tool + ": unknown tool; expected one of: argo, flagger, kayenta, aws");
}

}  // namespace canarysim
