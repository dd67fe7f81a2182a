// What a monitoring query measures, read from the query itself (never from keywords
// alone), so that an imported rule judges the same quantity as the user's.
//
// A query is parsed (PromQL fully enough to know its structure; Datadog metric queries
// and New Relic NRQL in their common shapes) and its meaning is computed bottom-up:
//
//   selector of a counter          requests: all, failures or successes, from the
//                                  status-like labels (status, code, response_code,
//                                  response_code_class, grpc_code, classification,
//                                  finished_reason...) by
//                                  testing the matcher against sample values (500, 5xx,
//                                  Unavailable, failure / 200, 2xx, OK, success), or
//                                  from the family name (..._errors_total)
//   rate(), irate(), increase()    per second or a count over the range; the range is
//                                  the measurement window
//   failures / all                 error_rate (successes / all: success_rate); any other
//                                  pair of counters is refused (odds, traffic shares)
//   histogram_quantile(q, b)       the q quantile of b's SLI, in b's unit
//   x_sum / x_count                the mean of x's SLI, in x's unit
//   c - x, with c the scale of x   the complement (error_rate <-> success_rate)
//   x * k, x / k                   the scale (percent, milliseconds)
//   canary / stable, canary - stable   a relative check (version ratio, difference)
//
// Units come from family names (_seconds, _milliseconds, _ms, _microseconds, _us); a
// time without one is refused. The side of a selector is canary when a label value
// names the canary (contains "canary", or an Argo argument valued from the Latest pod
// template hash), stable when it names the stable version ("stable", "primary",
// "baseline", or the Stable hash), otherwise canary: analysis queries measure the
// canary. A query that names no version at all (no such label, no template variable, not
// the canary's workload name) is read as the canary's with a note: if it measures both
// versions, the user's check is diluted where canarysim's is not. Anything else (a rate of events per second, a count, a constant, a
// comparison, an unknown function, an SLI canarysim does not model) is refused with
// the reason, for that query only.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace canarysim {

struct QueryContext {
  // The canarysim SLI a web request latency (request_duration, latency, response_time)
  // stands for: "e2e" (latency_pXX), "ttft" or "itl".
  std::string latency = "e2e";
  // Go-template variables and their values ({{ interval }}, {{args.name}}); a value of
  // "{canary}" or "{stable}" marks a side (Argo's podTemplateHashValue).
  std::map<std::string, std::string> variables;
  // The canary's workload name as files write it literally (Flagger's target), which
  // names the version as a template variable would.
  std::string canary_name;
  // The stable version's workload name, when the tool names it from the canary's
  // (Flagger's <target>-primary): a pattern that matches both names measures both.
  std::string stable_name;
  // The tool runs the query once per version itself (Kayenta's scopes): no selector
  // needs to name one.
  bool versions_scoped = false;
};

struct QueryMeaning {
  bool ok = false;
  std::string why;     // !ok: what the query measures, and why canarysim cannot
  std::string metric;  // a canarysim metric name (policies/checks.h): error_rate, ttft_p99
  // The query's value is `scale` times canarysim's (fraction -> percent: 100;
  // seconds -> milliseconds: 1000).
  double scale = 1;
  std::string version = "canary";  // canary, baseline, ratio or difference
  double window_s = 0;             // the query's range, seconds (0: none written)
  // PromQL: what tells the result's series apart when it may have several ("pod"; "" for
  // one series, as canarysim measures each version). Argo reads result[0] of them.
  std::string series;
  // PromQL: the result is a scalar (scalar(), a number), not an instant vector.
  bool scalar = false;
  // The status matcher (code=~"5..") by which the query counts failures, when no
  // `or vector(0)` stands in: client libraries create a label value's series when it is
  // first used, so until a version's first failure the query returns no data, where
  // canarysim's rate reads 0.
  std::string sparse;
  std::vector<std::string> notes;  // approximations the reading made
};

// `dialect`: prometheus, datadog or newrelic.
QueryMeaning read_query(const std::string& query, const std::string& dialect, const QueryContext& context);

// `text` with its Go-template placeholders ({{ interval }}, {{args.name}}) replaced by their
// values in `ctx`, and those with none by a marker, "__var_<name>__", that reads as a name.
std::string substitute(const std::string& text, const QueryContext& ctx);

// A threshold on a meaning's query value, in canarysim's words:
// "error_rate <= 1%", "latency_p99 <= 500ms", "ttft_p99 ratio <= 1.2".
std::string rule_text(const QueryMeaning& meaning, const std::string& op, double threshold);
// What a rule is about, as rule_text names it: "error_rate", "ttft_p99 ratio".
std::string rule_subject(const QueryMeaning& meaning);

}  // namespace canarysim
