#include "policies/expr.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace canarysim {

struct Expression::Node {
  enum class Op { kNum, kResult, kNeg, kNot, kAdd, kSub, kMul, kDiv, kLt, kLe, kGt, kGe, kEq, kNe,
                  kAnd, kOr, kIsNaN, kIsInf, kIsNil, kLen, kDefault, kCond,
                  kAll, kAny, kNone, kOne, kCount, kElement, kAbs, kFloor, kCeil, kRound, kTrunc, kMin, kMax };
  Op op;
  double value = 0;  // kNum: the number; kResult, kDefault: the index read (result[k])
  // kResult, kDefault: how the result is read, and where its [k] or .field is in the
  // text: [end, suffix_end).
  enum class Form { kBare, kIndex, kField } form = Form::kBare;
  size_t end = 0, suffix_end = 0;
  // kDefault, kIsNil: the call's span [call_from, call_to); kDefault: its second argument's
  // [arg_from, arg_to).
  size_t call_from = 0, call_to = 0, arg_from = 0, arg_to = 0;
  std::shared_ptr<const Node> a, b, c;  // operands; kCond: a ? b : c; kAll...kCount: a the predicate
};

namespace {

using Node = Expression::Node;
using Op = Node::Op;
using Ptr = std::shared_ptr<const Node>;

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  Ptr parse() {
    Ptr e = parse_cond();
    skip();
    if (pos_ != s_.size()) error("unexpected '" + s_.substr(pos_, 1) + "'");
    // A chain of operators (1 + 1 + ...) nests the tree without nesting the parser; the
    // evaluation recurses down it, so its depth is bounded too.
    std::vector<std::pair<const Node*, int>> todo = {{e.get(), 1}};
    while (!todo.empty()) {
      const auto [n, depth] = todo.back();
      todo.pop_back();
      if (depth > 1000) error("an expression of more than 1000 operations in a row");
      for (const Node* c : {n->a.get(), n->b.get(), n->c.get()})
        if (c) todo.emplace_back(c, depth + 1);
    }
    return e;
  }
  std::string error_text;

 private:
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool accept(const std::string& tok) {
    skip();
    if (s_.compare(pos_, tok.size(), tok) != 0) return false;
    // A word must end at a word boundary: "or" is not the start of "order".
    if (std::isalpha(static_cast<unsigned char>(tok.back())) && pos_ + tok.size() < s_.size() &&
        std::isalnum(static_cast<unsigned char>(s_[pos_ + tok.size()])))
      return false;
    pos_ += tok.size();
    return true;
  }
  void expect(const std::string& tok) {
    if (!accept(tok)) error("expected '" + tok + "'");
  }
  [[noreturn]] void error(const std::string& what) {
    throw std::runtime_error(what + " at column " + std::to_string(pos_ + 1));
  }
  static Ptr make(Op op, Ptr a = nullptr, Ptr b = nullptr, double v = 0) {
    auto n = std::make_shared<Node>();
    n->op = op;
    n->a = std::move(a);
    n->b = std::move(b);
    n->value = v;
    return n;
  }
  // Nesting (parentheses, ?:, ! and unary -) is bounded, so that no text can exhaust the
  // stack: a condition nested deeper than any written by hand is refused.
  struct Depth {
    explicit Depth(Parser& p) : p_(p) {
      if (++p_.depth_ > 256) p_.error("nested too deeply to be a hand-written condition");
    }
    ~Depth() { --p_.depth_; }
    Parser& p_;
  };

  // expr-lang's a ? b : c, the loosest binding.
  Ptr parse_cond() {
    Depth d(*this);
    Ptr e = parse_or();
    if (!accept("?")) return e;
    auto n = std::make_shared<Node>();
    n->op = Op::kCond;
    n->a = e;
    n->b = parse_cond();
    expect(":");
    n->c = parse_cond();
    return n;
  }
  Ptr parse_or() {
    Ptr e = parse_and();
    while (accept("||") || accept("or")) e = make(Op::kOr, e, parse_and());
    return e;
  }
  Ptr parse_and() {
    Ptr e = parse_not();
    while (accept("&&") || accept("and")) e = make(Op::kAnd, e, parse_not());
    return e;
  }
  Ptr parse_not() {
    Depth d(*this);
    skip();
    if (s_.compare(pos_, 2, "!=") != 0 && accept("!")) return make(Op::kNot, parse_not());
    if (accept("not")) return make(Op::kNot, parse_not());
    return parse_cmp();
  }
  Ptr parse_cmp() {
    Ptr e = parse_sum();
    static const std::pair<const char*, Op> ops[] = {{"<=", Op::kLe}, {">=", Op::kGe}, {"==", Op::kEq},
                                                     {"!=", Op::kNe}, {"<", Op::kLt},  {">", Op::kGt}};
    for (const auto& [tok, op] : ops)
      if (accept(tok)) return make(op, e, parse_sum());
    return e;
  }
  Ptr parse_sum() {
    Ptr e = parse_prod();
    for (;;) {
      if (accept("+")) e = make(Op::kAdd, e, parse_prod());
      else if (accept("-")) e = make(Op::kSub, e, parse_prod());
      else return e;
    }
  }
  Ptr parse_prod() {
    Ptr e = parse_unary();
    for (;;) {
      if (accept("*")) e = make(Op::kMul, e, parse_unary());
      else if (accept("/")) e = make(Op::kDiv, e, parse_unary());
      else return e;
    }
  }
  Ptr parse_unary() {
    Depth d(*this);
    if (accept("-")) return make(Op::kNeg, parse_unary());
    return parse_primary();
  }
  Ptr parse_primary() {
    skip();
    if (accept("(")) {
      Ptr e = parse_cond();
      expect(")");
      return e;
    }
    for (const auto& [name, op] : {std::pair{"isNaN", Op::kIsNaN}, std::pair{"isInf", Op::kIsInf}}) {
      if (accept(name)) {
        expect("(");
        Ptr e = parse_or();
        expect(")");
        return make(op, e);
      }
    }
    if (accept("isNil")) {
      // Argo's isNil(x) says whether the whole result is nil, whatever x is; x is still
      // evaluated (result[0] of an empty list fails), but a bare `result` is only passed.
      auto n = std::make_shared<Node>();
      n->op = Op::kIsNil;
      n->call_from = pos_ - 5;
      expect("(");
      Ptr e = parse_or();
      expect(")");
      n->call_to = pos_;
      if (!(e->op == Op::kResult && e->form == Node::Form::kBare)) n->a = e;
      return n;
    }
    // expr-lang's all(result, {# < 1}) (braces optional), any, none, one and count: a
    // predicate on each element of the result, `#`.
    for (const auto& [name, op] : {std::pair{"all", Op::kAll}, std::pair{"any", Op::kAny}, std::pair{"none", Op::kNone},
                                   std::pair{"one", Op::kOne}, std::pair{"count", Op::kCount}}) {
      if (!accept(name)) continue;
      expect("(");
      expect("result");
      expect(",");
      const bool braced = accept("{");
      ++closures_;
      Ptr predicate = parse_cond();
      --closures_;
      if (braced) expect("}");
      if (!is_boolean(*predicate)) error(std::string("expected a predicate (a comparison) as ") + name + "()'s second argument");
      expect(")");
      return make(op, predicate);
    }
    if (closures_ > 0 && accept("#")) return make(Op::kElement);
    if (accept("len")) {
      expect("(");
      expect("result");
      expect(")");
      return make(Op::kLen);
    }
    if (accept("default")) {
      const size_t from = pos_ - 7;
      expect("(");
      expect("result");
      auto n = read(Op::kDefault);
      expect(",");
      skip();
      n->call_from = from;
      n->arg_from = pos_;
      n->a = parse_cond();
      n->arg_to = pos_;
      expect(")");
      n->call_to = pos_;
      return n;
    }
    // expr-lang's numeric builtins: int() truncates as Go's conversion does, float() is
    // the value; max and min of two or more.
    for (const auto& [name, op] : {std::pair{"abs", Op::kAbs}, std::pair{"floor", Op::kFloor}, std::pair{"ceil", Op::kCeil},
                                   std::pair{"round", Op::kRound}, std::pair{"int", Op::kTrunc}}) {
      if (accept(name)) {
        expect("(");
        Ptr e = parse_cond();
        expect(")");
        return make(op, e);
      }
    }
    for (const auto& [name, op] : {std::pair{"max", Op::kMax}, std::pair{"min", Op::kMin}}) {
      if (accept(name)) {
        expect("(");
        Ptr e = parse_cond();
        expect(",");
        do e = make(op, e, parse_cond());
        while (accept(","));
        expect(")");
        return e;
      }
    }
    for (const char* conversion : {"asFloat", "asInt", "float"}) {
      if (accept(conversion)) {
        expect("(");
        Ptr e = parse_or();
        expect(")");
        return e;
      }
    }
    if (accept("true")) return make(Op::kNum, nullptr, nullptr, 1);
    if (accept("false")) return make(Op::kNum, nullptr, nullptr, 0);
    if (accept("result")) return read(Op::kResult);
    const char* start = s_.c_str() + pos_;
    char* end = nullptr;
    const double v = std::strtod(start, &end);
    if (end == start) error(pos_ < s_.size() ? "unexpected '" + s_.substr(pos_, 1) + "'" : "unexpected end");
    pos_ += static_cast<size_t>(end - start);
    return make(Op::kNum, nullptr, nullptr, v);
  }

  // A read of the result, just after `result`: its [k] and .field. Whether result[k]
  // exists is decided when it is read, as Argo does.
  std::shared_ptr<Node> read(Op op) {
    auto n = std::make_shared<Node>();
    n->op = op;
    n->end = pos_;
    if (accept("[")) {
      n->form = Node::Form::kIndex;
      skip();
      const bool negative = accept("-");
      skip();
      const size_t from = pos_;
      while (pos_ < s_.size() && pos_ - from < 9 && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ == from) error("expected a whole number index after 'result['");
      n->value = std::strtod(s_.substr(from, pos_ - from).c_str(), nullptr) * (negative ? -1 : 1);
      expect("]");
    }
    while (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      const size_t from = pos_;
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
      if (pos_ == from) error("expected a field name after '.'");
      n->form = Node::Form::kField;
    }
    n->suffix_end = n->form == Node::Form::kBare ? n->end : pos_;  // not the spaces looked past
    return n;
  }

  // Whether a node gives a boolean, as expr-lang requires of a predicate.
  static bool is_boolean(const Node& n) {
    switch (n.op) {
      case Op::kLt: case Op::kLe: case Op::kGt: case Op::kGe: case Op::kEq: case Op::kNe: case Op::kAnd:
      case Op::kOr: case Op::kNot: case Op::kIsNaN: case Op::kIsInf: case Op::kIsNil: case Op::kAll:
      case Op::kAny: case Op::kNone: case Op::kOne:
        return true;
      case Op::kCond: return is_boolean(*n.b) && is_boolean(*n.c);
      case Op::kNum: return n.value == 0 || n.value == 1;  // true, false (and 0, 1, which expr refuses)
      default: return false;
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
  int depth_ = 0;
  int closures_ = 0;  // predicates open: where `#` is an element
};

// Whether result[index] exists in a measurement of one series: [0], and [-1] (expr-lang
// counts negative indexes from the end).
bool in_range(double index) { return index == 0 || index == -1; }

// Whether a read (result, result[k], result.field) of a value gives it in `shape`.
bool gives_value(const Node& n, ResultShape shape) {
  using F = Node::Form;
  switch (shape) {
    case ResultShape::kAny: return n.form != F::kIndex || in_range(n.value);
    case ResultShape::kVector: return n.form == F::kIndex && in_range(n.value);
    case ResultShape::kScalar: return n.form == F::kBare;
    case ResultShape::kMap: return n.form == F::kField;
  }
  return false;
}

// `data`: whether the measurement has a value; `failed`: set when evaluation reads a
// result that is not there. && and || short-circuit, so a guard decides before a read.
double eval_node(const Node& n, double r, bool data, ResultShape shape, bool* failed) {
  auto a = [&] { return eval_node(*n.a, r, data, shape, failed); };
  auto b = [&] { return eval_node(*n.b, r, data, shape, failed); };
  switch (n.op) {
    case Op::kNum: return n.value;
    case Op::kResult:
      if (!data || !gives_value(n, shape)) *failed = true;
      return r;
    case Op::kNeg: return -a();
    case Op::kNot: return a() == 0;
    case Op::kAdd: return a() + b();
    case Op::kSub: return a() - b();
    case Op::kMul: return a() * b();
    case Op::kDiv: return a() / b();
    case Op::kLt: return a() < b();
    case Op::kLe: return a() <= b();
    case Op::kGt: return a() > b();
    case Op::kGe: return a() >= b();
    case Op::kEq: return a() == b();
    case Op::kNe: return a() != b();
    case Op::kAnd: return a() != 0 && b() != 0;
    case Op::kOr: return a() != 0 || b() != 0;
    case Op::kCond: return a() != 0 ? b() : eval_node(*n.c, r, data, shape, failed);
    case Op::kIsNaN: return std::isnan(a());
    case Op::kIsInf: return std::isinf(a());
    case Op::kIsNil:  // no data is nil, but Prometheus's empty list is a list, not nil
      if (n.a) a();
      return !data && shape != ResultShape::kVector;
    case Op::kLen:  // a list's length; a number or a map has none that says "no data"
      if (shape == ResultShape::kScalar || shape == ResultShape::kMap) *failed = true;
      return data ? 1 : 0;
    case Op::kAll: case Op::kAny: case Op::kNone: case Op::kOne: case Op::kCount: {
      // Over the result's elements: a list of one series, or none on no data. A number or
      // a map is not a list (expr: cannot iterate).
      if (shape == ResultShape::kScalar || shape == ResultShape::kMap) *failed = true;
      if (!data) return n.op == Op::kAll || n.op == Op::kNone;  // of no elements
      const bool holds = a() != 0;
      return n.op == Op::kNone ? !holds : holds;
    }
    case Op::kElement: return r;
    case Op::kAbs: return std::fabs(a());
    case Op::kFloor: return std::floor(a());
    case Op::kCeil: return std::ceil(a());
    case Op::kRound: return std::round(a());  // half away from zero, as Go's math.Round
    case Op::kTrunc: return std::trunc(a());
    // A NaN operand (scalar() of no data) is taken to give NaN, as Go's math.Min does.
    case Op::kMin: { const double x = a(), y = b(); return std::isnan(x) || std::isnan(y) ? std::nan("") : std::min(x, y); }
    case Op::kMax: { const double x = a(), y = b(); return std::isnan(x) || std::isnan(y) ? std::nan("") : std::max(x, y); }
    case Op::kDefault:
      // Argo's default(x, d) returns d when the whole result is nil (Datadog's no data),
      // else the whole result: a list or a map, which no comparison takes.
      if (shape == ResultShape::kVector || shape == ResultShape::kMap || (data && !gives_value(n, shape)))
        *failed = true;
      return data ? r : a();
  }
  return 0;
}

}  // namespace

std::optional<Expression> Expression::parse(const std::string& text, std::string* error) {
  try {
    Parser p(text);
    Expression e;
    e.text_ = text;
    e.root_ = p.parse();
    return e;
  } catch (const std::runtime_error& ex) {
    if (error) *error = ex.what();
    return std::nullopt;
  }
}

Measured measured(std::optional<bool> succeeded, std::optional<bool> failed) {
  if (failed.value_or(false)) return Measured::kFailed;
  if (!succeeded || *succeeded) return Measured::kSuccessful;
  return failed ? Measured::kInconclusive : Measured::kFailed;
}

const char* shape_name(ResultShape s) {
  switch (s) {
    case ResultShape::kAny: return "any";
    case ResultShape::kVector: return "vector";
    case ResultShape::kScalar: return "scalar";
    case ResultShape::kMap: return "map";
  }
  return "?";
}

std::optional<ResultShape> shape_named(std::string_view name) {
  for (ResultShape s : {ResultShape::kAny, ResultShape::kVector, ResultShape::kScalar, ResultShape::kMap})
    if (name == shape_name(s)) return s;
  return std::nullopt;
}

std::optional<double> Expression::evaluate(std::optional<double> result, ResultShape shape) const {
  bool failed = false;
  const double v = eval_node(*root_, result.value_or(std::nan("")), result.has_value(), shape, &failed);
  if (failed) return std::nullopt;
  return v;
}

namespace {
// Every node of the tree, depth first.
template <class F>
void visit(const Node& root, F&& f) {
  std::vector<const Node*> todo = {&root};
  while (!todo.empty()) {
    const Node* n = todo.back();
    todo.pop_back();
    f(*n);
    for (const Node* c : {n->a.get(), n->b.get(), n->c.get()})
      if (c) todo.push_back(c);
  }
}
bool is_read(const Node& n) { return n.op == Op::kResult || n.op == Op::kDefault; }
}  // namespace

bool Expression::reads_past_one_series() const {
  bool past = false;
  visit(*root_, [&](const Node& n) { past |= is_read(n) && n.form == Node::Form::kIndex && !in_range(n.value); });
  return past;
}

bool Expression::calls_default() const {
  bool found = false;
  visit(*root_, [&](const Node& n) { found |= n.op == Op::kDefault; });
  return found;
}

bool Expression::quantifies() const {
  bool found = false;
  visit(*root_, [&](const Node& n) { found |= n.op == Op::kElement || (n.op >= Op::kAll && n.op <= Op::kCount); });
  return found;
}

bool Expression::takes_extremes() const {
  bool found = false;
  visit(*root_, [&](const Node& n) { found |= n.op == Op::kMin || n.op == Op::kMax; });
  return found;
}

std::string Expression::text_as_vector() const {
  // Each edit replaces [from, to) of the text, latest first.
  struct Edit {
    size_t from, to;
    std::string text;
  };
  std::vector<Edit> edits;
  visit(*root_, [&](const Node& n) {
    if (n.op == Op::kIsNil) {  // nor is it nil when empty
      edits.push_back({n.call_from, n.call_to, "(len(result) == 0)"});
      return;
    }
    if (!is_read(n) || !gives_value(n, ResultShape::kAny)) return;
    if (n.op == Op::kDefault) {  // a list is never nil: say what default() meant
      const std::string d = text_.substr(n.arg_from, n.arg_to - n.arg_from);
      edits.push_back({n.call_from, n.call_to, "(len(result) == 0 ? " + d + " : result[0])"});
    } else if (n.form != Node::Form::kIndex) {
      edits.push_back({n.end, n.suffix_end, "[0]"});
    }
  });
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.from > b.from; });
  std::string out = text_;
  size_t done = std::string::npos;  // where the last edit made began: a read inside it is skipped
  for (const Edit& e : edits) {
    if (e.to > done) continue;
    out.replace(e.from, e.to - e.from, e.text);
    done = e.from;
  }
  return out;
}

}  // namespace canarysim
