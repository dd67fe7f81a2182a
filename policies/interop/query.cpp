#include "policies/interop/query.h"
#include "policies/interop/text.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>

#include "sim/io/config.h"

namespace canarysim {
namespace {

bool contains(const std::string& s, const char* w) { return s.find(w) != std::string::npos; }
bool contains_any(const std::string& s, std::initializer_list<const char*> words) {
  return std::any_of(words.begin(), words.end(), [&](const char* w) { return contains(s, w); });
}

// A refusal: what the query measures and why canarysim cannot judge it.
struct Refusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void refuse(const std::string& why) { throw Refusal(why); }

// ---------------------------------------------------------------------------------
// The syntax tree shared by the dialects.

struct Matcher {
  std::string label, op, value;  // op: = != =~ !~
};

struct Ast {
  enum class Kind { kNumber, kString, kSelector, kCall, kBinary, kNegate } kind;
  double number = 0;
  std::string text;  // string; selector: metric name; call: function; binary: operator
  std::vector<Matcher> matchers;
  double range_s = 0;  // selector or subquery range; < 0: written but unreadable
  // `offset d`: the data d seconds before the evaluation (< 0: after); NaN: unreadable.
  double offset_s = 0;
  std::string at;  // `@ t`'s t, when it is a fixed time (not start() or end())
  // Selectors of dialects that always evaluate over the query's window (Datadog, NRQL):
  // counts in the window, never raw totals since the process started.
  bool windowed = false;
  double unit = 0;  // a time selector's unit (query units per second) when the dialect fixes it
  std::vector<std::shared_ptr<Ast>> args;
  // PromQL's label lists, which decide how many series the result has. An aggregation:
  // `by` or `without` and its labels. A binary operator: `on` or `ignoring` and its
  // labels, and the side group_left/group_right keeps ('l', 'r').
  struct Grouping {
    std::string kind;
    std::vector<std::string> labels;
    char many_side = 0;
  } group;
};
using AstPtr = std::shared_ptr<Ast>;

AstPtr make(Ast::Kind kind) {
  auto a = std::make_shared<Ast>();
  a->kind = kind;
  return a;
}
AstPtr number_node(double v) {
  auto a = make(Ast::Kind::kNumber);
  a->number = v;
  return a;
}
AstPtr call_node(std::string f, std::vector<AstPtr> args) {
  auto a = make(Ast::Kind::kCall);
  a->text = std::move(f);
  a->args = std::move(args);
  return a;
}
AstPtr binary_node(std::string op, AstPtr l, AstPtr r) {
  auto a = make(Ast::Kind::kBinary);
  a->text = std::move(op);
  a->args = {std::move(l), std::move(r)};
  return a;
}

// "5m", "1h30m", "90s", "250ms"; nullopt when not a duration.
std::optional<double> parse_duration(const std::string& s) {
  if (s.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    if (j == i) return std::nullopt;
    const double v = std::atof(s.substr(i, j - i).c_str());
    size_t k = j;
    while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) ++k;
    const std::string unit = s.substr(j, k - j);
    double mult;
    if (unit == "ms") mult = 1e-3;
    else if (unit == "s" || unit.empty()) mult = 1;
    else if (unit == "m") mult = 60;
    else if (unit == "h") mult = 3600;
    else if (unit == "d") mult = 86400;
    else if (unit == "w") mult = 604800;
    else if (unit == "y") mult = 31536000;
    else return std::nullopt;
    total += v * mult;
    i = k;
  }
  return total;
}

// ---------------------------------------------------------------------------------
// PromQL, as much as decides meaning: numbers, strings, selectors with matchers and
// ranges (and subqueries), offset and @, functions and aggregations with by/without,
// binary operators with their precedence, bool and vector matching (read and ignored).

bool is_aggregation(const std::string& f) {
  static const char* aggs[] = {"sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk",
                               "quantile", "count_values", "group", "limitk", "limit_ratio"};
  return std::any_of(std::begin(aggs), std::end(aggs), [&](const char* a) { return f == a; });
}
// Aggregations that pick series (and keep their labels) rather than combine them.
bool picks_series(const std::string& f) { return f == "topk" || f == "bottomk" || f == "limitk" || f == "limit_ratio"; }

class PromParser {
 public:
  explicit PromParser(std::string s) : s_(std::move(s)) {}
  AstPtr parse() {
    AstPtr e = binary(1);
    skip();
    if (pos_ != s_.size()) fail("unexpected '" + s_.substr(pos_, 12) + "'");
    return e;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    refuse("PromQL the reader cannot parse (" + what + " at character " + std::to_string(pos_ + 1) + ")");
  }
  void skip() {
    for (;;) {
      while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ < s_.size() && s_[pos_] == '#') {  // a comment to the end of the line
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
        continue;
      }
      return;
    }
  }
  bool peek(const char* tok) {
    skip();
    return s_.compare(pos_, std::strlen(tok), tok) == 0;
  }
  bool accept(const char* tok) {
    if (!peek(tok)) return false;
    pos_ += std::strlen(tok);
    return true;
  }
  bool accept_word(const char* word) {
    skip();
    const size_t n = std::strlen(word);
    if (lower(s_.substr(pos_, n)) != word) return false;
    if (pos_ + n < s_.size() && is_name_char(s_[pos_ + n])) return false;
    pos_ += n;
    return true;
  }
  void expect(const char* tok) {
    if (!accept(tok)) fail(std::string("expected '") + tok + "'");
  }
  static bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
  static bool is_name_char(char c) { return is_name_start(c) || std::isdigit(static_cast<unsigned char>(c)); }
  std::string name() {
    skip();
    const size_t from = pos_;
    while (pos_ < s_.size() && (is_name_char(s_[pos_]) || s_[pos_] == '.')) ++pos_;
    return s_.substr(from, pos_ - from);
  }
  struct Depth {
    explicit Depth(int& d) : d_(d) {
      if (++d_ > 100) refuse("a query nested more than 100 levels deep");
    }
    ~Depth() { --d_; }
    int& d_;
  };

  // Precedence climbing over PromQL's binary operators, lowest first.
  static int precedence(const std::string& op) {
    if (op == "or") return 1;
    if (op == "and" || op == "unless") return 2;
    if (op == "==" || op == "!=" || op == "<=" || op == ">=" || op == "<" || op == ">") return 3;
    if (op == "+" || op == "-") return 4;
    if (op == "*" || op == "/" || op == "%" || op == "atan2") return 5;
    if (op == "^") return 6;
    return 0;
  }
  std::string peek_operator() {
    skip();
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "^"})
      if (s_.compare(pos_, std::strlen(op), op) == 0) return op;
    for (const char* w : {"or", "and", "unless", "atan2"}) {
      const size_t n = std::strlen(w);
      if (lower(s_.substr(pos_, n)) == w && (pos_ + n >= s_.size() || !is_name_char(s_[pos_ + n]))) return w;
    }
    return "";
  }
  AstPtr binary(int min_prec) {
    Depth d(depth_);
    AstPtr lhs = unary();
    for (;;) {
      const std::string op = peek_operator();
      const int prec = precedence(op);
      if (op.empty() || prec < min_prec) return lhs;
      pos_ += op.size();
      accept_word("bool");
      Ast::Grouping matching;
      modifiers(&matching);
      // '^' is right-associative; the others left.
      AstPtr rhs = binary(op == "^" ? prec : prec + 1);
      lhs = binary_node(op, lhs, rhs);
      lhs->group = std::move(matching);
    }
  }
  // on(...), ignoring(...), group_left(...), group_right(...): which series match.
  void modifiers(Ast::Grouping* a) {
    for (;;) {
      if (accept_word("on")) a->kind = "on", a->labels = label_list();
      else if (accept_word("ignoring")) a->kind = "ignoring", a->labels = label_list();
      else if (const bool left = accept_word("group_left"); left || accept_word("group_right")) {
        a->many_side = left ? 'l' : 'r';
        if (peek("(")) label_list();  // labels copied from the one side
      } else {
        return;
      }
    }
  }
  std::vector<std::string> label_list() {
    std::vector<std::string> out;
    expect("(");
    while (!accept(")")) {
      const std::string label = name();
      if (label.empty()) fail("expected a label name");
      out.push_back(label);
      accept(",");
    }
    return out;
  }
  AstPtr unary() {
    Depth d(depth_);
    if (accept("-")) {
      auto n = make(Ast::Kind::kNegate);
      n->args = {binary(6)};
      return n;
    }
    if (accept("+")) return binary(6);
    return postfix(primary());
  }
  AstPtr postfix(AstPtr e) {
    for (;;) {
      if (accept("[")) {  // a range, or a subquery [range:step]
        skip();
        const size_t from = pos_;
        while (pos_ < s_.size() && s_[pos_] != ']' && s_[pos_] != ':') ++pos_;
        std::string range = s_.substr(from, pos_ - from);
        range.erase(range.find_last_not_of(" \t") + 1);
        if (accept(":")) {
          while (pos_ < s_.size() && s_[pos_] != ']') ++pos_;
        }
        expect("]");
        const auto d = parse_duration(range);
        e->range_s = d ? *d : -1;
      } else if (accept_word("offset")) {
        const bool ahead = accept("-");
        const auto d = parse_duration(name());
        e->offset_s = d ? (ahead ? -*d : *d) : std::numeric_limits<double>::quiet_NaN();
      } else if (accept("@")) {
        // start() and end() are the evaluation time of an instant query, as Argo's are.
        if (accept_word("start") || accept_word("end")) {
          expect("(");
          expect(")");
          continue;
        }
        skip();
        const size_t from = pos_;
        while (pos_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[pos_])) && s_[pos_] != ')') ++pos_;
        e->at = s_.substr(from, pos_ - from);
        if (e->at.empty()) fail("expected a time after '@'");
      } else {
        return e;
      }
    }
  }
  std::string string_literal() {
    skip();
    const char quote = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && quote != '`' && pos_ + 1 < s_.size()) {
        const char c = s_[++pos_];
        out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
        ++pos_;
        continue;
      }
      out += s_[pos_++];
    }
    if (pos_ >= s_.size()) fail("an unterminated string");
    ++pos_;
    return out;
  }
  std::vector<Matcher> matchers() {
    std::vector<Matcher> out;
    expect("{");
    while (!accept("}")) {
      Matcher m;
      skip();
      if (pos_ < s_.size() && (s_[pos_] == '"' || s_[pos_] == '\'')) m.label = "__name__", m.op = "=",
                                                                  m.value = string_literal();
      else {
        m.label = name();
        if (m.label.empty()) fail("expected a label name");
        for (const char* op : {"=~", "!~", "!=", "="})
          if (accept(op)) {
            m.op = op;
            break;
          }
        if (m.op.empty()) fail("expected a label matcher operator");
        skip();
        if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'' && s_[pos_] != '`')) fail("expected a string");
        m.value = string_literal();
      }
      out.push_back(m);
      accept(",");
      if (pos_ >= s_.size()) fail("an unterminated selector");
    }
    return out;
  }
  AstPtr primary() {
    skip();
    if (pos_ >= s_.size()) fail("an unexpected end");
    const char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      AstPtr e = binary(1);
      expect(")");
      return e;
    }
    if (c == '"' || c == '\'' || c == '`') {
      auto n = make(Ast::Kind::kString);
      n->text = string_literal();
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && pos_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
      const char* start = s_.c_str() + pos_;
      char* end = nullptr;
      const double v = std::strtod(start, &end);
      pos_ += static_cast<size_t>(end - start);
      return number_node(v);
    }
    if (c == '{') {
      auto n = make(Ast::Kind::kSelector);
      n->matchers = matchers();
      for (const Matcher& m : n->matchers)
        if (m.label == "__name__" && m.op == "=") n->text = m.value;
      return n;
    }
    if (!is_name_start(c)) fail("unexpected '" + std::string(1, c) + "'");
    const std::string id = name();
    const std::string lid = lower(id);
    if (lid == "inf" || lid == "nan") return number_node(lid == "inf" ? HUGE_VAL : NAN);
    if (is_aggregation(lid)) {
      Ast::Grouping clause;
      grouping(&clause);
      if (peek("(")) {
        auto n = call_node(lid, arguments());
        if (clause.kind.empty()) grouping(&clause);
        n->group = std::move(clause);
        return n;
      }
    }
    if (peek("(")) return call_node(lid, arguments());
    auto n = make(Ast::Kind::kSelector);
    n->text = id;
    if (peek("{")) n->matchers = matchers();
    return n;
  }
  // An aggregation's `by (...)` or `without (...)`, if there.
  void grouping(Ast::Grouping* a) {
    if (accept_word("by")) a->kind = "by", a->labels = label_list();
    else if (accept_word("without")) a->kind = "without", a->labels = label_list();
  }
  std::vector<AstPtr> arguments() {
    std::vector<AstPtr> args;
    expect("(");
    while (!accept(")")) {
      args.push_back(binary(1));
      if (!accept(",") && !peek(")")) fail("expected ',' or ')'");
    }
    return args;
  }

  std::string s_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------
// Datadog metric queries: `sum:trace.http.request.errors{service:web,env:prod}.as_count()
// / sum:trace.http.request.hits{service:web}.as_count()`, `p99:latency{...}`, with
// arithmetic, numbers and functions. Tags become matchers (a trailing * a regex).

class DatadogParser {
 public:
  explicit DatadogParser(std::string s) : s_(std::move(s)) {}
  AstPtr parse() {
    AstPtr e = sum();
    skip();
    if (pos_ != s_.size()) fail("unexpected '" + s_.substr(pos_, 12) + "'");
    return e;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    refuse("a Datadog query the reader cannot parse (" + what + " at character " + std::to_string(pos_ + 1) + ")");
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) return ++pos_, true;
    return false;
  }
  static bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  }
  std::string word() {
    skip();
    const size_t from = pos_;
    while (pos_ < s_.size() && word_char(s_[pos_])) ++pos_;
    return s_.substr(from, pos_ - from);
  }
  AstPtr sum() {
    if (++depth_ > 100) refuse("a query nested more than 100 levels deep");
    AstPtr e = product();
    for (;;) {
      if (accept('+')) e = binary_node("+", e, product());
      else if (accept('-')) e = binary_node("-", e, product());
      else break;
    }
    --depth_;
    return e;
  }
  AstPtr product() {
    AstPtr e = term();
    for (;;) {
      if (accept('*')) e = binary_node("*", e, term());
      else if (accept('/')) e = binary_node("/", e, term());
      else return e;
    }
  }
  AstPtr term() {
    skip();
    if (accept('(')) {
      AstPtr e = sum();
      if (!accept(')')) fail("expected ')'");
      return e;
    }
    if (pos_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) {
      const char* start = s_.c_str() + pos_;
      char* end = nullptr;
      const double v = std::strtod(start, &end);
      pos_ += static_cast<size_t>(end - start);
      return number_node(v);
    }
    const std::string first = word();
    if (first.empty()) fail("expected a metric or a number");
    if (accept('(')) {  // a function: its first argument carries the meaning
      std::vector<AstPtr> args{sum()};
      while (accept(',')) args.push_back(sum());
      if (!accept(')')) fail("expected ')'");
      return call_node(lower(first), args);
    }
    std::string aggregator, metric = first;
    if (accept(':')) aggregator = lower(first), metric = word();
    auto sel = make(Ast::Kind::kSelector);
    sel->text = metric;
    if (accept('{')) {
      skip();
      const size_t from = pos_;
      while (pos_ < s_.size() && s_[pos_] != '}') ++pos_;
      if (!accept('}')) fail("an unterminated tag list");
      // Tags are separated by commas or AND, across lines as often as not; NOT and a
      // leading ! negate one. OR is a union of selections the reader does not read.
      std::string tags;
      for (const std::string& w : words(s_.substr(from, pos_ - 1 - from))) {
        const std::string u = lower(w);
        if (u == "or" || u == "in") fail("a tag filter with " + w + ", which the reader does not read");
        tags += u == "and" ? "," : u == "not" ? ",!" : " " + w;
      }
      size_t i = 0;
      while (i <= tags.size()) {
        size_t comma = tags.find(',', i);
        if (comma == std::string::npos) comma = tags.size();
        std::string tag = tags.substr(i, comma - i);
        tag.erase(0, tag.find_first_not_of(' '));
        tag.erase(tag.find_last_not_of(' ') + 1);
        i = comma + 1;
        if (tag.empty() || tag == "*") continue;
        Matcher m;
        const bool negated = tag[0] == '!';
        if (negated) tag.erase(0, 1);
        tag.erase(0, tag.find_first_not_of(' '));
        if (tag.empty()) continue;
        const size_t colon = tag.find(':');
        m.label = colon == std::string::npos ? tag : tag.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : tag.substr(colon + 1);
        if (value.find('*') != std::string::npos) {
          std::string re;
          for (char c : value) re += c == '*' ? std::string(".*") : std::string(1, c);
          m.op = negated ? "!~" : "=~";
          m.value = re;
        } else {
          m.op = negated ? "!=" : "=";
          m.value = value;
        }
        sel->matchers.push_back(m);
      }
    }
    if (accept('b')) {  // "by {tags}"
      if (!accept('y') || !accept('{')) fail("expected 'by {...}'");
      while (pos_ < s_.size() && s_[pos_] != '}') ++pos_;
      accept('}');
    }
    while (accept('.')) {  // .as_count(), .as_rate(), .rollup(...), .fill(...)
      const std::string fn = lower(word());
      if (accept('(')) {
        int depth = 1;
        while (pos_ < s_.size() && depth > 0) depth += s_[pos_] == '(' ? 1 : s_[pos_] == ')' ? -1 : 0, ++pos_;
      }
    }
    sel->windowed = true;
    // Datadog APM's trace.*.duration metrics are seconds.
    if (lower(metric).rfind("trace.", 0) == 0 && contains(lower(metric), "duration")) sel->unit = 1;
    // p99:metric and avg:metric.99p are the quantiles of a distribution.
    std::optional<double> q;
    if (aggregator.size() > 1 && aggregator[0] == 'p' && std::isdigit(static_cast<unsigned char>(aggregator[1])))
      q = std::atof(aggregator.c_str() + 1) / 100;
    static const std::regex suffix(R"(^(.*)\.(\d+)p$)");
    std::smatch sm;
    if (metric.size() < 256 && std::regex_match(metric, sm, suffix)) sel->text = sm[1], q = std::atof(sm[2].str().c_str()) / 100;
    if (q) return call_node("histogram_quantile", {number_node(*q), call_node("__distribution", {sel})});
    if (aggregator == "avg" && is_time_like(metric)) return call_node("__mean", {sel});
    return sel;
  }
  static bool is_time_like(const std::string& m) {
    const std::string l = lower(m);
    return contains_any(l, {"duration", "latency", "response_time", "time_to_first_token", "ttft"});
  }

  std::string s_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------
// New Relic NRQL, in the shapes canary checks take:
//   SELECT percentage(count(*), WHERE error IS true) FROM Transaction ...
//   SELECT percentile(duration, 99) FROM Transaction ...
//   SELECT average(duration) FROM Transaction ...
// The query's own WHERE (outside any function's parentheses), up to the next clause; ""
// when it has none. `l`: the query in lower case.
std::string nrql_where(const std::string& l) {
  static const std::vector<std::string> kClauses = {"facet", "since", "until", "timeseries", "limit", "compare",
                                                    "order", "extrapolate", "with", "select", "from"};
  auto word_at = [&](size_t i, const std::string& w) {
    return l.compare(i, w.size(), w) == 0 && (i == 0 || !std::isalnum(static_cast<unsigned char>(l[i - 1]))) &&
           (i + w.size() == l.size() || !std::isalnum(static_cast<unsigned char>(l[i + w.size()])));
  };
  int depth = 0;
  char quote = 0;
  size_t start = std::string::npos;
  for (size_t i = 0; i < l.size(); ++i) {
    const char c = l[i];
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') quote = c;
    else if (c == '(') ++depth;
    else if (c == ')') --depth;
    else if (depth == 0 && start == std::string::npos && word_at(i, "where")) start = i + 5;
    else if (depth == 0 && start != std::string::npos)
      for (const std::string& w : kClauses)
        if (word_at(i, w)) return l.substr(start, i - start);
  }
  return start == std::string::npos ? "" : l.substr(start);
}

// Refuses a query whose own WHERE keeps requests by their outcome (an error, a status, a
// duration): it then measures those requests, not the version's traffic. A WHERE on the
// service, host, version or endpoint chooses whose traffic is measured, which is read.
void check_nrql_where(const std::string& l) {
  const std::string where = nrql_where(l);
  static const std::regex term(R"(([a-z_][\w.]*)\s*(=|!=|<>|>=|<=|<|>|\bis\b|\bnot\b|\blike\b|\bin\b|\brlike\b))");
  static const std::vector<std::string> kOutcomes = {"error", "httpresponsecode", "response.status", "response.statuscode",
                                                     "http.statuscode", "http.status_code", "status", "status_code",
                                                     "response_code", "duration", "totaltime", "databaseduration",
                                                     "error.class", "error.message"};
  for (auto it = std::sregex_iterator(where.begin(), where.end(), term); it != std::sregex_iterator(); ++it) {
    const std::string attribute = (*it)[1];
    if (std::find(kOutcomes.begin(), kOutcomes.end(), attribute) == kOutcomes.end()) continue;
    refuse("an NRQL query whose WHERE keeps requests by " + attribute + " (WHERE " + join(words(where.substr(0, 120)), " ") +
           "): it measures those requests alone, not the version's traffic");
  }
}

AstPtr parse_nrql(const std::string& q) {
  const std::string l = lower(q);
  std::smatch m;
  const std::string head = l.substr(0, std::min<size_t>(l.size(), 1024));
  check_nrql_where(head);
  // The clauses may come in any order (FROM Transaction SELECT ... is NRQL too).
  static const std::regex pct(R"(percentage\s*\(\s*count\s*\(\s*\*\s*\)\s*,\s*where\s+(.*?)\))");
  static const std::regex pctl(R"(percentile\s*\(\s*([\w.]+)\s*,\s*([\d.]+)\s*\))");
  static const std::regex avg(R"(average\s*\(\s*([\w.]+)\s*\))");
  if (!std::regex_search(head, std::regex(R"(\bselect\b)")))
    refuse("an NRQL query without SELECT");
  // filter(sum(m), WHERE c) / sum(m) (* 100): the same share over a metric's counts, as
  // New Relic's dimensional metrics (FROM Metric) write it; count(*) over events too.
  static const std::regex share(R"(filter\s*\(\s*(sum\s*\(\s*([\w.:]+)\s*\)|count\s*\(\s*\*\s*\))\s*,\s*where\s+(.*?)\)\s*/\s*(sum\s*\(\s*([\w.:]+)\s*\)|count\s*\(\s*\*\s*\))\s*(\*\s*100)?)");
  const bool is_share = std::regex_search(head, m, share);
  if (is_share && (m[2] != m[5] || (m[2].length() == 0) != (m[5].length() == 0)))
    refuse("an NRQL share whose numerator and denominator count different things (" + m[1].str() + ", " + m[4].str() + ")");
  if (is_share || std::regex_search(head, m, pct)) {
    const std::string cond = is_share ? m[3].str() : m[1].str();
    const double scale = !is_share || m[6].length() > 0 ? 100 : 1;
    const bool failures = std::regex_search(cond, std::regex(R"((error\s+is\s+true|error\s*=\s*true|(httpresponsecode|response\.status|status|code)\s*(>=\s*'?500|like\s+'5%')))"));
    const bool successes = std::regex_search(cond, std::regex(R"((error\s+is\s+(false|null)|error\s*=\s*false|(httpresponsecode|response\.status|status|code)\s*<\s*'?500))"));
    if (failures == successes) refuse("an NRQL percentage whose condition ('" + cond + "') is not a failure or success test the reader knows");
    auto sel = make(Ast::Kind::kSelector);
    sel->text = failures ? "nrql_failures_total" : "nrql_successes_total";
    auto all = make(Ast::Kind::kSelector);
    all->text = "nrql_requests_total";
    sel->windowed = all->windowed = true;
    return binary_node("*", binary_node("/", sel, all), number_node(scale));
  }
  const bool is_pctl = std::regex_search(head, m, pctl);
  if (is_pctl || std::regex_search(head, m, avg)) {
    const std::string attribute = m[1];
    if (attribute != "duration" && attribute != "totaltime" && attribute != "databaseduration")
      refuse("an NRQL " + std::string(is_pctl ? "percentile" : "average") + " of '" + attribute + "', not a request duration");
    if (attribute == "databaseduration") refuse("NRQL databaseDuration: time spent in databases, not a request latency");
    auto sel = make(Ast::Kind::kSelector);
    sel->text = "duration";
    sel->unit = 1;  // New Relic's durations are seconds
    sel->windowed = true;
    if (is_pctl) return call_node("histogram_quantile", {number_node(std::atof(m[2].str().c_str()) / 100), call_node("__distribution", {sel})});
    return call_node("__mean", {sel});
  }
  refuse("an NRQL query in a shape the reader does not know (it reads percentage(count(*), WHERE ...), a filter() share, "
         "percentile(duration, N) and average(duration))");
}

// ---------------------------------------------------------------------------------
// Meaning, bottom-up.

struct Meaning {
  enum class Kind { kNumber, kCounter, kBuckets, kSum, kCount, kGauge, kValue } kind = Kind::kNumber;
  double number = 0;
  std::string family;   // the metric family name
  std::string subset;   // counters: all, failures, successes, hallucinations, unsafe, cost, output_tokens
  std::string side;     // "", canary, stable
  bool per_second = false, cumulative = true;
  double window = 0;
  double unit = 0;      // times: query units per second (1, 1000, 1e6); 0: none
  std::string metric;   // kValue: the canarysim metric
  double scale = 1;
  std::string version = "canary";
  std::vector<std::string> notes;
  // A matcher that selects failures by a status label (code=~"5.."): such series exist
  // only from a version's first failure, so the query returns no data until then.
  std::string sparse;
};

// The side a label value names.
std::string side_of_value(const std::string& v) {
  const std::string l = lower(v);
  if (contains(l, "{canary}") || contains(l, "canary")) return "canary";
  if (contains_any(l, {"{stable}", "stable", "primary", "baseline"})) return "stable";
  return "";
}

// Query units per second named by a family (_seconds -> 1, _milliseconds/_ms -> 1000).
double unit_of(const std::string& family) {
  std::vector<std::string> words;
  std::string w;
  for (char c : lower(family)) {
    if (c == '_' || c == '.' || c == ':') {
      if (!w.empty()) words.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) words.push_back(w);
  for (const std::string& x : words) {
    if (x == "seconds" || x == "second" || x == "sec" || x == "secs") return 1;
    if (x == "milliseconds" || x == "millisecond" || x == "ms" || x == "millis") return 1000;
    if (x == "microseconds" || x == "us" || x == "micros") return 1e6;
    if (x == "nanoseconds" || x == "ns") return 1e9;
  }
  return 0;
}

// The canarysim SLI of a time family: ttft, itl (each request's mean time per output
// token), token_gap (every interval between tokens) or latency. vLLM observes each
// interval in inter_token_latency_seconds (and its deprecated time_per_output_token_seconds),
// and each request's mean in request_time_per_output_token_seconds; TGI's
// request_mean_time_per_token is a per-request mean, as benchmarks' TPOT is.
std::string time_sli(const std::string& family, const QueryContext& ctx, std::vector<std::string>* notes) {
  const std::string l = lower(family);
  if (contains_any(l, {"time_to_first_token", "ttft", "first_token"})) return "ttft";
  if (contains_any(l, {"request_time_per_output_token", "mean_time_per_token", "mean_time_per_output_token", "tpot"}))
    return "itl";
  if (contains_any(l, {"inter_token", "time_per_output_token", "time_per_token", "itl"})) return "token_gap";
  if (contains_any(l, {"queue", "prefill", "decode", "scheduling", "connect", "dns", "db_", "database"}))
    refuse("'" + family + "' times a stage canarysim does not judge (only time to first token, inter-token "
           "and end-to-end latency)");
  if (contains(l, "e2e")) return "latency";
  // A time of whole requests: named so, or a request family with a time unit
  // (Micrometer's http_server_requests_seconds).
  if (contains_any(l, {"duration", "latency", "response_time", "request_time", "responsetime"}) ||
      (unit_of(family) > 0 && contains(l, "request"))) {
    const std::string sli = ctx.latency == "ttft" ? "ttft" : ctx.latency == "itl" ? "itl" : "latency";
    notes->push_back("'" + family + "' is a request latency, read as " +
                     (sli == "latency" ? std::string("end-to-end latency") : sli) + " (--latency e2e|ttft|itl)");
    return sli;
  }
  refuse("'" + family + "' is not a latency canarysim knows (time to first token, inter-token, end-to-end)");
}

// Sample values of a status label: successes, failures, and the rest (3xx, 4xx) that
// canarysim's requests never have.
struct Vocabulary {
  std::vector<std::string> ok, bad, rest;
  const char* rest_text = "3xx, 4xx";
};

// Which requests a status-like matcher keeps: "all", "failures", "successes" or "" (a
// set that is neither), by testing it on sample values of its label's vocabulary:
// successes (2xx, OK, success), failures (5xx, Unavailable, failure) and the rest. A
// matcher that keeps some failures and no success counts failures (noted when it keeps
// only some, or the rest too); some successes and no failure, successes; everything, all.
//
// HTTP statuses are written as codes (500), classes (5xx) or a class's digit (Envoy's
// envoy_response_code_class="5"), and the label's name does not say which: the matcher
// is tested in each form in which it keeps some values and not others, and every such
// form must agree (a matcher that discriminates in none keeps everything or nothing).
std::string classify_matcher(const Matcher& m, std::vector<std::string>* notes) {
  const std::string label = lower(m.label);
  const bool boolean_label = label == "error" || label == "failed" || label == "failure" || label == "is_error" ||
                             label == "success" || label == "ok" || label == "succeeded";
  if (m.value.size() > 256) refuse("a label matcher longer than 256 characters");
  std::vector<Vocabulary> forms;
  if (boolean_label) {
    const bool good_when_true = label == "success" || label == "ok" || label == "succeeded";
    forms.push_back({good_when_true ? std::vector<std::string>{"true", "1"} : std::vector<std::string>{"false", "0", ""},
                     good_when_true ? std::vector<std::string>{"false", "0"} : std::vector<std::string>{"true", "1"},
                     {}});
  } else if (contains(label, "grpc")) {
    forms.push_back({{"OK"},
                     {"Unavailable", "Internal", "Unknown", "DeadlineExceeded", "ResourceExhausted"},
                     {"NotFound", "InvalidArgument", "Canceled", "PermissionDenied"},
                     "NotFound, InvalidArgument"});
  } else if (contains(lower(m.value), "xx") ||
             std::any_of(m.value.begin(), m.value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    forms.push_back({{"200", "201", "204"}, {"500", "502", "503", "504"}, {"302", "304", "400", "404", "429"}});
    forms.push_back({{"2xx"}, {"5xx"}, {"3xx", "4xx"}});
    forms.push_back({{"2"}, {"5"}, {"1", "3", "4"}});
  } else {
    // An enumerated vocabulary (success/failure, SUCCESS/SERVER_ERROR, ok/error): the
    // words the matcher names decide, each known as good or bad.
    // A finish reason (vLLM's finished_reason: stop, length, abort) is a status too.
    static const char* good_words[] = {"success", "succeeded", "ok", "2xx", "informational", "redirection", "stop", "length"};
    static const char* bad_words[] = {"failure", "failed", "fail", "error", "server_error", "5xx", "timeout", "aborted", "abort"};
    std::vector<std::string> words;
    std::string w;
    for (char c : lower(m.value) + "|") {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') w += c;
      else if (!w.empty()) words.push_back(w), w.clear();
    }
    auto in = [](const std::string& x, const char* const* list, size_t n) {
      return std::any_of(list, list + n, [&](const char* y) { return x == y; });
    };
    bool all_good = !words.empty(), all_bad = !words.empty();
    for (const std::string& x : words) {
      all_good &= in(x, good_words, std::size(good_words));
      all_bad &= in(x, bad_words, std::size(bad_words)) || x == "client_error";
    }
    const bool keep = m.op == "=" || m.op == "=~";
    if (all_bad && std::find(words.begin(), words.end(), "client_error") != words.end())
      notes->push_back(m.label + m.op + "\"" + m.value + "\" counts client errors as failures; canarysim's failed "
                       "requests are the server's");
    if (all_bad) return keep ? "failures" : "successes";
    if (all_good) return keep ? "successes" : "failures";
    return "";
  }
  std::optional<std::regex> re;
  if (m.op == "=~" || m.op == "!~") {
    try {
      // Polynomial time (libstdc++'s automaton, not its exponential backtracking); PromQL's
      // RE2 has no backreferences, and a pattern with one is refused below.
      re.emplace(m.value, std::regex::ECMAScript | std::regex_constants::__polynomial);
    } catch (const std::regex_error&) {
      refuse("the label matcher " + m.label + m.op + "\"" + m.value + "\" is not a regular expression the reader knows");
    }
  }
  auto keeps = [&](const std::string& v) {
    const bool match = re ? std::regex_match(v, *re) : v == m.value;
    return (m.op == "=" || m.op == "=~") ? match : !match;
  };
  const std::string matcher = m.label + m.op + "\"" + m.value + "\"";
  auto classify = [&](const Vocabulary& f, std::vector<std::string>* found) -> std::string {
    auto count = [&](const std::vector<std::string>& vs) {
      return static_cast<size_t>(std::count_if(vs.begin(), vs.end(), keeps));
    };
    const size_t k_ok = count(f.ok), k_bad = count(f.bad), k_rest = count(f.rest);
    if (k_ok == f.ok.size() && k_bad == f.bad.size() && k_rest == f.rest.size()) return "all";
    if (k_bad > 0 && k_ok == 0) {
      if (k_bad < f.bad.size())
        found->push_back(matcher + " counts only some server errors; read as all of canarysim's failed requests");
      if (k_rest > 0)
        found->push_back(matcher + " also counts responses that are neither (" + f.rest_text + ") as failures; "
                         "canarysim's requests succeed or fail");
      return "failures";
    }
    if (k_ok > 0 && k_bad == 0) {
      if (k_ok < f.ok.size()) found->push_back(matcher + " counts only some successes; read as all of them");
      return "successes";
    }
    return k_ok + k_bad + k_rest == 0 ? "none" : "";
  };
  // The readings of the forms in which the matcher discriminates, with their notes.
  std::vector<std::pair<std::string, std::vector<std::string>>> readings;
  bool keeps_all = false;
  for (const Vocabulary& f : forms) {
    std::vector<std::string> found;
    const std::string c = classify(f, &found);
    keeps_all |= c == "all";
    if (c != "all" && c != "none") readings.emplace_back(c, std::move(found));
  }
  if (readings.empty()) return keeps_all ? "all" : "";
  for (const auto& r : readings) {
    if (r.first == readings.front().first) continue;
    auto name = [](const std::string& c) { return c.empty() ? std::string("a set that is neither") : c; };
    refuse("the matcher " + matcher + " keeps " + name(readings.front().first) + " of status codes written one way and " +
           name(r.first) + " of codes written another: the reader cannot tell which its label holds");
  }
  notes->insert(notes->end(), readings.front().second.begin(), readings.front().second.end());
  return readings.front().first;
}

bool status_like(const std::string& label) {
  const std::string l = lower(label);
  return contains_any(l, {"code", "status", "class", "outcome", "result", "reason"}) || l == "error" || l == "failed" ||
         l == "failure" || l == "is_error" || l == "success" || l == "ok" || l == "succeeded";
}

// A latency series kept to some outcomes by its matchers: the failures alone measure how
// fast requests fail, which canarysim's latency (of every served request) is not, so it is
// refused; the successes alone are near every request's, so it is read, and said.
void check_latency_outcome(const Ast& a, std::vector<std::string>* notes) {
  for (const Matcher& x : a.matchers) {
    if (!status_like(x.label) || x.label == "__name__") continue;
    const std::string matcher = x.label + x.op + "\"" + x.value + "\"";
    std::vector<std::string> found;
    const std::string c = classify_matcher(x, &found);
    if (c == "all") continue;
    if (c != "successes")
      refuse("'" + a.text + "' with " + matcher + " is the latency of " + (c == "failures" ? "failed requests" : "some responses") +
             " alone; canarysim's latency is every served request's");
    notes->push_back(matcher + " keeps the latency of successful requests; read as every served request's (canarysim's "
                     "latency counts failed ones too)");
  }
}

Meaning selector_meaning(const Ast& a, std::vector<std::string>* notes) {
  Meaning m;
  m.family = a.text;
  const std::string fam = lower(a.text);
  if (fam.empty()) refuse("a selector without a metric name");
  if (contains(fam, "__var_")) refuse("the metric name '" + a.text + "' is a template variable the reader cannot resolve");
  // level:metric:operations is how Prometheus names recording rules (colons are reserved
  // for them; vLLM's vllm:... has one): what such a series holds is the rule's expression.
  if (std::count(fam.begin(), fam.end(), ':') >= 2)
    refuse("'" + a.text + "' is a recording rule (level:metric:operations): what it holds is in the rule's "
           "definition, which the import does not see; put the expression it records in the query");
  for (const Matcher& x : a.matchers) {
    std::string s = side_of_value(x.value);
    if (x.op == "=~" && x.value.find('|') != std::string::npos) {
      // Alternatives: each names a side or none; a pattern whose alternatives differ
      // matches more than one version's values (podinfo|podinfo-primary).
      std::set<std::string> sides;
      for (const std::string& alt : split(x.value, '|')) sides.insert(side_of_value(alt));
      if (sides.count("canary") && sides.count("stable")) s = "both";
      else if (sides.size() > 1) {
        if (notes)
          notes->push_back("the matcher " + x.label + "=~\"" + x.value + "\" matches the " + *sides.rbegin() +
                           " version's values and others: read as naming no version");
        s.clear();
      }
    }
    if (s.empty() || x.label == "__name__") continue;
    if (s == "both") refuse("a selector that names both the canary and the stable version");
    if (x.op == "!=" || x.op == "!~") continue;  // excludes a side, names none
    if (!m.side.empty() && m.side != s) refuse("a selector that names both the canary and the stable version");
    m.side = s;
  }
  m.window = a.range_s > 0 ? a.range_s : 0;
  auto ends = [&](const char* suffix) {
    const size_t n = std::strlen(suffix);
    return fam.size() > n && fam.compare(fam.size() - n, n, suffix) == 0;
  };
  if (ends("_bucket") || ends(".bucket") || ends("_sum") || ends(".sum") ||
      (unit_of(fam) != 0 && !ends("_count") && !ends(".count") && !ends("_total")))
    check_latency_outcome(a, notes);
  if (ends("_bucket") || ends(".bucket")) {
    m.kind = Meaning::Kind::kBuckets;
    m.family = a.text.substr(0, a.text.size() - 7);
    return m;
  }
  if (ends("_sum") || ends(".sum")) {
    m.kind = Meaning::Kind::kSum;
    m.family = a.text.substr(0, a.text.size() - 4);
    return m;
  }
  // A summary's quantile series is each pod's own quantile over its client library's
  // sliding window: it neither adds up across pods nor follows the check's window.
  for (const Matcher& x : a.matchers)
    if (x.label == "quantile" && x.op == "=")
      refuse("'" + a.text + "{quantile=\"" + x.value + "\"}' is a summary's quantile, computed by each pod over its "
             "client library's own sliding window (10 minutes in Prometheus's clients): canarysim cannot reproduce it; "
             "it reads a histogram's (histogram_quantile() of _bucket)");
  // A time in a family that is not a histogram's or summary's count (_count, _total) is
  // a gauge (Micrometer's _seconds_max), whatever else its name says.
  if (unit_of(fam) != 0 && !ends("_count") && !ends(".count") && !ends("_total")) {
    m.kind = Meaning::Kind::kGauge;
    return m;
  }
  // A histogram's _count counts requests: a counter of all of them.
  m.kind = Meaning::Kind::kCounter;
  if (contains(fam, "hallucinat")) m.subset = "hallucinations";
  else if (contains_any(fam, {"unsafe", "jailbreak"})) m.subset = "unsafe";
  else if (contains(fam, "cost")) m.subset = "cost";
  else if (contains_any(fam, {"generation_tokens", "output_tokens", "completion_tokens"})) m.subset = "output_tokens";
  else if (contains_any(fam, {"prompt_tokens", "input_tokens"})) refuse("'" + a.text + "' counts prompt tokens: canarysim does not judge them");
  else if (contains_any(fam, {"error", "fail", "5xx", "exception"})) m.subset = "failures";
  // vLLM's request_success_total counts every finished request, aborted ones too: its
  // finished_reason label (stop, length, abort) says how each ended.
  else if (contains(fam, "vllm:request_success")) m.subset = "all";
  else if (contains_any(fam, {"success", "succeeded"})) m.subset = "successes";
  else if (contains_any(fam, {"request", "response", "hits", "handled", "calls", "rq", "_count", ".count",
                               "_total", "transaction"})) m.subset = "all";
  else {
    m.kind = Meaning::Kind::kGauge;  // not a counter of requests: a gauge (quality scores, GPU memory)
    return m;
  }
  for (const Matcher& x : a.matchers) {
    if (!status_like(x.label) || x.label == "__name__") continue;
    const std::string c = classify_matcher(x, notes);
    if (c.empty())
      refuse("the matcher " + x.label + x.op + "\"" + x.value + "\" keeps a set of responses that is neither all, "
             "the failures nor the successes");
    if (c == "all") continue;
    if (c == "failures") m.sparse = x.label + x.op + "\"" + x.value + "\"";
    if (m.subset == "all") m.subset = c;
    else if (m.subset != c) refuse("'" + a.text + "' with " + x.label + x.op + "\"" + x.value + "\" counts " + c +
                                   " of " + m.subset + ": a set the reader cannot name");
  }
  return m;
}

Meaning value(std::string metric, double scale, std::string side, double window, std::vector<std::string> notes) {
  Meaning m;
  m.kind = Meaning::Kind::kValue;
  m.metric = std::move(metric);
  m.scale = scale;
  m.side = std::move(side);
  m.window = window;
  m.notes = std::move(notes);
  return m;
}

std::string quantile_name(double q) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", q * 100);
  return std::string("p") + buf;
}

std::string same_side(const Meaning& a, const Meaning& b, const char* what) {
  if (!a.side.empty() && !b.side.empty() && a.side != b.side)
    refuse(std::string(what) + " of the canary and the stable version");
  return a.side.empty() ? b.side : a.side;
}

bool near(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

// Why a counter alone (not in a ratio) is refused.
std::string counter_alone(const Meaning& c) {
  const std::string what = c.subset == "all" ? "requests" : c.subset;
  if (c.per_second) return "a rate per second of " + what + " ('" + c.family + "'), not a ratio: canarysim judges ratios (failures / requests)";
  if (!c.cumulative) return "a count of " + what + " ('" + c.family + "'), not a ratio: canarysim judges ratios (failures / requests)";
  return "a raw counter ('" + c.family + "') without rate() or increase()";
}

class Reader {
 public:
  explicit Reader(const QueryContext& ctx) : ctx_(ctx) {}
  std::vector<std::string> notes;

  Meaning eval(const Ast& a) {
    if (!a.at.empty())
      refuse("'@ " + a.at + "' fixes the time the query reads: every measurement would read the same moment");
    if (a.offset_s != 0) {
      notes.push_back(std::isnan(a.offset_s)
                          ? std::string("an offset the reader cannot resolve: the real check reads the series some time "
                                        "before each measurement; canarysim reads the latest")
                          : "'offset " + format_duration(std::abs(a.offset_s)) + "' reads the series " +
                                format_duration(std::abs(a.offset_s)) + (a.offset_s > 0 ? " before" : " after") +
                                " each measurement; canarysim reads the latest window, so the simulated check reacts "
                                "sooner than the real one (or add the offset to telemetry.scrape_delay in the scenario)");
    }
    switch (a.kind) {
      case Ast::Kind::kNumber: {
        Meaning m;
        m.number = a.number;
        return m;
      }
      case Ast::Kind::kString: refuse("a string where a number or a series belongs");
      case Ast::Kind::kSelector: {
        Meaning m = selector_meaning(a, &notes);
        if (a.windowed) m.cumulative = false;
        m.unit = a.unit;
        return m;
      }
      case Ast::Kind::kNegate: refuse("a negated series");
      case Ast::Kind::kCall: return call(a);
      case Ast::Kind::kBinary: return binary(a);
    }
    refuse("an expression the reader does not know");
  }

 private:
  Meaning call(const Ast& a) {
    const std::string& f = a.text;
    auto arg = [&](size_t i) {
      if (i >= a.args.size()) refuse(f + "() with too few arguments");
      return eval(*a.args[i]);
    };
    // A Datadog or New Relic distribution (its quantiles, its mean): its tags filter it as
    // a histogram's labels do.
    if ((f == "__distribution" || f == "__mean") && !a.args.empty() && a.args[0]->kind == Ast::Kind::kSelector)
      check_latency_outcome(*a.args[0], &notes);
    if (f == "rate" || f == "irate" || f == "increase" || f == "delta" || f == "idelta") {
      Meaning m = arg(0);
      if (m.kind == Meaning::Kind::kNumber || m.kind == Meaning::Kind::kValue || m.kind == Meaning::Kind::kGauge)
        refuse(f + "() of " + (m.family.empty() ? std::string("something") : "'" + m.family + "'") +
               ", which is not a counter of requests the reader recognises");
      m.per_second = f == "rate" || f == "irate";
      m.cumulative = false;
      m.window = a.args[0]->range_s > 0 ? a.args[0]->range_s : m.window;
      if (a.args[0]->range_s < 0) notes.push_back(f + "()'s range is a template value the reader cannot resolve; the window is the interval");
      if (f == "irate" || f == "idelta")
        notes.push_back(f + "() uses only the last two samples in its range, so it measures one scrape interval, not " +
                        (a.args[0]->range_s > 0 ? "its " + format_duration(a.args[0]->range_s) + " range" : std::string("the range")) +
                        ": read over the whole range, the simulated check sees more requests, and so less noise, than the "
                        "real one; set the provider's window to the scenario's telemetry window to match");
      return m;
    }
    static const char* keep[] = {"sum", "avg", "max", "min", "abs", "ceil", "floor", "round", "clamp", "clamp_min",
                                 "clamp_max", "scalar", "sort", "sort_desc", "label_replace", "label_join",
                                 "avg_over_time", "max_over_time", "min_over_time", "last_over_time",
                                 "quantile_over_time", "__distribution"};
    if (std::any_of(std::begin(keep), std::end(keep), [&](const char* k) { return f == k; })) {
      // The first series argument carries the meaning (quantile_over_time's is second).
      const size_t i = f == "quantile_over_time" ? 1 : 0;
      Meaning m = arg(i);
      const double range = a.args[i]->range_s;
      if (f.size() > 10 && f.compare(f.size() - 10, 10, "_over_time") == 0 && range > 0) {
        // Over a range of samples of its argument, each a value over the argument's own
        // window (a subquery's rate(x[1m]); a bare selector's samples are instants).
        const double own = a.args[i]->kind == Ast::Kind::kSelector ? 0 : m.window;
        if (f == "avg_over_time") {
          m.window = std::max(own, range);  // the mean of the windows: about the value over the range
        } else {
          m.window = own > 0 ? own : range;  // one sample's window (last: the latest sample)
          const bool extreme = f == "min_over_time" || f == "max_over_time";
          if (f != "last_over_time")
            notes.push_back(f + "() takes " + (f == "min_over_time" ? "the lowest" : extreme ? "the highest" : "a quantile") +
                            " of its argument's samples over " + format_duration(range) +
                            "; canarysim judges one value over " + format_duration(m.window) + ": the real check " +
                            (extreme ? "reads the extreme of several, so it breaches more often than the simulated one"
                                     : "reads a quantile of several, whose spread is not one value's"));
        }
      }
      if ((f == "max" || f == "min" || f == "avg") && m.kind == Meaning::Kind::kCounter)
        notes.push_back(f + "() over counters where sum() adds them: read as the whole version's");
      if (f == "clamp" || f == "clamp_min" || f == "clamp_max")
        notes.push_back(f + "() bounds the value; canarysim judges it unbounded");
      return m;
    }
    if (f == "vector") return arg(0);
    if (f == "histogram_quantile") {
      const Meaning q = arg(0);
      if (q.kind != Meaning::Kind::kNumber || !(q.number > 0 && q.number < 1))
        refuse("histogram_quantile() with a quantile that is not a number in (0, 1)");
      Meaning b = arg(1);
      if (b.kind != Meaning::Kind::kBuckets && !(a.args[1]->kind == Ast::Kind::kCall && a.args[1]->text == "__distribution"))
        refuse("histogram_quantile() of something that is not a histogram's buckets");
      return time_value(b, "_" + quantile_name(q.number));
    }
    if (f == "__mean") {
      Meaning b = arg(0);
      return time_value(b, "_mean");
    }
    if (f == "absent" || f == "absent_over_time") refuse(f + "() tests whether a series exists, not what it measures");
    if (f == "count" || f == "count_values") refuse(f + "() counts series, not requests");
    if (f == "topk" || f == "bottomk" || f == "quantile" || f == "stddev" || f == "stdvar")
      refuse(f + "() over series: a statistic across pods, not of the requests");
    refuse("the function " + f + "(), whose meaning the reader does not know");
  }

  Meaning time_value(const Meaning& b, const std::string& stat) {
    const double unit = b.unit > 0 ? b.unit : unit_of(b.family);
    if (unit == 0)
      refuse("'" + b.family + "' names no unit (_seconds, _milliseconds, _ms): the reader cannot tell seconds from milliseconds");
    const std::string sli = time_sli(b.family, ctx_, &notes);
    return value(sli + stat, unit, b.side, b.window, {});
  }

  Meaning binary(const Ast& a) {
    const std::string& op = a.text;
    Meaning l = eval(*a.args[0]);
    Meaning r = eval(*a.args[1]);
    using K = Meaning::Kind;
    if (op == "or") {
      if (r.kind == K::kNumber) {
        // On a count of failures (before the division) 0 is what canarysim counts when
        // there were none; on a value it stands for no requests at all, which stays no data.
        if (!(l.kind == K::kCounter && r.number == 0))
          notes.push_back("'or vector(" + number_text(r.number) + ")' turns no data into " + number_text(r.number) +
                          "; in canarysim no data stays no data");
        l.sparse.clear();  // a failure series yet to exist reads as the number
        return l;
      }
      refuse("'or' between two series");
    }
    if (op == "and" || op == "unless") refuse("'" + op + "', which filters one series by another");
    if (op == "==" || op == "!=" || op == "<" || op == ">" || op == "<=" || op == ">=")
      refuse("a comparison (" + op + ") inside the query, which filters rather than measures");
    if (l.kind == K::kNumber && r.kind == K::kNumber) {
      Meaning m;
      if (op == "+") m.number = l.number + r.number;
      else if (op == "-") m.number = l.number - r.number;
      else if (op == "*") m.number = l.number * r.number;
      else if (op == "/") m.number = l.number / r.number;
      else refuse("the operator " + op + " between numbers");
      return m;
    }
    // A counter times a constant is still a counter, scaled ("100 * failures / requests" is
    // read left to right, as PromQL does, and is a percentage).
    const bool l_counter = l.kind == K::kCounter || l.kind == K::kSum, r_counter = r.kind == K::kCounter || r.kind == K::kSum;
    if (l_counter && r.kind == K::kNumber && (op == "*" || op == "/")) return scaled(l, op == "*" ? r.number : 1 / r.number);
    if (r_counter && l.kind == K::kNumber && op == "*") return scaled(r, l.number);
    if (op == "/" && l_counter && r.kind == K::kCounter) return scaled(ratio(l, r), l.scale / r.scale);
    if (l.kind == K::kCounter || r.kind == K::kCounter) refuse(counter_alone(l.kind == K::kCounter ? l : r));
    if (l.kind == K::kGauge || r.kind == K::kGauge) refuse("arithmetic on a gauge ('" + (l.kind == K::kGauge ? l.family : r.family) + "')");
    if (l.kind == K::kBuckets || r.kind == K::kBuckets || l.kind == K::kSum || r.kind == K::kSum)
      refuse("arithmetic on a histogram's raw series");
    // Values and numbers.
    if (l.kind == K::kValue && r.kind == K::kNumber) {
      if (op == "*") return scaled(l, r.number);
      if (op == "/") return scaled(l, 1 / r.number);
      refuse("a metric " + op + " a constant, which offsets what it measures");
    }
    if (l.kind == K::kNumber && r.kind == K::kValue) {
      if (op == "*") return scaled(r, l.number);
      if (op == "-") return complement(l.number, r);
      refuse("a constant " + op + " a metric");
    }
    // Two values: canary against stable.
    if (l.metric != r.metric || !near(l.scale, r.scale))
      refuse("'" + op + "' between two different metrics (" + l.metric + ", " + r.metric + ")");
    if (l.version != "canary" && l.version != "baseline") refuse("a relative check inside another");
    // An unmarked selector measures the canary (see query.h), so one series that names
    // the stable version is enough to tell the two apart.
    const bool canary_over_stable = l.side != "stable" && r.side == "stable";
    if (!canary_over_stable) {
      if (l.side == "stable" && r.side != "stable")
        refuse("the stable version " + op + " the canary (the inverse of canarysim's canary-over-stable)");
      refuse("'" + op + "' between two " + l.metric + " series whose sides (canary, stable) the reader cannot tell apart");
    }
    Meaning m = l;
    if (m.sparse.empty()) m.sparse = r.sparse;
    if (op == "/") m.version = "ratio", m.scale = 1;
    else if (op == "-") m.version = "difference";
    else refuse("the canary " + op + " the stable version");
    m.side = "canary";
    m.window = std::max(l.window, r.window);
    return m;
  }


  Meaning ratio(const Meaning& n, const Meaning& d) {
    if (n.cumulative || d.cumulative)
      refuse("a ratio of raw counters without rate() or increase(): totals since the process started, not a window");
    const std::string side = same_side(n, d, "a ratio");
    const double window = std::max(n.window, d.window);
    if (n.kind == Meaning::Kind::kSum) {  // x_sum / x_count: the mean
      if (lower(d.family) != lower(n.family) + "_count" && lower(d.family) != lower(n.family) + ".count")
        refuse("'" + n.family + "_sum' divided by '" + d.family + "', not its own _count");
      Meaning b = n;
      b.window = window;
      b.side = side;
      return time_value(b, "_mean");
    }
    const std::string& a = n.subset;
    const std::string& b = d.subset;
    std::string metric;
    if (b == "all" || (b == "successes" && (a == "output_tokens" || a == "hallucinations"))) {
      if (a == "failures") metric = "error_rate";
      else if (a == "successes") metric = "success_rate";
      else if (a == "hallucinations") metric = "hallucination_rate";
      else if (a == "unsafe") metric = "unsafe_rate";
      else if (a == "cost") metric = "cost_per_request";
      else if (a == "output_tokens") metric = "output_tokens_mean";
      else if (n.side != d.side) refuse("requests of one version over another's: a traffic share, not a rate");
      else refuse("requests divided by requests ('" + n.family + "' / '" + d.family + "') with no failure or success filter the reader can see");
    } else {
      refuse(a + " per " + b + " ('" + n.family + "' / '" + d.family + "'), not a share of all requests");
    }
    if (metric == "hallucination_rate" && b == "all") notes.push_back("hallucinations over all requests: canarysim's rate is over successful responses");
    Meaning out = value(metric, 1, side, window, {});
    out.sparse = n.sparse;  // no numerator, no ratio
    return out;
  }

  Meaning scaled(Meaning v, double k) {
    if (!std::isfinite(k) || k == 0) refuse("a metric scaled by " + number_text(k));
    v.scale *= k;
    return v;
  }

  Meaning complement(double c, Meaning v) {
    const bool rate = v.metric == "error_rate" || v.metric == "success_rate";
    if (!rate || v.version != "canary")
      refuse(number_text(c) + " minus " + v.metric + (v.version == "canary" ? "" : " " + v.version) + ": not a complement the reader knows");
    if (!near(c, v.scale))
      refuse(number_text(c) + " minus " + v.metric + " scaled by " + number_text(v.scale) + ": neither 1 - x nor 100 - x%");
    v.metric = v.metric == "error_rate" ? "success_rate" : "error_rate";
    return v;
  }

  const QueryContext& ctx_;
};

}  // namespace

// ---------------------------------------------------------------------------------
// How many series a PromQL result has. Argo judges result[0] and Flagger the last series
// of whatever the query returns, where canarysim measures each version as one series.
// A query whose result keeps a label with several values (by (pod), or selectors never
// aggregated) is judged on one of them: one pod's share of the traffic, say.

struct Series {
  bool every = false;            // not aggregated: the series keep every label they have
  std::set<std::string> labels;  // else the labels that may tell the result's series apart
  std::set<std::string> pinned;  // labels an equality matcher fixes to one value
};

// A matcher that admits one value: `=`, or `=~` with a regular expression of plain text.
bool pins(const Matcher& m) {
  if (m.op == "=") return true;
  return m.op == "=~" && m.value.find_first_of(".*+?[](){}|^$\\") == std::string::npos;
}

// The first regular-expression matcher of a workload-like label that matches the
// stable version's workload or pod names as well as the canary's ("" when none): such a
// selector measures both versions whatever name it spells.
std::string matches_both_versions(const Ast& root, const QueryContext& context) {
  if (context.canary_name.empty() || context.stable_name.empty()) return "";
  // A Deployment's pods are named <deployment>-<template hash>-<id>.
  const std::string pod = "-7d9f8c6b5d-x2k4p";
  const std::string canary[] = {context.canary_name, context.canary_name + pod};
  const std::string stable[] = {context.stable_name, context.stable_name + pod};
  std::vector<const Ast*> todo = {&root};
  while (!todo.empty()) {
    const Ast* a = todo.back();
    todo.pop_back();
    for (const AstPtr& c : a->args) todo.push_back(c.get());
    for (const Matcher& m : a->matchers) {
      // Places, not workloads, may share the workload's name (a namespace named podinfo).
      if (m.op != "=~" || m.label == "__name__" ||
          contains_any(lower(m.label), {"namespace", "cluster", "region", "zone", "env"}))
        continue;
      std::optional<std::regex> re;
      try {
        re.emplace(m.value, std::regex::ECMAScript | std::regex_constants::__polynomial);
      } catch (const std::regex_error&) {
        continue;  // said where the matcher is read
      }
      auto any = [&](const std::string(&names)[2]) {
        return std::any_of(std::begin(names), std::end(names), [&](const std::string& n) { return std::regex_match(n, *re); });
      };
      if (any(canary) && any(stable)) return m.label + "=~\"" + m.value + "\"";
    }
  }
  return "";
}

Series series_of(const Ast& a) {
  Series s;
  auto minus_pinned = [](Series& x) {
    for (const std::string& p : x.pinned) x.labels.erase(p);
  };
  switch (a.kind) {
    case Ast::Kind::kNumber:
    case Ast::Kind::kString: return s;
    case Ast::Kind::kSelector:
      s.every = true;
      for (const Matcher& m : a.matchers)
        if (pins(m)) s.pinned.insert(m.label);
      return s;
    case Ast::Kind::kNegate: return series_of(*a.args[0]);
    case Ast::Kind::kCall: {
      const std::string& f = a.text;
      if (f == "scalar" || f == "vector" || f == "time" || f == "absent" || f == "absent_over_time") return s;
      // The series argument: histogram_quantile's and quantile_over_time's is second.
      for (const AstPtr& arg : a.args)
        if (arg->kind != Ast::Kind::kNumber && arg->kind != Ast::Kind::kString) {
          s = series_of(*arg);
          break;
        }
      if (f == "histogram_quantile") s.labels.erase("le");
      if (a.group.kind == "by") {  // an aggregation keeps only these
        s.every = false;
        s.labels = {a.group.labels.begin(), a.group.labels.end()};
      } else if (a.group.kind == "without") {
        for (const std::string& l : a.group.labels) s.labels.erase(l);
      } else if (is_aggregation(f) && !picks_series(f)) {
        s.every = false;  // an aggregation without a clause: one series
        s.labels.clear();
      }
      minus_pinned(s);
      return s;
    }
    case Ast::Kind::kBinary: {
      const Series l = series_of(*a.args[0]), r = series_of(*a.args[1]);
      if (a.group.many_side) {  // group_left/right: the many side's series
        s = a.group.many_side == 'l' ? l : r;
      } else if (a.group.kind == "on") {  // one to one on these labels: only they are kept
        s.labels = {a.group.labels.begin(), a.group.labels.end()};
        s.pinned = l.pinned;
        s.pinned.insert(r.pinned.begin(), r.pinned.end());
      } else {
        // Either side's series (a number has none). One to one matching pairs series
        // with the same labels, so a label either side fixes is fixed. (`or` between two
        // series, which keeps both, is refused by the reader; `or vector(0)` adds none.)
        s.every = l.every || r.every;
        s.labels = l.labels;
        s.labels.insert(r.labels.begin(), r.labels.end());
        s.pinned = l.pinned;
        s.pinned.insert(r.pinned.begin(), r.pinned.end());
        if (a.group.kind == "ignoring")
          for (const std::string& x : a.group.labels) s.labels.erase(x);
      }
      minus_pinned(s);
      return s;
    }
  }
  return s;
}

// Whether a PromQL expression's value is a scalar, not an instant vector.
bool is_scalar(const Ast& a) {
  switch (a.kind) {
    case Ast::Kind::kNumber: return true;
    case Ast::Kind::kNegate: return is_scalar(*a.args[0]);
    case Ast::Kind::kCall: return a.text == "scalar" || a.text == "time";
    case Ast::Kind::kBinary: return is_scalar(*a.args[0]) && is_scalar(*a.args[1]);
    default: return false;
  }
}

// The labels that tell a result's series apart, as a list: "pod, route".
std::string label_names(const Series& s) { return join({s.labels.begin(), s.labels.end()}); }

// What the check reads when the result may hold several series, for a note; "" for one.
std::string several_series(const Series& s) {
  if (s.every)
    return "the query keeps the labels of the series its selectors match (no sum() or avg() around them, or one "
           "only `without` some labels): it returns a series for each one they match (each pod, instance or status "
           "code), and a check reads one of them (Argo's result[0], Flagger's the last), where canarysim judges each "
           "version's whole traffic as one series; if they match more than one, wrap the query in sum() to match";
  if (s.labels.empty()) return "";
  const std::string names = label_names(s);
  return "the query keeps the label" + std::string(s.labels.size() > 1 ? "s " : " ") + names +
         ": it returns a series for each " + names + ", and a check reads one of them (Argo's result[0], Flagger's "
         "the last, in an order Prometheus does not promise), where canarysim judges each version's whole traffic as "
         "one series; one " + names + "'s figure, on its share of the traffic, is noisier, so the real check fails by "
         "chance more often than the simulated one; aggregate without " + (s.labels.size() > 1 ? "them" : "it") +
         " to match";
}

// What a scalar() in the query turns into NaN, for a note; "" when each holds one series.
// scalar() of anything but exactly one series is NaN (of none, as of several).
std::string scalar_of_several(const Ast& a) {
  if (a.kind == Ast::Kind::kCall && a.text == "scalar" && !a.args.empty()) {
    const Series s = series_of(*a.args[0]);
    if (s.every || !s.labels.empty())
      return "scalar() of a result with a series for each " +
             (s.every ? std::string("series its selectors match") : label_names(s)) +
             " is NaN whenever it holds more than one, so the check reads NaN where canarysim reads the version's "
             "value; aggregate inside scalar() without those labels (sum(...)) to match";
  }
  for (const AstPtr& arg : a.args)
    if (std::string note = scalar_of_several(*arg); !note.empty()) return note;
  return "";
}

// Go-template placeholders ({{ interval }}, {{args.service-name}}, {{ .Values.x }}) are
// replaced by their values when known, else by a marker that reads as a name.
std::string substitute(const std::string& q, const QueryContext& ctx) {
  std::string out;
  size_t i = 0;
  while (i < q.size()) {
    const size_t open = q.find("{{", i);
    if (open == std::string::npos) break;
    const size_t close = q.find("}}", open + 2);
    if (close == std::string::npos) break;
    out += q.substr(i, open - i);
    std::string key = q.substr(open + 2, close - open - 2);
    key.erase(0, key.find_first_not_of(" \t-"));
    key.erase(key.find_last_not_of(" \t-") + 1);
    if (!key.empty() && key[0] == '.') key.erase(0, 1);
    const auto it = ctx.variables.find(key);
    if (it != ctx.variables.end()) {
      out += it->second;
    } else {
      std::string marker = "__var_";
      for (char c : key) marker += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      out += marker + "__";
    }
    i = close + 2;
  }
  return out + q.substr(std::min(i, q.size()));
}

QueryMeaning read_query(const std::string& query, const std::string& dialect, const QueryContext& context) {
  QueryMeaning out;
  try {
    if (query.size() > 65536) refuse("a query longer than 64 KiB");
    std::string text = substitute(query, context);
    text.erase(0, text.find_first_not_of(" \t\r\n"));
    if (text.empty()) refuse("an empty query");
    AstPtr ast;
    if (dialect == "prometheus") ast = PromParser(text).parse();
    else if (dialect == "datadog") ast = DatadogParser(text).parse();
    else if (dialect == "newrelic") ast = parse_nrql(text);
    else refuse("a " + dialect + " query: the reader knows PromQL, Datadog metric queries and NRQL");
    // A chain of operators (a + a + ...) nests the tree without nesting the parser; the
    // reading recurses down it, so its depth is bounded too.
    std::vector<std::pair<const Ast*, int>> todo = {{ast.get(), 1}};
    while (!todo.empty()) {
      const auto [a, depth] = todo.back();
      todo.pop_back();
      if (depth > 200) refuse("a query of more than 200 operations in a row");
      for (const AstPtr& c : a->args) todo.emplace_back(c.get(), depth + 1);
    }
    Reader reader(context);
    Meaning m = reader.eval(*ast);
    if (dialect == "prometheus") {
      const Series s = series_of(*ast);
      out.series = s.every ? "series the selectors match" : label_names(s);
      if (const std::string note = several_series(s); !note.empty()) reader.notes.push_back(note);
      if (const std::string note = scalar_of_several(*ast); !note.empty()) reader.notes.push_back(note);
      out.scalar = is_scalar(*ast);
    }
    switch (m.kind) {
      case Meaning::Kind::kValue: break;
      case Meaning::Kind::kNumber: refuse("a constant");
      case Meaning::Kind::kCounter: refuse(counter_alone(m));
      case Meaning::Kind::kGauge:
        if (contains_any(lower(m.family), {"quality", "judge_score"})) {
          m = value("quality_mean", 1, m.side, m.window, {});
          reader.notes.push_back("'" + m.family + "' read as the mean quality score of graded responses");
          break;
        }
        refuse("a gauge ('" + m.family + "') canarysim does not model");
      default: refuse("a histogram's raw series ('" + m.family + "'), not a quantile or a mean of it");
    }
    // A variable still open after substitution (its value unknown here: it may be a pod
    // hash) may name the version; one whose value is known (an argument's value, or the
    // Rollout's own label) names it only if that value does.
    const bool open_variable = contains(text, "__var_") || text.find("${") != std::string::npos;
    const bool named = !context.canary_name.empty() && text.find(context.canary_name) != std::string::npos;
    const std::string both = m.side.empty() && !context.versions_scoped ? matches_both_versions(*ast, context) : "";
    if (!both.empty())
      reader.notes.push_back("the matcher " + both + " matches the stable version's workload (" + context.stable_name +
                             ") as well as the canary's (" + context.canary_name + "), so the query measures both "
                             "versions: read as the canary's, your check is diluted by the stable traffic where "
                             "canarysim's is not; anchor it to the canary's name");
    else if (m.side.empty() && !open_variable && !named && !context.versions_scoped && !contains(lower(text), "canary"))
      reader.notes.push_back(std::string("the query names no version (no canary or stable label, ") +
                             (text == query ? "no template variable" : "and no variable valued with one") +
                             "): read as the canary's; if it measures both versions, your check is diluted by the "
                             "stable traffic where canarysim's is not");
    out.ok = true;
    out.metric = m.metric;
    out.scale = m.scale;
    out.version = m.version == "canary" && m.side == "stable" ? "baseline" : m.version;
    out.window_s = m.window;
    out.sparse = m.sparse;
    for (const std::string& n : reader.notes)  // once each (a ratio's two sides say the same)
      if (std::find(out.notes.begin(), out.notes.end(), n) == out.notes.end()) out.notes.push_back(n);
  } catch (const Refusal& r) {
    out.ok = false;
    out.why = r.what();
  } catch (const std::regex_error&) {
    out.ok = false;
    out.why = "a query the reader's regular expressions cannot take";
  }
  return out;
}

std::string rule_subject(const QueryMeaning& m) {
  if (m.version == "ratio") return m.metric + " ratio";
  if (m.version == "difference") return m.metric + " increase";
  if (m.version == "baseline") return m.metric + " baseline";
  return m.metric;
}

std::string rule_text(const QueryMeaning& m, const std::string& op, double threshold) {
  const bool time = m.metric.rfind("ttft", 0) == 0 || m.metric.rfind("itl", 0) == 0 ||
                    m.metric.rfind("token_gap", 0) == 0 || m.metric.rfind("latency", 0) == 0;
  const bool rate = m.metric == "error_rate" || m.metric == "success_rate" || m.metric == "hallucination_rate" ||
                    m.metric == "unsafe_rate";
  const std::string name = rule_subject(m);
  char buf[64];
  const double v = threshold / m.scale;  // canarysim's unit: seconds, fractions
  if (m.version == "ratio") std::snprintf(buf, sizeof buf, "%.6g", threshold);
  else if (time && std::abs(v) < 1) std::snprintf(buf, sizeof buf, "%.6gms", v * 1000);
  else if (time) std::snprintf(buf, sizeof buf, "%.6gs", v);
  else if (rate) std::snprintf(buf, sizeof buf, "%.6g%%", v * 100);
  else std::snprintf(buf, sizeof buf, "%.6g", v);
  return name + " " + op + " " + buf;
}

}  // namespace canarysim
