// The small expressions of Argo Rollouts' successCondition and failureCondition, over a
// measurement's `result`:
//   result < 0.01      result[0] >= 0.95 && result[0] <= 1      !(result > 2) or isNaN(result)
// Numbers, `result` (and `result[k]`, `result.field`, asFloat(result), asInt(result)),
// expr-lang's abs, floor, ceil, round, int, float, min and max,
// + - * /, comparisons, && || ! (and, or, not; evaluated left to right and
// short-circuited, as expr-lang does), parentheses, isNaN(x), isInf(x), isNil(result),
// len(result), default(result, x), expr-lang's all(result, {# < x}) (and any, none, one,
// count: a predicate on each series, `#`), true and false. Parsed once when the policy loads; evaluated at
// every measurement.
//
// What `result` is depends on the provider, and a read of the wrong form fails in Argo
// (an Error measurement), so it fails here (ResultShape). With no data (an empty query
// result) Argo still evaluates the condition: len(result) is 0 and default(result, x) is
// x, so guards such as `len(result) == 0 || result[0] < 0.01` decide; any other read of
// the result fails.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace canarysim {

// What Argo's `result` is, by provider; a canarysim measurement is one series, so one value.
enum class ResultShape {
  kAny,     // canarysim's own policies: result, result[0], result[-1] and result.field all
            // read the value
  kVector,  // Prometheus (an instant vector): a list of the series' values; result[0] (or
            // [-1]) reads it, result[1] is out of range, and a bare `result` compared or
            // passed to isNaN is a type mismatch
  kScalar,  // Datadog, Prometheus scalar(): a number; only a bare `result` reads it
  kMap,     // New Relic: the NRQL result's fields; only result.field reads one
};
const char* shape_name(ResultShape s);  // any, vector, scalar, map
std::optional<ResultShape> shape_named(std::string_view name);  // nullopt: none of those

// How Argo phases a measurement whose conditions evaluated: `succeeded` and `failed` are
// their values (nullopt: that condition is not written). A true failure condition fails
// it; a success condition alone fails what it does not pass; both written and neither
// true is Inconclusive; neither written is Successful.
enum class Measured { kSuccessful, kFailed, kInconclusive };
Measured measured(std::optional<bool> succeeded, std::optional<bool> failed);

class Expression {
 public:
  // nullopt and `error` set on a syntax error.
  static std::optional<Expression> parse(const std::string& text, std::string* error);
  // The value (comparisons and logic give 0 or 1) for a measurement's result (nullopt:
  // no data), or nullopt when the evaluation fails: it reads a result that is not there.
  std::optional<double> evaluate(std::optional<double> result, ResultShape shape = ResultShape::kAny) const;
  // Whether the condition holds on a value (a failed evaluation does not hold).
  bool holds(double result, ResultShape shape = ResultShape::kAny) const {
    return evaluate(result, shape).value_or(0) != 0;
  }
  // Whether some read in the condition is past the one series (result[1], ...), which
  // fails whenever the evaluation reaches it.
  bool reads_past_one_series() const;
  // Whether the condition calls default(result, x).
  bool calls_default() const;
  // Whether the condition judges each of the result's series (all, any, none, one, count).
  bool quantifies() const;
  // Whether it calls min() or max(), whose value on a NaN operand is taken to be NaN.
  bool takes_extremes() const;
  // The text of a condition written for kAny, for a Prometheus provider (kVector): every
  // read that gives the value reads result[0] (`result < 1` -> `result[0] < 1`,
  // `result.x` -> `result[0]`); reads that fail (result[1]) are left as written; what
  // default(result, d) and isNil(result) meant on no data is said with len(result).
  std::string text_as_vector() const;
  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace canarysim
