// What a monitoring query measures: the reader of policies/interop/query.h on the query
// shapes real Argo, Flagger and Kayenta configurations hold, and its refusals.
#include "policies/interop/query.h"
#include "policies/interop/text.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace canarysim {
namespace {

QueryMeaning Read(const std::string& q, const std::string& dialect = "prometheus", const std::string& latency = "e2e") {
  QueryContext ctx;
  ctx.latency = latency;
  ctx.variables["args.canary-hash"] = "{canary}";
  ctx.variables["args.stable-hash"] = "{stable}";
  ctx.variables["interval"] = "1m";
  return read_query(q, dialect, ctx);
}

// "metric scale version window" or "refused: why".
std::string Says(const std::string& q, const std::string& dialect = "prometheus") {
  const QueryMeaning m = Read(q, dialect);
  if (!m.ok) return "refused: " + m.why;
  char buf[64];
  std::snprintf(buf, sizeof buf, " %g %s %g", m.scale, m.version.c_str(), m.window_s);
  return m.metric + buf;
}

// The query is refused, and the reason says `why`.
void Refused(const std::string& q, const std::string& why, const std::string& dialect = "prometheus") {
  const QueryMeaning m = Read(q, dialect);
  EXPECT_FALSE(m.ok) << q;
  EXPECT_NE(m.why.find(why), std::string::npos) << q << " -> " << m.why;
}

TEST(QueryTest, ErrorAndSuccessRatiosBySide) {
  EXPECT_EQ(Says(R"(sum(rate(http_requests_total{service="web",status=~"5.."}[5m])) / sum(rate(http_requests_total{service="web"}[5m])))"),
            "error_rate 1 canary 300");
  EXPECT_EQ(Says(R"(sum(irate(istio_requests_total{reporter="source",destination_service=~"{{args.service-name}}",response_code!~"5.*"}[5m])) /
                     sum(irate(istio_requests_total{reporter="source",destination_service=~"{{args.service-name}}"}[5m])))"),
            "success_rate 1 canary 300");
  // Flagger's error-rate template written as 100 - success%.
  EXPECT_EQ(Says(R"(100 - sum(rate(requests_total{namespace="{{ namespace }}",code!~"5.."}[{{ interval }}])) /
                     sum(rate(requests_total{namespace="{{ namespace }}"}[{{ interval }}])) * 100)"),
            "error_rate 100 canary 60");
  // Linkerd's classification label.
  EXPECT_EQ(Says(R"(sum(rate(response_total{deployment="web",classification!="failure"}[1m])) / sum(rate(response_total{deployment="web"}[1m])))"),
            "success_rate 1 canary 60");
  EXPECT_EQ(Says(R"(sum(rate(requests_total{code=~"[4-5].*"}[1m])) / sum(rate(requests_total[1m])) * 100)"),
            "error_rate 100 canary 60");
  EXPECT_EQ(Says(R"(sum(rate(envoy_cluster_upstream_rq{response_code_class="5xx"}[1m])) / sum(rate(envoy_cluster_upstream_rq[1m])))"),
            "error_rate 1 canary 60");
  EXPECT_EQ(Says(R"(1 - sum(rate(grpc_server_handled_total{grpc_code!="OK"}[2m])) / sum(rate(grpc_server_handled_total[2m])))"),
            "success_rate 1 canary 120");
  EXPECT_EQ(Says(R"(sum(rate(http_server_requests_seconds_count{outcome="SERVER_ERROR"}[1m])) / sum(rate(http_server_requests_seconds_count[1m])))"),
            "error_rate 1 canary 60");
  EXPECT_EQ(Says(R"(sum(rate(app_request_errors_total[1m])) / sum(rate(app_requests_total[1m])))"), "error_rate 1 canary 60");
}

TEST(QueryTest, StatusMatchersKeepFailuresSuccessesOrNeither) {
  EXPECT_EQ(Says(R"(sum by (service) (rate(requests_total{code=~"2.."}[1m])) / ignoring(code) sum by (service) (rate(requests_total[1m])))"),
            "success_rate 1 canary 60");
  EXPECT_EQ(Says(R"(sum(rate(requests_total{status="500"}[1m])) / sum(rate(requests_total[1m])))"), "error_rate 1 canary 60");
  EXPECT_EQ(Says(R"(sum(rate(traefik_service_requests_total{code!~"2.."}[5m])) / sum(rate(traefik_service_requests_total[5m])))"),
            "error_rate 1 canary 300");
  EXPECT_EQ(Says(R"(sum(rate(llm_requests_total{outcome="timeout"}[5m])) / sum(rate(llm_requests_total[5m])))"), "error_rate 1 canary 300");
  // Envoy's class label holds the class's digit: the matcher is read in the form it is written in.
  EXPECT_EQ(Says(R"(sum(irate(envoy_http_downstream_rq_xx{app="a",envoy_response_code_class!~"5"}[1m])) / sum(irate(envoy_http_downstream_rq_xx{app="a"}[1m])))"),
            "success_rate 1 canary 60");
  EXPECT_EQ(Says(R"(sum(rate(envoy_cluster_upstream_rq_xx{envoy_response_code_class="5"}[1m])) / sum(rate(envoy_cluster_upstream_rq_xx[1m])))"),
            "error_rate 1 canary 60");
  EXPECT_EQ(Says(R"(sum(rate(r_total{status_class!~"5.."}[1m])) / sum(rate(r_total[1m])))"), "success_rate 1 canary 60");
  // Forms that disagree (2 as a class, 5.. as codes), or a value of no form, are refused.
  EXPECT_NE(Says(R"(sum(rate(r_total{code=~"2|5.."}[1m])) / sum(rate(r_total[1m])))").find("cannot tell which"), std::string::npos);
  EXPECT_NE(Says(R"(sum(rate(r_total{code="7"}[1m])) / sum(rate(r_total[1m])))").find("refused: the matcher"), std::string::npos);
  // 200 is refused as a success filter's complement: 201, 204 and 4xx would count as failures.
  EXPECT_NE(Says(R"(sum(rate(requests_total{status!="200"}[1m])) / sum(rate(requests_total[1m])))").find("refused: the matcher"),
            std::string::npos);
  // What a matcher approximates is said.
  const QueryMeaning m = Read(R"(sum(rate(r_total{status="500",track="canary"}[1m])) / sum(rate(r_total{track="canary"}[1m])))");
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_NE(m.notes[0].find("counts only some server errors"), std::string::npos) << m.notes[0];
}

TEST(QueryTest, AConstantTimesACounterScalesTheRatio) {
  // PromQL reads 100 * a / b as (100 * a) / b: a percentage all the same.
  EXPECT_EQ(Says(R"(100 * sum(rate(http_requests_total{code=~"5..",track="canary"}[1m])) / sum(rate(http_requests_total{track="canary"}[1m])))"),
            "error_rate 100 canary 60");
  EXPECT_EQ(Says(R"(sum(rate(http_requests_total{code=~"5.."}[1m])) * 100 / sum(rate(http_requests_total[1m])))"),
            "error_rate 100 canary 60");
  EXPECT_EQ(Says(R"(1000 * sum(rate(http_request_duration_seconds_sum[5m])) / sum(rate(http_request_duration_seconds_count[5m])))"),
            "latency_mean 1000 canary 300");
  // Alone, a scaled counter is still a rate of events, not a ratio.
  EXPECT_NE(Says(R"(100 * sum(rate(http_requests_total{code=~"5.."}[1m])))").find("refused: a rate per second of failures"),
            std::string::npos);
}

TEST(QueryTest, VllmsFinishReasonIsAStatus) {
  // vLLM's request_success_total counts every finished request; finished_reason says how
  // it ended (stop, length, abort).
  EXPECT_EQ(Says(R"(sum(rate(vllm:request_success_total{finished_reason="abort",track="canary"}[2m])) / sum(rate(vllm:request_success_total{track="canary"}[2m])))"),
            "error_rate 1 canary 120");
  EXPECT_EQ(Says(R"(sum(rate(vllm:request_success_total{finished_reason=~"stop|length",track="canary"}[2m])) / sum(rate(vllm:request_success_total{track="canary"}[2m])))"),
            "success_rate 1 canary 120");
  EXPECT_NE(Says(R"(sum(rate(vllm:request_success_total{track="canary"}[2m])) / sum(rate(vllm:request_success_total{track="canary"}[2m])))")
                .find("refused: requests divided by requests"),
            std::string::npos);
}

TEST(QueryTest, AQueryThatNamesNoVersionIsSaid) {
  auto noted = [](const std::string& q, const std::string& canary_name = "") {
    QueryContext ctx;
    ctx.canary_name = canary_name;
    const QueryMeaning m = read_query(q, "prometheus", ctx);
    return std::any_of(m.notes.begin(), m.notes.end(),
                       [](const std::string& n) { return n.find("the query names no version") != std::string::npos; });
  };
  // The whole ingress: both versions, unless the tool scopes it.
  EXPECT_TRUE(noted(R"(sum(rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) / sum(rate(nginx_ingress_controller_requests[5m])))"));
  EXPECT_FALSE(noted(R"(sum(rate(x_total{code=~"5..",svc="{{args.service}}"}[5m])) / sum(rate(x_total{svc="{{args.service}}"}[5m])))"));
  EXPECT_FALSE(noted(R"(sum(rate(x_total{code=~"5..",deployment="podinfo"}[5m])) / sum(rate(x_total{deployment="podinfo"}[5m])))", "podinfo"));
  QueryContext scoped;
  scoped.versions_scoped = true;
  EXPECT_TRUE(read_query(R"(sum(rate(x_total{code=~"5.."}[5m])) / sum(rate(x_total[5m])))", "prometheus", scoped).notes.empty());
}

TEST(QueryTest, APatternThatMatchesBothVersionsWorkloadsIsSaid) {
  // Flagger's canary runs as <target>, its primary as <target>-primary, each pod as
  // <deployment>-<hash>-<id>: a regular expression may spell the canary's name and
  // still match the primary's, and then measures both versions.
  QueryContext ctx;
  ctx.canary_name = "podinfo";
  ctx.stable_name = "podinfo-primary";
  auto both = [&](const std::string& matcher) {
    const std::string sel = "{" + matcher + "}";
    const QueryMeaning m = read_query("sum(rate(x_total{code=~\"5..\"," + matcher + "}[1m])) / sum(rate(x_total" + sel + "[1m]))",
                                      "prometheus", ctx);
    EXPECT_TRUE(m.ok) << m.why;
    return std::any_of(m.notes.begin(), m.notes.end(),
                       [](const std::string& n) { return n.find("so the query measures both versions") != std::string::npos; });
  };
  EXPECT_TRUE(both(R"(destination_workload=~"podinfo.*")"));
  EXPECT_TRUE(both(R"(pod=~"podinfo-.+")"));
  EXPECT_TRUE(both(R"(app=~"podinfo|podinfo-primary")"));
  EXPECT_FALSE(both(R"(destination_workload=~"podinfo")"));                        // anchored: the canary alone
  EXPECT_FALSE(both(R"m(pod=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)")m"));           // Flagger's own pod pattern
  EXPECT_FALSE(both(R"(destination_workload="podinfo")"));                         // not a pattern
  EXPECT_FALSE(both(R"(namespace=~"podinfo.*",destination_workload="podinfo")"));  // a place, not a workload
  EXPECT_FALSE(both(R"(pod=~"podinfo.*",version="canary")"));                      // another matcher names the side
  // Without a stable name (Argo's versions share a workload name), nothing is said.
  ctx.stable_name.clear();
  EXPECT_FALSE(both(R"(destination_workload=~"podinfo.*")"));
  // Alternatives that name different versions are not read as the one named last or
  // first: both sides are refused as two matchers naming both are; a side and another
  // value are read as naming no version, and said.
  auto ratio = [](const std::string& matcher) {
    return read_query("sum(rate(x_total{code=~\"5..\"," + matcher + "}[1m])) / sum(rate(x_total{" + matcher + "}[1m]))",
                      "prometheus", QueryContext());
  };
  EXPECT_NE(ratio(R"(version=~"canary|stable")").why.find("names both the canary and the stable version"), std::string::npos);
  EXPECT_NE(ratio(R"m(app=~"podinfo-(canary|primary)")m").why.find("names both"), std::string::npos);
  const QueryMeaning one = ratio(R"(version=~"canary|canary-2")");
  EXPECT_TRUE(one.ok && one.notes.empty()) << one.why;
  const QueryMeaning mixed = ratio(R"(app=~"podinfo|podinfo-primary")");
  ASSERT_TRUE(mixed.ok) << mixed.why;
  EXPECT_EQ(mixed.version, "canary");  // was read as the stable version's
  EXPECT_NE(join(mixed.notes).find(R"(app=~"podinfo|podinfo-primary" matches the stable version's values and others)"),
            std::string::npos) << join(mixed.notes);
}

// Argo reads result[0] and Flagger the last series of what a query returns; canarysim
// measures each version as one series. Which labels the result keeps is worked out from
// the query's structure (by, without, on, ignoring, group_left, matchers that fix a
// label), and a result that may hold several series is said, naming the labels.
TEST(QueryTest, AResultOfSeveralSeriesIsSaidWithTheLabelsThatSplitIt) {
  auto series = [](const std::string& q) {
    const QueryMeaning m = Read(q);
    EXPECT_TRUE(m.ok) << q << ": " << m.why;
    const bool said = std::any_of(m.notes.begin(), m.notes.end(), [&](const std::string& n) {
      return n.find("returns a series for each") != std::string::npos;
    });
    EXPECT_EQ(said, !m.series.empty()) << q;
    return m.series;
  };
  // One series: aggregated without a clause, or by labels a matcher fixes, or a vector(0) fallback.
  EXPECT_EQ(series(R"(sum(rate(requests_total{code=~"5.."}[1m])) / sum(rate(requests_total[1m])))"), "");
  EXPECT_EQ(series(R"(sum by (service) (rate(requests_total{service="web",code=~"5.."}[1m])) / sum by (service) (rate(requests_total{service="web"}[1m])))"), "");
  EXPECT_EQ(series(R"(sum(rate(x_total{destination_service=~"{{args.service-name}}",code=~"5.."}[1m])) by (destination_service) / sum(rate(x_total{destination_service=~"{{args.service-name}}"}[1m])) by (destination_service))"), "");
  EXPECT_EQ(series(R"(histogram_quantile(0.99, sum(rate(latency_seconds_bucket[1m])) by (le)))"), "");
  EXPECT_EQ(series(R"((sum(rate(requests_total{code=~"5.."}[1m])) or on() vector(0)) / sum(rate(requests_total[1m])))"), "");
  EXPECT_EQ(series(R"(sum by (pod) (rate(requests_total{code=~"5.."}[1m])) / on() group_left sum(rate(requests_total[1m])))"), "pod");
  // Several: a label kept that no matcher fixes, or selectors never aggregated.
  EXPECT_EQ(series(R"(sum(rate(requests_total{code=~"5.."}[1m])) by (pod) / sum(rate(requests_total[1m])) by (pod))"), "pod");
  EXPECT_EQ(series(R"(histogram_quantile(0.95, sum by (le, node, route) (rate(latency_seconds_bucket[1m]))))"), "node, route");
  EXPECT_EQ(series(R"(sum by (pod, service) (rate(requests_total{service="web",code=~"5.."}[1m])) / ignoring(pod) sum by (service) (rate(requests_total{service="web"}[1m])))"), "");
  EXPECT_EQ(series(R"(sum without (instance) (rate(requests_total{code=~"5.."}[1m])) / sum without (instance) (rate(requests_total[1m])))"),
            "series the selectors match");
  EXPECT_EQ(series(R"(histogram_quantile(0.99, rate(latency_seconds_bucket[5m])))"), "series the selectors match");
  EXPECT_EQ(series(R"(rate(requests_total{code=~"5.."}[1m]) / rate(requests_total[1m]))"), "series the selectors match");
}

// Failures selected by a status label are a series that exists only from the version's
// first failure; `or vector(0)` stands in for it, a complement keeps it, a family named
// for errors (created with the application) has none.
TEST(QueryTest, AFailureSeriesThatMayNotExistYetIsNamed) {
  EXPECT_EQ(Read(R"(sum(rate(requests_total{code=~"5.."}[1m])) / sum(rate(requests_total[1m])))").sparse, R"(code=~"5..")");
  EXPECT_EQ(Read(R"(1 - sum(rate(requests_total{code=~"5.."}[1m])) / sum(rate(requests_total[1m])))").sparse, R"(code=~"5..")");
  EXPECT_EQ(Read(R"((sum(rate(requests_total{code=~"5.."}[1m])) or on() vector(0)) / sum(rate(requests_total[1m])))").sparse, "");
  EXPECT_EQ(Read(R"(sum(rate(requests_total{code!~"5.."}[1m])) / sum(rate(requests_total[1m])))").sparse, "");  // successes
  EXPECT_EQ(Read(R"(sum(rate(app_request_errors_total[1m])) / sum(rate(app_requests_total[1m])))").sparse, "");
}

TEST(QueryTest, LatencyQuantilesMeansAndUnits) {
  // Micrometer names a request family with a unit and no latency word.
  EXPECT_EQ(Says(R"(histogram_quantile(0.99, sum(rate(http_server_requests_seconds_bucket{uri!~".*actuator.*"}[5m])) by (le)))"),
            "latency_p99 1 canary 300");
  EXPECT_EQ(Says(R"(histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{app="web"}[5m])) by (le)))"),
            "latency_p99 1 canary 300");
  EXPECT_EQ(Says(R"(histogram_quantile(0.95, sum by (le) (rate(istio_request_duration_milliseconds_bucket[1m]))) / 1000)"),
            "latency_p95 1 canary 60");
  EXPECT_EQ(Says(R"(histogram_quantile(0.5, sum(rate(response_latency_ms_bucket[1m])) by (le)))"), "latency_p50 1000 canary 60");
  EXPECT_EQ(Says(R"(histogram_quantile(0.99, sum(rate(vllm:time_to_first_token_seconds_bucket[2m])) by (le)) * 1000)"),
            "ttft_p99 1000 canary 120");
  // vLLM observes every interval between tokens there: a token gap, not a request's mean.
  EXPECT_EQ(Says(R"(histogram_quantile(0.9, sum(rate(vllm:time_per_output_token_seconds_bucket[1m])) by (le)))"),
            "token_gap_p90 1 canary 60");
  EXPECT_EQ(Says(R"(histogram_quantile(0.9, sum(rate(vllm:inter_token_latency_seconds_bucket[1m])) by (le)))"),
            "token_gap_p90 1 canary 60");
  EXPECT_EQ(Says(R"(histogram_quantile(0.9, sum(rate(vllm:request_time_per_output_token_seconds_bucket[1m])) by (le)))"),
            "itl_p90 1 canary 60");
  EXPECT_EQ(Says(R"(sum(rate(http_server_duration_seconds_sum[5m])) / sum(rate(http_server_duration_seconds_count[5m])))"),
            "latency_mean 1 canary 300");
  EXPECT_EQ(Read(R"(histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[1m])) by (le)))", "prometheus", "ttft").metric,
            "ttft_p99");
}

// Whether a note contains `part`.
bool Notes(const QueryMeaning& m, const std::string& part) {
  return std::any_of(m.notes.begin(), m.notes.end(), [&](const std::string& n) { return n.find(part) != std::string::npos; });
}

TEST(QueryTest, ReadingsOverTimeTakeTheirArgumentsWindow) {
  const std::string ratio = "sum(rate(requests_total{code!~\"5..\"}[1m])) / sum(rate(requests_total[1m]))";
  // The mean of 1m ratios over 10m is about the ratio over 10m.
  EXPECT_EQ(Says("avg_over_time((" + ratio + ")[10m:30s])"), "success_rate 1 canary 600");
  EXPECT_FALSE(Notes(Read("avg_over_time((" + ratio + ")[10m:30s])"), "over_time"));
  // The latest sample is one 1m ratio.
  EXPECT_EQ(Says("last_over_time((" + ratio + ")[10m:30s])"), "success_rate 1 canary 60");
  // The lowest of twenty 1m ratios is judged as one of them, and said to be stricter.
  const QueryMeaning lowest = Read("min_over_time((" + ratio + ")[10m:30s])");
  EXPECT_EQ(lowest.window_s, 60);
  EXPECT_TRUE(Notes(lowest, "min_over_time() takes the lowest of its argument's samples over 10m")) << lowest.notes.size();
  EXPECT_TRUE(Notes(lowest, "breaches more often than the simulated one"));
  // A bare selector's samples are instants: the range is the window.
  const QueryMeaning score = Read(R"(max_over_time(llm_judge_quality_score{version="canary"}[5m]))");
  ASSERT_TRUE(score.ok) << score.why;
  EXPECT_EQ(score.window_s, 300);
  EXPECT_TRUE(Notes(score, "max_over_time() takes the highest of its argument's samples over 5m"));
}

TEST(QueryTest, TimesThatAreNotCountsOfRequestsAreNotReadAsThem) {
  // A summary's quantile, and Micrometer's _max gauge: "request" in the name is no count.
  EXPECT_EQ(Says(R"(max_over_time(request_latency_seconds{quantile="0.99"}[5m]))"),
            "refused: 'request_latency_seconds{quantile=\"0.99\"}' is a summary's quantile, computed by each pod over "
            "its client library's own sliding window (10 minutes in Prometheus's clients): canarysim cannot reproduce "
            "it; it reads a histogram's (histogram_quantile() of _bucket)");
  EXPECT_EQ(Says(R"(sum(rate(http_server_requests_seconds_max[1m])) / sum(rate(http_server_requests_seconds_count[1m])))"),
            "refused: rate() of 'http_server_requests_seconds_max', which is not a counter of requests the reader recognises");
  EXPECT_EQ(Says(R"(sum(rate(http_server_requests_seconds_count{outcome="SERVER_ERROR"}[1m])) / sum(rate(http_server_requests_seconds_count[1m])))"),
            "error_rate 1 canary 60");
}

TEST(QueryTest, OrVectorIsSaidWhereItDiffersFromWhatCanarysimReads) {
  // On the failures alone, 0 is what canarysim counts when there were none: nothing to say.
  const QueryMeaning failures = Read(R"((sum(rate(req_total{version="canary",code=~"5.."}[1m])) or on() vector(0)) / sum(rate(req_total{version="canary"}[1m])))");
  ASSERT_TRUE(failures.ok) << failures.why;
  EXPECT_FALSE(Notes(failures, "or vector"));
  // On the ratio, 0 stands for no requests at all, which canarysim keeps as no data.
  const QueryMeaning ratio = Read(R"((sum(rate(req_total{version="canary",code=~"5.."}[1m])) / sum(rate(req_total{version="canary"}[1m]))) or vector(0))");
  ASSERT_TRUE(ratio.ok) << ratio.why;
  EXPECT_TRUE(Notes(ratio, "'or vector(0)' turns no data into 0; in canarysim no data stays no data"));
}

TEST(QueryTest, AnOffsetIsSaidAndAFixedTimeRefused) {
  const QueryMeaning late = Read(R"(sum(rate(errors_total[5m] offset 10m)) / sum(rate(requests_total[5m] offset 10m)))");
  ASSERT_TRUE(late.ok) << late.why;
  EXPECT_EQ(late.metric, "error_rate");
  EXPECT_TRUE(Notes(late, "'offset 10m' reads the series 10m before each measurement"));
  EXPECT_FALSE(Notes(Read(R"(sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])))"), "offset"));
  // start() and end() are the evaluation time; a number is one fixed moment.
  const QueryMeaning now = Read(R"(sum(rate(errors_total[5m] @ end())) / sum(rate(requests_total[5m] @ end())))");
  EXPECT_TRUE(now.ok) << now.why;
  EXPECT_FALSE(Notes(now, "offset") || Notes(now, "@"));
  EXPECT_EQ(Says(R"(sum(rate(errors_total[5m] @ 1609746000)) / sum(rate(requests_total[5m])))"),
            "refused: '@ 1609746000' fixes the time the query reads: every measurement would read the same moment");
}

TEST(QueryTest, CanaryOverStableIsRelative) {
  EXPECT_EQ(Says(R"(histogram_quantile(0.99, sum(rate(ttft_seconds_bucket{rollouts_pod_template_hash="{{args.canary-hash}}"}[5m])) by (le))
                    / histogram_quantile(0.99, sum(rate(ttft_seconds_bucket{rollouts_pod_template_hash="{{args.stable-hash}}"}[5m])) by (le)))"),
            "ttft_p99 1 ratio 300");
  EXPECT_EQ(Says(R"(sum(rate(req_total{version="canary",code=~"5.."}[1m]))/sum(rate(req_total{version="canary"}[1m]))
                    - sum(rate(req_total{version="stable",code=~"5.."}[1m]))/sum(rate(req_total{version="stable"}[1m])))"),
            "error_rate 1 difference 60");
  EXPECT_EQ(Says(R"(histogram_quantile(0.99, sum(rate(lat_duration_seconds_bucket{track="primary"}[1m])) by (le)))"), "latency_p99 1 baseline 60");
}

TEST(QueryTest, RefusesWhatItCannotBeSureOf) {
  Refused(R"(sum(irate(requests_total{status=~"5.*"}[1m])))", "a rate per second of failures");
  Refused(R"(sum(increase(requests_total{status=~"5.*"}[5m])))", "a count of failures");
  Refused(R"(histogram_quantile(0.99, sum(rate(request_duration_bucket[1m])) by (le)))", "names no unit");
  Refused(R"(100 - sum(rate(istio_requests_total{response_code!="404"}[1m])) / sum(rate(istio_requests_total[1m])) * 100)",
          "neither all, the failures nor the successes");
  Refused(R"(sum(rate(x_total{code=~"5.."}[1m])) / sum(rate(x_total{code!~"5.."}[1m])))", "failures per successes");
  Refused(R"(sum(rate(x_total{code=~"5.."}[1m])) > 0.1)", "a comparison");
  Refused(R"(histogram_quantile(0.99, sum(rate(a_latency_seconds_bucket[1m])) by (le)) / histogram_quantile(0.99, sum(rate(a_latency_seconds_bucket[1m])) by (le)))",
          "cannot tell apart");
  Refused(R"(sum(rate(vllm:request_queue_time_seconds_sum[1m])) / sum(rate(vllm:request_queue_time_seconds_count[1m])))", "a stage");
  Refused(R"(sum(rate(x_total[1m])) / sum(rate(x_total[1m])))", "no failure or success filter");
  Refused(R"(50 - sum(rate(x_total{code=~"5.."}[1m])) / sum(rate(x_total[1m])))", "neither 1 - x nor 100 - x%");
  Refused(R"(sum(rate(x_total{code=~"5.."}[1m]) / sum(rate(x_total[1m])))", "cannot parse");
  Refused(R"(foo(bar[1m]))", "the function foo()");
  Refused(std::string(300, '(') + "1" + std::string(300, ')'), "nested more than 100 levels");
  Refused(R"(SELECT apdex(duration, t: 0.5) FROM Transaction)", "a shape the reader does not know", "newrelic");
  Refused(R"(sum(rate(requests_total{code=~"5.."}[1m]))/sum(rate(requests_total{code=~"5.."}[1m]))))", "cannot parse");
  // A recording rule's meaning is its definition, not its name.
  Refused(R"(slo:sli_error:ratio_rate5m{service="chat"})", "is a recording rule (level:metric:operations)");
  Refused(R"(sum(rate(job:request_errors:rate5m[5m])) / sum(rate(job:requests:rate5m[5m])))", "recording rule");
}

TEST(QueryTest, DatadogAndNewRelic) {
  EXPECT_EQ(Says("sum:trace.http.request.errors{service:web,env:prod}.as_count() / sum:trace.http.request.hits{service:web,env:prod}.as_count()",
                 "datadog"),
            "error_rate 1 canary 0");
  EXPECT_EQ(Says("p99:trace.http.request.duration{service:web,version:canary}", "datadog"), "latency_p99 1 canary 0");
  EXPECT_EQ(Says("(sum:requests.errors{version:canary}.as_count() / sum:requests.total{version:canary}.as_count()) * 100", "datadog"),
            "error_rate 100 canary 0");
  EXPECT_EQ(Says("SELECT percentage(count(*), WHERE error IS true) FROM Transaction WHERE appName = 'web' SINCE 5 minutes ago",
                 "newrelic"),
            "error_rate 100 canary 0");
  EXPECT_EQ(Says("SELECT percentile(duration, 95) FROM Transaction WHERE appName = 'web'", "newrelic"), "latency_p95 1 canary 0");
  // Tags across lines (as Flagger's templates write them), joined by AND, negated by ! or NOT.
  EXPECT_EQ(Says("100 - (\n  sum:istio.mesh.request.count{\n    reporter:destination,\n    destination_workload:web,\n"
                 "    !response_code:5xx\n  }.as_count()\n  /\n  sum:istio.mesh.request.count{\n    reporter:destination,\n"
                 "    destination_workload:web\n  }.as_count()\n) * 100",
                 "datadog"),
            "error_rate 100 canary 0");
  EXPECT_EQ(Says("sum:requests.errors{env:prod AND service:web}.as_count() / sum:requests.total{env:prod AND NOT version:stable}.as_count()",
                 "datadog"),
            "error_rate 1 canary 0");
  Refused("sum:requests.errors{service:web OR service:api}.as_count() / sum:requests.total{service:web}.as_count()",
          "a tag filter with OR", "datadog");
  // A latency kept to failed requests is how fast requests fail: refused, in each dialect.
  Refused("p99:trace.http.request.duration{service:web,version:canary,http.status_code:500}", "latency of failed requests alone",
          "datadog");
  Refused("avg:trace.http.request.duration{service:web,status:error}", "latency of failed requests alone", "datadog");
  // A share as filter() over a metric's counts (FROM Metric) or over events.
  EXPECT_EQ(Says("SELECT\n  filter(sum(nginx_ingress_controller_requests), WHERE status >= '500') /\n"
                 "  sum(nginx_ingress_controller_requests) * 100\nFROM Metric\nWHERE metricName = 'nginx_ingress_controller_requests' "
                 "AND ingress = 'web-canary'", "newrelic"),
            "error_rate 100 canary 0");
  EXPECT_EQ(Says("SELECT filter(count(*), WHERE error IS true) / count(*) FROM Transaction WHERE appName = 'web'", "newrelic"),
            "error_rate 1 canary 0");
  Refused("SELECT filter(sum(a_requests), WHERE status >= '500') / sum(b_requests) FROM Metric", "count different things",
          "newrelic");
  // The query's own WHERE chooses whose requests count: a service, a host, an endpoint
  // are read; an outcome (a status, an error, a duration) makes it measure those alone.
  EXPECT_EQ(Says("SELECT percentile(duration, 99) FROM Transaction WHERE appName = 'chat' AND name LIKE 'WebTransaction/%' "
                 "SINCE 5 minutes ago", "newrelic"),
            "latency_p99 1 canary 0");
  EXPECT_EQ(Says("SELECT percentage(count(*), WHERE httpResponseCode >= '500') FROM Transaction WHERE host IN ('a', 'b')",
                 "newrelic"),
            "error_rate 100 canary 0");
  Refused("SELECT percentile(duration, 99) FROM Transaction WHERE httpResponseCode >= '500'",
          "whose WHERE keeps requests by httpresponsecode", "newrelic");
  Refused("FROM Transaction SELECT average(duration) WHERE error IS true SINCE 1 hour ago", "keeps requests by error", "newrelic");
  Refused("SELECT percentage(count(*), WHERE error IS true) FROM Transaction WHERE duration > 2 TIMESERIES", "by duration",
          "newrelic");
}

TEST(QueryTest, ALatencyKeptToSomeOutcomesIsReadOnlyForTheSuccesses) {
  Refused(R"(histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{app="x",status=~"5.."}[1m])) by (le)))",
          "'http_request_duration_seconds_bucket' with status=~\"5..\" is the latency of failed requests alone");
  Refused(R"(sum(rate(rpc_latency_seconds_sum{grpc_code="Unavailable"}[5m])) / sum(rate(rpc_latency_seconds_count{grpc_code="Unavailable"}[5m])))",
          "latency of failed requests alone");
  Refused(R"(max(http_server_requests_seconds_max{outcome="SERVER_ERROR"}))", "latency of failed requests alone");
  // The successes alone: read, and said.
  const QueryMeaning ok = Read(R"(histogram_quantile(0.9, sum(rate(http_request_duration_seconds_bucket{code!~"5.."}[1m])) by (le)))");
  EXPECT_TRUE(ok.ok) << ok.why;
  EXPECT_EQ(ok.metric, "latency_p90");
  auto says_successes = [](const QueryMeaning& m) {
    return std::any_of(m.notes.begin(), m.notes.end(), [](const std::string& n) {
      return n.find("keeps the latency of successful requests") != std::string::npos;
    });
  };
  EXPECT_TRUE(says_successes(ok));
  // A status of every class keeps everything: read, nothing said of it.
  const QueryMeaning all = Read(R"(histogram_quantile(0.9, sum(rate(http_request_duration_seconds_bucket{code=~"[1-5].."}[1m])) by (le)))");
  EXPECT_TRUE(all.ok) << all.why;
  EXPECT_FALSE(says_successes(all));
}

TEST(QueryTest, RulesAreStatedInCanarysimUnits) {
  QueryMeaning m = Read(R"(100 - sum(rate(r_total{code!~"5.."}[1m])) / sum(rate(r_total[1m])) * 100)");
  EXPECT_EQ(rule_text(m, "<=", 1), "error_rate <= 1%");
  m = Read(R"(histogram_quantile(0.99, sum(rate(d_duration_seconds_bucket[1m])) by (le)))");
  EXPECT_EQ(rule_text(m, "<=", 0.5), "latency_p99 <= 500ms");
  EXPECT_EQ(rule_text(m, "<=", 2), "latency_p99 <= 2s");
  m = Read(R"(histogram_quantile(0.99, sum(rate(ttft_milliseconds_bucket{role="canary"}[1m])) by (le)) / histogram_quantile(0.99, sum(rate(ttft_milliseconds_bucket{role="stable"}[1m])) by (le)))");
  EXPECT_EQ(rule_text(m, "<=", 1.2), "ttft_p99 ratio <= 1.2");
  m = Read(R"(sum(rate(r_total{code!~"5.."}[1m])) / sum(rate(r_total[1m])))");
  EXPECT_EQ(rule_text(m, ">=", 0.99), "success_rate >= 99%");
}

}  // namespace
}  // namespace canarysim
