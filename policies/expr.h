// The small expressions of Argo Rollouts' successCondition and failureCondition, over a
// measurement's `result`:
//   result < 0.01      result[0] >= 0.95 && result[0] <= 1      !(result > 2) or isNaN(result)
// Numbers, `result` (and `result[0]`, `result[-1]`, `result.field`, asFloat(result),
// asInt(result): the same value, since canarysim's measurements are one series), + - * /,
// comparisons, && || ! (and, or, not; evaluated left to right and short-circuited, as
// expr-lang does), parentheses, isNaN(x), len(result), default(result, x), true and
// false. Parsed once when the policy loads; evaluated at every measurement.
//
// Reads that fail in Argo fail here, and Argo makes each an Error measurement:
// - With no data (an empty query result) Argo still evaluates the condition: len(result)
//   is 0 and default(result, x) is x, so guards such as `len(result) == 0 || result[0] <
//   0.01` decide; any other use of the result fails.
// - result[k] for k other than 0 and -1 is past the one series a canarysim measurement
//   has (a PromQL query aggregated to one series has no second): index out of range.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace canarysim {

class Expression {
 public:
  // nullopt and `error` set on a syntax error.
  static std::optional<Expression> parse(const std::string& text, std::string* error);
  // The value (comparisons and logic give 0 or 1) for a measurement's result (nullopt:
  // no data), or nullopt when the evaluation fails: it reads a result that is not there.
  std::optional<double> evaluate(std::optional<double> result) const;
  // Whether the condition holds on a value (a failed evaluation does not hold).
  bool holds(double result) const { return evaluate(result).value_or(0) != 0; }
  // Whether some read in the condition is past the one series (result[1], ...), which
  // fails whenever the evaluation reaches it.
  bool reads_past_one_series() const;
  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace canarysim
