// The small expressions of Argo Rollouts' successCondition and failureCondition, over a
// measurement's `result`:
//   result < 0.01      result[0] >= 0.95 && result[0] <= 1      !(result > 2) or isNaN(result)
// Numbers, `result` (and `result[0]`, the same value: canarysim's measurements are
// scalars), + - * /, comparisons, && || ! (and, or, not), parentheses, isNaN(x),
// true and false. Parsed once when the policy loads; evaluated at every measurement.
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
  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace canarysim
