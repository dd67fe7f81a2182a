// canarysim fit prometheus: Prometheus API exports in, a scenario out, on files written
// here in the API's exact shape (NaN samples, stale series, +Inf buckets).
#include "sim/io/fit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "sim/io/config.h"
#include "sim/model/random.h"
#include "sim/model/scenario.h"

namespace canarysim {
namespace {

std::string Example(const std::string& name) {
  return std::string(CANARYSIM_SOURCE_DIR) + "/scenarios/fitted-example/" + name;
}

std::string Write(const std::string& name, const std::string& json) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << json;
  return path;
}

Scenario Fitted(const FitInputs& in) {
  return parse_scenario(ConfigMap::parse_string(fit_prometheus(in, "fitted"), "<fitted>"));
}

// Prometheus's histogram_quantile, as the exporter's dashboards read the buckets.
double HistogramQuantile(double q, const std::vector<double>& le, const std::vector<double>& count) {
  const double rank = q * count.back();
  for (size_t i = 0; i < le.size(); ++i)
    if (count[i] >= rank) {
      const double lo = i ? le[i - 1] : 0, below = i ? count[i - 1] : 0;
      return lo + (le[i] - lo) * (rank - below) / (count[i] - below);
    }
  return le.back();
}

TEST(FitTest, TheExampleExportsBecomeARunnableScenario) {
  FitInputs in;
  for (const char* f : {"request_rate.json", "ttft_buckets.json", "inter_token_buckets.json",
                        "e2e_latency_buckets.json", "error_ratio.json"})
    in.files.push_back(Example(f));
  const std::string text = fit_prometheus(in, "fitted");
  const Scenario s = parse_scenario(ConfigMap::parse_string(text, "<fitted>"));
  EXPECT_NEAR(s.horizon_s, 6 * 3600, 1e-9);                 // 72 steps of 5 minutes
  EXPECT_EQ(s.traffic.schedule.size(), 72u);                 // two pods summed, one stale at the end
  EXPECT_GT(s.traffic.schedule.front().rate_per_s, 70);      // both pods, from the first step
  EXPECT_GT(s.traffic.schedule.back().rate_per_s, 70);       // the remaining pod carries it all
  EXPECT_NEAR(s.baseline.error_rate, 0.0025, 0.0003);        // the mean of U(0.2 %, 0.3 %), NaN skipped
  EXPECT_NE(text.find("1 NaN skipped"), std::string::npos);
  EXPECT_NE(text.find("1 step(s) missing a bucket left out"), std::string::npos);

  // The fit's error: TTFT drawn from the fitted distribution against histogram_quantile
  // on the exported buckets. 200,000 draws: a quantile's standard error is about
  // sqrt(q (1 - q) / n) / density, under 1 % here; the table is drawn exactly, so the
  // difference is sampling error only.
  const std::vector<double> le = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
                                  0.75,  1,     2.5,  5,    7.5,  10,   20,   40,   80};
  std::vector<double> count;
  {
    const std::string t = text.substr(text.find("ttft: {histogram"));
    const std::string c = t.substr(t.find("count: [") + 8, t.find("]}}") - t.find("count: [") - 8);
    for (size_t p = 0; p < c.size();) {
      count.push_back(std::stod(c.substr(p)));
      p = c.find(", ", p);
      if (p == std::string::npos) break;
      p += 2;
    }
  }
  ASSERT_EQ(count.size(), le.size() + 1);
  count.pop_back();  // +Inf: the same total, the exporter's histogram ends at 80 s
  Rng rng(9, 0, Stream::kRequests);
  std::vector<double> draws(200000);
  for (double& x : draws) x = s.baseline.serving.ttft.quantile(rng.uniform_open());
  std::sort(draws.begin(), draws.end());
  for (double q : {0.5, 0.9, 0.99}) {
    const double drawn = draws[static_cast<size_t>(q * draws.size())];
    const double exported = HistogramQuantile(q, le, count);
    std::printf("ttft p%g: drawn %.4f s, histogram_quantile %.4f s (%+.2f %%)\n", 100 * q, drawn, exported,
                100 * (drawn / exported - 1));
    EXPECT_NEAR(drawn / exported, 1.0, 0.02) << "p" << 100 * q;
  }
}

TEST(FitTest, ExplicitRolesVectorsNaNAndStaleSeries) {
  const std::string rate = Write("r.json",
      R"({"status":"success","data":{"resultType":"matrix","result":[)"
      R"({"metric":{"pod":"a"},"values":[[1000,"10"],[1060,"NaN"],[1120,"12"]]},)"
      R"({"metric":{"pod":"b"},"values":[[1000,"5"]]}]}})");
  const std::string ttft = Write("t.json",
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"le":"0.5"},"value":[1120,"50"]},{"metric":{"le":"1"},"value":[1120,"90"]},)"
      R"({"metric":{"le":"+Inf"},"value":[1120,"100"]}]}})");
  FitInputs in;
  in.assigned = {{"rate", rate}, {"ttft", ttft}};
  const Scenario s = Fitted(in);
  ASSERT_EQ(s.traffic.schedule.size(), 2u);  // 15 at 0 (both pods), 12 at 2m (a alone); the NaN step has none
  EXPECT_EQ(s.traffic.schedule[0].rate_per_s, 15);
  EXPECT_EQ(s.traffic.schedule[1].at_s, 120);
  EXPECT_EQ(s.traffic.schedule[1].rate_per_s, 12);
  EXPECT_NEAR(s.baseline.serving.ttft.quantile(0.5), 0.5, 1e-12);
  EXPECT_NEAR(s.baseline.serving.ttft.quantile(0.7), 0.75, 1e-12);
  EXPECT_NEAR(s.baseline.serving.ttft.quantile(0.95), 1.0, 1e-12);  // +Inf: the top bound
  // ... and said in the scenario's comment.
  EXPECT_NE(fit_prometheus(in, "x").find("10 observations above 1s (the +Inf bucket) are drawn at 1s"), std::string::npos);
}

TEST(FitTest, WhatItCannotReadIsNamed) {
  auto message = [](const std::string& name, const std::string& json, const std::string& role = "") {
    FitInputs in;
    const std::string path = Write(name, json);
    if (role.empty()) in.files = {path};
    else in.assigned[role] = path;
    try {
      fit_prometheus(in, "x");
    } catch (const InputError& e) {
      return std::string(e.what()).substr(path.size());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("a.json", R"({"status":"error","errorType":"bad_data","error":"parse error at char 4"})"),
            ": the query failed: parse error at char 4");
  EXPECT_EQ(message("ttft.json", R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"le":"1"},"value":[1,"3"]}]}})"),
            ": no +Inf bucket; expected every bucket of the histogram (sum by (le) keeps them)");
  EXPECT_EQ(message("mystery.json", R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"3"]}]}})"),
            ": cannot tell what it holds (a series named 'mystery.json'); name it with --rate, --ttft, --itl, "
            "--latency or --errors");
  EXPECT_EQ(message("e.json", R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2.5"]}]}})", "errors"),
            ": an error ratio of 2.5 at 1.000; expected a ratio in [0, 1] (divide errors by requests; not a percentage)");
  EXPECT_EQ(message("s.json", R"({"status":"success","data":{"resultType":"scalar","result":[1,"3"]}})", "rate"),
            ": resultType 'scalar'; expected matrix (query_range) or vector (query)");
  EXPECT_EQ(message("n.json", R"({"status":"success","data":{"resultType":"vector","result":[]}})", "rate"),
            ": no series (an empty result: check the query's selector and range)");
  EXPECT_EQ(message("v.json", R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"lots"]}]}})", "rate"),
            ": data.result[0]: sample 0: 'lots' is not a sample value");
}

}  // namespace
}  // namespace canarysim
