#include "policies/expr.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace canarysim {

struct Expression::Node {
  enum class Op { kNum, kResult, kNeg, kNot, kAdd, kSub, kMul, kDiv, kLt, kLe, kGt, kGe, kEq, kNe,
                  kAnd, kOr, kIsNaN, kLen, kDefault };
  Op op;
  double value = 0;  // kNum: the number; kResult, kDefault: the index read (result[k])
  std::shared_ptr<const Node> a, b;
};

namespace {

using Node = Expression::Node;
using Op = Node::Op;
using Ptr = std::shared_ptr<const Node>;

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  Ptr parse() {
    Ptr e = parse_or();
    skip();
    if (pos_ != s_.size()) error("unexpected '" + s_.substr(pos_, 1) + "'");
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
    if (accept("-")) return make(Op::kNeg, parse_unary());
    return parse_primary();
  }
  Ptr parse_primary() {
    skip();
    if (accept("(")) {
      Ptr e = parse_or();
      expect(")");
      return e;
    }
    if (accept("isNaN")) {
      expect("(");
      Ptr e = parse_or();
      expect(")");
      return make(Op::kIsNaN, e);
    }
    if (accept("len")) {
      expect("(");
      expect("result");
      expect(")");
      return make(Op::kLen);
    }
    if (accept("default")) {
      expect("(");
      expect("result");
      const double index = result_suffix();
      expect(",");
      Ptr e = parse_or();
      expect(")");
      return make(Op::kDefault, e, nullptr, index);
    }
    for (const char* conversion : {"asFloat", "asInt"}) {
      if (accept(conversion)) {
        expect("(");
        Ptr e = parse_or();
        expect(")");
        return e;
      }
    }
    if (accept("true")) return make(Op::kNum, nullptr, nullptr, 1);
    if (accept("false")) return make(Op::kNum, nullptr, nullptr, 0);
    if (accept("result")) return make(Op::kResult, nullptr, nullptr, result_suffix());
    const char* start = s_.c_str() + pos_;
    char* end = nullptr;
    const double v = std::strtod(start, &end);
    if (end == start) error(pos_ < s_.size() ? "unexpected '" + s_.substr(pos_, 1) + "'" : "unexpected end");
    pos_ += static_cast<size_t>(end - start);
    return make(Op::kNum, nullptr, nullptr, v);
  }

  // [k] and .field after `result`; returns k (0 without an index). Whether result[k]
  // exists is decided when it is read, as Argo does.
  double result_suffix() {
    double index = 0;
    if (accept("[")) {
      skip();
      const bool negative = accept("-");
      skip();
      const size_t from = pos_;
      while (pos_ < s_.size() && pos_ - from < 9 && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ == from) error("expected a whole number index after 'result['");
      index = std::strtod(s_.substr(from, pos_ - from).c_str(), nullptr) * (negative ? -1 : 1);
      expect("]");
    }
    while (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      const size_t from = pos_;
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
      if (pos_ == from) error("expected a field name after '.'");
    }
    return index;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

// Whether result[index] exists in a measurement of one series: [0], and [-1] (expr-lang
// counts negative indexes from the end).
bool in_range(double index) { return index == 0 || index == -1; }

// `data`: whether the measurement has a value; `failed`: set when evaluation reads a
// result that is not there. && and || short-circuit, so a guard decides before a read.
double eval_node(const Node& n, double r, bool data, bool* failed) {
  auto a = [&] { return eval_node(*n.a, r, data, failed); };
  auto b = [&] { return eval_node(*n.b, r, data, failed); };
  switch (n.op) {
    case Op::kNum: return n.value;
    case Op::kResult:
      if (!data || !in_range(n.value)) *failed = true;
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
    case Op::kIsNaN: return std::isnan(a());
    case Op::kLen: return data ? 1 : 0;
    case Op::kDefault:
      if (data && !in_range(n.value)) *failed = true;
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

std::optional<double> Expression::evaluate(std::optional<double> result) const {
  bool failed = false;
  const double v = eval_node(*root_, result.value_or(std::nan("")), result.has_value(), &failed);
  if (failed) return std::nullopt;
  return v;
}

bool Expression::reads_past_one_series() const {
  std::vector<const Node*> todo = {root_.get()};
  while (!todo.empty()) {
    const Node* n = todo.back();
    todo.pop_back();
    if ((n->op == Op::kResult || n->op == Op::kDefault) && !in_range(n->value)) return true;
    for (const Node* c : {n->a.get(), n->b.get()})
      if (c) todo.push_back(c);
  }
  return false;
}

}  // namespace canarysim
