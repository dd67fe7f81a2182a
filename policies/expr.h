// The small expressions of Argo Rollouts' successCondition and failureCondition, over a
// measurement's `result`:
//   result < 0.01      result[0] >= 0.95 && result[0] <= 1      !(result > 2) or isNaN(result)
// Numbers, `result` (and `result[0]`, `result.field`, asFloat(result), asInt(result):
// the same value, since canarysim's measurements are scalars), + - * /, comparisons,
// && || ! (and, or, not), parentheses, isNaN(x), len(result), default(result, x), true
// and false. Parsed once when the policy loads; evaluated at every measurement.
//
// With no data (an empty query result) Argo still evaluates the condition: len(result)
// is 0 and default(result, x) is x, so guards such as `len(result) == 0 || result[0] <
// 0.01` decide; any other use of the result is an error (eval_without_data: nullopt).
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace canarysim {

class Expression {
 public:
  // nullopt and `error` set on a syntax error.
  static std::optional<Expression> parse(const std::string& text, std::string* error);
  // The value (comparisons and logic give 0 or 1) for a measurement `result`.
  double eval(double result) const;
  bool holds(double result) const { return eval(result) != 0; }
  // The value on an empty result, or nullopt when evaluating it reads the result.
  std::optional<double> eval_without_data() const;
  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace canarysim
