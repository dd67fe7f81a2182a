// Traffic: trace replay, rate profiles, bursts, user skew and segments.
#include "sim/model/traffic.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <fstream>
#include <tuple>
#include <map>
#include <numeric>
#include <vector>

#include "sim/io/config.h"
#include "tests/generate.h"
#include "sim/model/scenario.h"

namespace canarysim {
namespace {

const std::string kTrace = std::string(CANARYSIM_SOURCE_DIR) + "/scenarios/traces/azure-llm-2023-conv.csv";

// A trace written to a scratch file and loaded: the error's message after the file's
// path ("accepted" when it loads).
std::string TraceMessage(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  try {
    Trace::load(path);
  } catch (const InputError& e) {
    return std::string(e.what()).substr(path.size());
  }
  return "accepted";
}

TrafficSpec Parse(const std::string& yaml) {
  return TrafficSpec::parse(ConfigMap::parse_string(yaml, std::string(CANARYSIM_SOURCE_DIR) + "/scenarios/x.yaml"));
}


TEST(TraceTest, LoadsTheAzureSchemaAsItIs) {
  const Trace t = Trace::load(kTrace);
  EXPECT_EQ(t.arrival_s.size(), 19366u);
  EXPECT_EQ(t.arrival_s.front(), 0);
  EXPECT_GT(t.duration_s(), 3000);
  EXPECT_LT(t.duration_s(), 3700);
  // The README's figures: mean prompt 1,155 and mean output 211 tokens.
  const double prompts = std::accumulate(t.prompt_tokens.begin(), t.prompt_tokens.end(), 0.0);
  const double outputs = std::accumulate(t.output_tokens.begin(), t.output_tokens.end(), 0.0);
  EXPECT_NEAR(prompts / 19366, 1155, 1);
  EXPECT_NEAR(outputs / 19366, 211, 1);
}

TEST(TraceTest, ReplayReproducesTheTracesRequestsAndTokensExactly) {
  const Trace t = Trace::load(kTrace);
  const TrafficSpec spec = Parse("trace: {file: traces/azure-llm-2023-conv.csv, loop: false}\n");
  const auto requests = Generate(spec, 1e9);
  ASSERT_EQ(requests.size(), t.arrival_s.size());
  uint64_t prompt = 0, output = 0, expected_prompt = 0, expected_output = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    prompt += requests[i].prompt_tokens;
    output += requests[i].output_tokens;
    expected_prompt += t.prompt_tokens[i];
    expected_output += t.output_tokens[i];
    ASSERT_DOUBLE_EQ(requests[i].arrival, t.arrival_s[i]);
  }
  EXPECT_EQ(prompt, expected_prompt);
  EXPECT_EQ(output, expected_output);
}

TEST(TraceTest, TimeScaleCompressesAndLoopRepeats) {
  const Trace t = Trace::load(kTrace);
  const TrafficSpec fast = Parse("trace: {file: traces/azure-llm-2023-conv.csv, time_scale: 0.5, loop: false}\n");
  const auto half = Generate(fast, 1e9);
  EXPECT_DOUBLE_EQ(half.back().arrival, t.duration_s() * 0.5);
  const TrafficSpec looped = Parse("trace: {file: traces/azure-llm-2023-conv.csv, loop: true}\n");
  const double lap = t.duration_s() * (1 + 1.0 / 19366);
  EXPECT_EQ(Generate(looped, 2 * lap).size(), 2 * t.arrival_s.size());
}

TEST(TraceTest, ABadRowIsNamedByFileLineAndColumn) {
  const std::string path = ::testing::TempDir() + "bad-trace.csv";
  std::ofstream(path) << "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,374,44\n"
                         "2023-11-16 18:15:47.00,lots,44\n";
  try {
    Trace::load(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ":3: ContextTokens: expected a whole number of tokens, got 'lots'");
  }
}

TEST(TraceTest, ACachedTokensColumnGivesEachRequestsPrefixCacheHit) {
  const std::string path = ::testing::TempDir() + "cached-trace.csv";
  std::ofstream(path) << "timestamp,prompt_tokens,output_tokens,cached_tokens\n0,1000,10,600\n0.5,200,10,0\n";
  const Trace t = Trace::load(path);
  EXPECT_EQ(t.cached_tokens, (std::vector<uint32_t>{600, 0}));
  std::ofstream(path) << "timestamp,prompt_tokens,output_tokens,cached_tokens\n0,100,10,600\n";
  try {
    Trace::load(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":2: cached_tokens: expected at most the prompt's 100 tokens, got '600'");
  }
}

// Empirical distributions: every given quantile is drawn exactly; drawn quantiles of a
// histogram match its buckets' cumulative shares to within the sampling error.
Distribution ParseDistribution(const std::string& yaml, bool seconds) {
  const ConfigMap m = ConfigMap::parse_string("d: " + yaml + "\n", "<test>");
  return Distribution::parse(m, "d", seconds, Distribution::fixed(1));
}

TEST(DistributionTest, QuantilesAreDrawnExactlyAndTheTailContinuesTheLastPiece) {
  const Distribution d = ParseDistribution("{quantiles: {p50: 400ms, p90: 900ms, p99: 2.5s, p99.9: 6s}}", true);
  EXPECT_NEAR(d.quantile(0.5), 0.4, 1e-12);
  EXPECT_NEAR(d.quantile(0.9), 0.9, 1e-12);
  EXPECT_NEAR(d.quantile(0.99), 2.5, 1e-12);
  EXPECT_NEAR(d.quantile(0.999), 6.0, 1e-9);
  // Between p90 and p99, lognormal through both points: the probit midpoint is their
  // geometric mean.
  const double zmid = (normal_quantile(0.9) + normal_quantile(0.99)) / 2;
  EXPECT_NEAR(d.quantile(0.5 * std::erfc(-zmid / std::sqrt(2.0))), std::sqrt(0.9 * 2.5), 1e-6);
  EXPECT_GT(d.quantile(0.9999), 6.0);  // the tail goes on
  EXPECT_LT(d.quantile(0.01), 0.4);
  for (double u = 0.001; u < 1; u += 0.001) EXPECT_LE(d.quantile(u), d.quantile(u + 0.0005));
}

TEST(DistributionTest, APrometheusHistogramIsDrawnBucketForBucket) {
  const Distribution d =
      ParseDistribution("{histogram: {le: [0.1, 0.25, 0.5, 1, 2.5, +Inf], count: [120, 480, 900, 990, 1000, 1000]}}", true);
  // 200,000 draws: each bucket's share within 4 standard errors (at most 0.0011).
  Rng rng(5, 0, Stream::kRequests);
  const double bounds[] = {0.1, 0.25, 0.5, 1, 2.5};
  const double share[] = {0.12, 0.48, 0.90, 0.99, 1.0};
  int below[5] = {};
  constexpr int kDraws = 200000;
  for (int i = 0; i < kDraws; ++i) {
    const double x = d.quantile(rng.uniform_open());
    for (int b = 0; b < 5; ++b) below[b] += x <= bounds[b];
  }
  for (int b = 0; b < 5; ++b) {
    const double p = share[b], se = std::sqrt(p * (1 - p) / kDraws);
    EXPECT_NEAR(below[b] / double{kDraws}, p, 4 * se + 1e-12) << "le " << bounds[b];
  }
  EXPECT_NEAR(d.quantile(0.3), 0.1 + 0.15 * (0.3 - 0.12) / 0.36, 1e-12);  // linear in the bucket
  // The mean by buckets' midpoints: 0.12 x 0.05 + 0.36 x 0.175 + 0.42 x 0.375 + 0.09 x 0.75 + 0.01 x 1.75.
  EXPECT_NEAR(d.mean(), 0.006 + 0.063 + 0.1575 + 0.0675 + 0.0175, 1e-4);
}

TEST(DistributionTest, EmpiricalTokenCountsWorkForTraffic) {
  const TrafficSpec t = Parse("prompt_tokens: {quantiles: {p50: 800, p99: 6000}}\n"
                              "output_tokens: {histogram: {le: [50, 200, 1000], count: [10, 80, 100]}}\n");
  EXPECT_NEAR(t.prompt_tokens.quantile(0.5), 800, 1e-9);
  EXPECT_NEAR(t.output_tokens.quantile(0.8), 200, 1e-9);
}

// token_count is ceil() clamped to [1, 1e7], computed without ceil(): the same count for
// every double, at the edges (whole numbers and their neighbours, 0 and -0, the cap, the
// infinities, NaN) and across the magnitudes drawn (random bit patterns).
TEST(TokenCountTest, IsCeilClampedForEveryValue) {
  auto reference = [](double x) {
    const double c = std::ceil(x);
    return c >= 1e7 ? 10000000u : c >= 1 ? static_cast<uint32_t>(c) : 1u;
  };
  std::vector<double> xs = {0.0, -0.0, 1e-300, 0.5, 1.0, 1.5, 2.0, -1.0, -1e300, 1e300, 9999999.0,
                            9999999.5, 1e7, 1e7 + 0.5, 4294967295.5, 4294967296.0, 1e19,
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::denorm_min()};
  for (double k = 1; k < 20000; k = k < 100 ? k + 1 : std::floor(k * 1.1)) xs.push_back(k);
  for (double k : {1.0, 2.0, 100.0, 4096.0, 9999998.0, 9999999.0, 1e7}) {
    xs.push_back(std::nextafter(k, 0.0));
    xs.push_back(std::nextafter(k, 2e7));
  }
  Rng rng(7, 0, Stream::kRequests);
  for (int i = 0; i < 200000; ++i) {
    // Random doubles between 2^-20 and 2^26 (log-uniform), and raw bit patterns.
    xs.push_back(std::exp2(-20 + 46 * rng.uniform()));
    const uint64_t bits = rng.next();
    double raw;
    std::memcpy(&raw, &bits, sizeof raw);
    xs.push_back(raw);
  }
  for (double x : xs) ASSERT_EQ(token_count(x), reference(x)) << "x = " << x;
}

TEST(DistributionTest, BadTablesAreNamed) {
  auto message = [](const std::string& yaml) {
    try {
      ParseDistribution(yaml, true);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("{quantiles: {p90: 1s, p50: 2s}}"),
            "<test>:1:31: d.quantiles.p50: expected quantiles in increasing order (p50 before p90), got '2s'");
  EXPECT_EQ(message("{quantiles: {p50: 2s, p90: 1s}}"),
            "<test>:1:31: d.quantiles.p90: expected a value at least the previous quantile's, got '1s'");
  EXPECT_EQ(message("{quantiles: {median: 1s, p90: 2s}}"),
            "<test>:1:25: d.quantiles.median: 'median' is not a quantile; expected keys like p50, p90, p99, p99.9");
  EXPECT_EQ(message("{histogram: {le: [1, 0.5], count: [1, 2]}}"),
            "<test>:1:25: d.histogram.le[1]: expected bucket bounds in increasing order, got '0.5'");
  EXPECT_EQ(message("{histogram: {le: [1, 2], count: [5, 2]}}"),
            "<test>:1:40: d.histogram.count[1]: expected cumulative counts, never below the one before, got '2'");
  EXPECT_EQ(message("{histogram: {le: [1, 2], count: [0, 0]}}"),
            "<test>:1:36: d.histogram.count: expected a histogram with at least one observation, got a list");
  EXPECT_EQ(message("{median: 1s, histogram: {le: [1], count: [1]}}"), 
            "<test>:1:13: d.median: expected one form: {quantiles}, {histogram}, {median, p99} or {mean}, got '1s'");
}

// Traces in the shapes public traces come in (tests/data/traces/make_traces.py wrote them;
// the totals below are the script's own counts): every row, every token, exactly.
std::string TraceData(const std::string& name) { return std::string(CANARYSIM_SOURCE_DIR) + "/tests/data/traces/" + name; }

TraceFormat Format(const std::string& yaml) {
  return TraceFormat::parse(ConfigMap::parse_string(yaml.empty() ? "{}" : yaml, "<test>"));
}

uint64_t Sum(const std::vector<uint32_t>& v) {
  uint64_t s = 0;
  for (uint32_t x : v) s += x;
  return s;
}

TEST(TraceTest, MooncakeJsonLinesReplayWithExactTotals) {
  const Trace t = Trace::load(TraceData("mooncake.jsonl"), Format("schema: mooncake"));
  EXPECT_EQ(t.arrival_s.size(), 200u);
  EXPECT_EQ(Sum(t.prompt_tokens), 1878552u);
  EXPECT_EQ(Sum(t.output_tokens), 77866u);
  EXPECT_NEAR(t.duration_s(), (190063 - 663) / 1000.0, 1e-9);  // milliseconds
  // The extension alone picks JSON lines; the column names are found; the unit is not
  // (the reader cannot know milliseconds) and the scenario warns about it (below).
  EXPECT_EQ(Trace::load(TraceData("mooncake.jsonl")).arrival_s.size(), 200u);
  const auto warned = [](const std::string& trace) {
    return parse_scenario(ConfigMap::parse_string("horizon: 1h\ntraffic: {trace: {file: " + TraceData("mooncake.jsonl") +
                                                      trace + "}}\n", "<test>")).warnings;
  };
  const auto w = warned("");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("times read as s, inferred): whole-number times a mean 951.759s apart look like milliseconds"),
            std::string::npos) << w[0];
  EXPECT_TRUE(warned(", time_unit: ms").empty());
  EXPECT_EQ(warned(", time_unit: s, time_scale: 10").size(), 1u);  // a 2.6 h mean gap
  // A span over 1,000 horizons: 189 s of trace for a 0.1 s horizon.
  const auto span = parse_scenario(ConfigMap::parse_string("horizon: 100ms\ntraffic: {trace: {file: " +
                                                               TraceData("mooncake.jsonl") + ", time_unit: ms}}\n",
                                                           "<test>")).warnings;
  ASSERT_EQ(span.size(), 1u);
  EXPECT_NE(span[0].find("over 1,000 times the horizon (100ms); is time_unit right"), std::string::npos) << span[0];
}

TEST(TraceTest, WhatTheReaderAssumesIsSaid) {
  // Numeric times with no unit given are read as seconds, out loud; a user column with
  // more users than the scenario's would merge them.
  const std::string path = ::testing::TempDir() + "assumed.csv";
  std::ofstream(path) << "time,prompt_tokens,output_tokens,user\n0.5,10,5,a\n1.5,10,5,b\n2.5,10,5,c\n";
  const auto warnings = [&](const std::string& extra) {
    return parse_scenario(ConfigMap::parse_string("traffic: {users: 2, trace: {file: " + path + extra + "}}\n", "<test>"))
        .warnings;
  };
  const auto w = warnings(", columns: {user: user}");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("numbers read as seconds, as neither time_unit nor a schema says"), std::string::npos) << w[0];
  EXPECT_NE(w[1].find("its user column names 3 users but traffic.users is 2"), std::string::npos) << w[1];
  EXPECT_EQ(w[0].find("serial dates"), std::string::npos) << w[0];
  EXPECT_TRUE(warnings(", time_unit: s").empty());
  // Times that look like a spreadsheet's serial dates (days, 2023-11-16 18:14) are said to.
  std::ofstream(path) << "time,prompt_tokens,output_tokens\n45246.7600,10,5\n45246.7601,10,5\n";
  const auto serial = warnings("");
  ASSERT_EQ(serial.size(), 1u);
  EXPECT_NE(serial[0].find("the first, 45246.7600, is where spreadsheet serial dates lie (days since 1899-12-30: "
                           "2023-11-16 18:14 UTC)"), std::string::npos) << serial[0];
}

TEST(TraceTest, TheAzureSchemaNamesWhatTheFinderFinds) {
  const std::string shipped = std::string(CANARYSIM_SOURCE_DIR) + "/scenarios/traces/azure-llm-2023-conv.csv";
  const Trace found = Trace::load(shipped), named = Trace::load(shipped, Format("schema: azure"));
  EXPECT_EQ(named.arrival_s, found.arrival_s);
  EXPECT_EQ(named.prompt_tokens, found.prompt_tokens);
  EXPECT_EQ(named.output_tokens, found.output_tokens);
  EXPECT_EQ(named.arrival_s.size(), 19366u);
}

TEST(TraceTest, BurstGptCsvKeepsItsFailuresAndTotals) {
  const Trace t = Trace::load(TraceData("burstgpt.csv"), Format("schema: burstgpt"));
  EXPECT_EQ(t.arrival_s.size(), 300u);
  EXPECT_EQ(Sum(t.prompt_tokens), 597733u);
  EXPECT_EQ(t.failures(), 11u);  // rows with 0 response tokens
  EXPECT_EQ(Sum(t.output_tokens) - t.failures(), 138889u);  // a failure's 0 is kept as 1
  EXPECT_NEAR(t.duration_s(), 1370 - 7, 1e-9);
  // Without zero_output: failed, a 0 is an error naming its line.
  try {
    Trace::load(TraceData("burstgpt.csv"), Format("columns: {time: Timestamp, prompt_tokens: Request tokens, "
                                                  "output_tokens: Response tokens}"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(": Response tokens: expected at least 1 output token (or zero_output: failed"),
              std::string::npos)
        << e.what();
  }
}

TEST(TraceTest, Azure2024DatetimesWithZoneOffsetsAndGzip) {
  for (const char* file : {"azure-2024.csv", "azure-2024.csv.gz"}) {
    const Trace t = Trace::load(TraceData(file), Format("schema: azure-2024"));
    EXPECT_EQ(t.arrival_s.size(), 250u) << file;
    EXPECT_EQ(Sum(t.prompt_tokens), 1139336u) << file;
    EXPECT_EQ(Sum(t.output_tokens), 82919u) << file;
    EXPECT_NEAR(t.duration_s(), 62.984710 - 0.177683, 1e-6) << file;
  }
}

TEST(TraceTest, DatetimesReadEveryCommonSpelling) {
  const std::string path = ::testing::TempDir() + "datetimes.csv";
  std::ofstream(path) << "time,prompt_tokens,output_tokens\n"
                         "2024-05-10T00:00:00Z,1,1\n"
                         "2024-05-10 02:00:01.5+02:00,1,1\n"  // 00:00:01.5 UTC
                         "2024-05-09T19:00:03-0500,1,1\n";    // 00:00:03 UTC
  const Trace t = Trace::load(path);
  EXPECT_EQ(t.arrival_s, (std::vector<double>{0, 1.5, 3}));
}

TEST(TraceTest, SpreadsheetExportsReadAsTheyAre) {
  // A byte order mark, quoted headers and CRLF (Excel, pandas with quoting), a semicolon
  // (European locales) or a tab (TSV) between fields.
  auto load = [](const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + name;
    std::ofstream(path, std::ios::binary) << text;
    return Trace::load(path);
  };
  const std::vector<double> times{0, 4.3145790, 4.7544100};
  const std::vector<uint32_t> prompts{374, 396, 879};
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"bom.csv", "\xEF\xBB\xBF\"TIMESTAMP\",\"ContextTokens\",\"GeneratedTokens\"\r\n"
                       "\"2023-11-16 18:15:46.6805900\",\"374\",\"44\"\r\n\"2023-11-16 18:15:50.9951690\",\"396\",\"109\"\r\n"
                       "\"2023-11-16 18:15:51.4350000\",\"879\",\"28\"\r\n"},
           {"semicolon.csv", "TIMESTAMP;ContextTokens;GeneratedTokens\n2023-11-16 18:15:46.6805900;374;44\n"
                             "2023-11-16 18:15:50.9951690;396;109\n2023-11-16 18:15:51.4350000;879;28\n"},
           {"tabs.tsv", "TIMESTAMP\tContextTokens\tGeneratedTokens\n2023-11-16 18:15:46.6805900\t374\t44\n"
                        "2023-11-16 18:15:50.9951690\t396\t109\n2023-11-16 18:15:51.4350000\t879\t28\n"}}) {
    SCOPED_TRACE(name);
    const Trace t = load(name, text);
    ASSERT_EQ(t.arrival_s.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(t.arrival_s[i], times[i], 1e-6);
    EXPECT_EQ(t.prompt_tokens, prompts);
    EXPECT_EQ(t.output_tokens, (std::vector<uint32_t>{44, 109, 28}));
  }
  // A header the finder does not know is listed in the message.
  try {
    load("unknown.csv", "ts,in,out\n0,1,1\n");
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(":1: no time column; expected one of: TIMESTAMP, timestamp, Timestamp, time, "
                                         "arrival_time (or name it in columns); the header has: ts, in, out"),
              std::string::npos) << e.what();
  }
}

TEST(TraceTest, AQuotedFieldMayHoldLineBreaksAndSeparators) {
  // Exported request logs carry the prompt's text, quoted as RFC 4180 and Python's csv
  // module write it: separators, line breaks and doubled quotes inside. A '"' that does
  // not start a field is a character. Row errors name the line the row starts on.
  auto load = [](const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + name;
    std::ofstream(path, std::ios::binary) << text;
    return Trace::load(path);
  };
  const auto message = TraceMessage;
  const std::string head = "time,prompt,prompt_tokens,output_tokens,note\n";
  const Trace t = load("text.csv", head +
                                       "0.5,\"hello, world\",10,20,a\n"
                                       "1.0,\"line one\nline two, with 3,4\n\",11,21,b\r\n"
                                       "1.5,\"say \"\"hi\"\", ok\",12,22,c\n"
                                       "2.0,a 5\" screen,13,23,d\n");
  EXPECT_EQ(t.prompt_tokens, (std::vector<uint32_t>{10, 11, 12, 13}));
  EXPECT_EQ(t.output_tokens, (std::vector<uint32_t>{20, 21, 22, 23}));
  EXPECT_EQ(message("late.csv", head + "0,\"a\nb\nc\",10,20,a\n1,x,0,5,b\n"),
            ":5: prompt_tokens: expected a prompt of at least 1 token, got '0'");
  EXPECT_EQ(message("open.csv", head + "0,x,10,20,a\n1,\"never closed,10,20,b\n2,x,10,20,c\n"),
            ":3: a quoted field that never closes (a field that starts with '\"' ends with one)");
  // A quoted separator is one field, so a short row is still short.
  EXPECT_EQ(message("short.csv", head + "0,\"a,b,c\",10,20\n"), ":2: expected 5 fields, got 4");
}

TEST(TraceTest, AWholeTableInOneJsonObjectIsNamedWithTheWayToWriteRows) {
  // pandas' to_json() writes a DataFrame as one object by default; the reader takes a
  // row an object, and says how to write that rather than listing TIMESTAMP.0, .1, ...
  const auto message = TraceMessage;
  const std::string rows = "write it with to_json(path, orient='records', lines=True), or as CSV";
  EXPECT_EQ(message("columns.json", R"({"timestamp":{"0":0,"1":1},"input_length":{"0":10,"1":12},"output_length":{"0":5,"1":6}})"),
            ":1: one JSON object holding the whole table by column, each keyed by row (pandas' orient='columns', its "
            "default); the reader takes an object a row: " + rows);
  EXPECT_EQ(message("index.json", R"({"0":{"timestamp":0,"input_length":10,"output_length":5},"1":{"timestamp":1,"input_length":12,"output_length":6}})"),
            ":1: one JSON object holding the whole table keyed by row label (pandas' orient='index'); the reader takes an "
            "object a row: " + rows);
  EXPECT_EQ(message("split.json", R"({"columns":["timestamp","input_length","output_length"],"index":[0,1],"data":[[0,10,5],[1,12,6]]})"),
            ":1: one JSON object holding the whole table as columns and data arrays (pandas' orient='split' or 'table'); "
            "the reader takes an object a row: " + rows);
  EXPECT_EQ(message("lists.json", R"({"timestamp":[0,1],"input_length":[10,12],"output_length":[5,6]})"),
            ":1: one JSON object holding the whole table by column, each column an array of its values (a dict of "
            "lists, as DataFrame.to_dict('list') gives); the reader takes an object a row: " + rows);
  EXPECT_EQ(message("values.json", "[[0,10,5],[1,12,6]]"),
            ":1: an array of arrays, whose values have no column names (pandas' to_json(orient='values')); write a JSON "
            "object a row (orient='records', lines=True) or CSV");
  EXPECT_EQ(message("records.json", R"([{"timestamp":0,"input_length":10,"output_length":5},{"timestamp":1,"input_length":12,"output_length":6}])"),
            "accepted");
  // A row that misses its time column is still told so, not taken for a table.
  EXPECT_NE(message("row.jsonl", R"({"t":0,"input_length":10,"output_length":5})" "\n").find("no time column"), std::string::npos);
}

TEST(TraceTest, AFileThatIsNotTextIsNamedForWhatItIs) {
  // Read as CSV, each would fail on a header of garbage; the message says what it is and
  // what to do. Gzip is undone first, so a gzipped Parquet file is named too.
  auto refusal = [](const std::string& name, const std::string& bytes, bool gzipped = false) -> std::string {
    const std::string path = ::testing::TempDir() + name;
    if (gzipped) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary) << bytes;
    }
    try {
      Trace::load(path);
    } catch (const InputError& e) {
      return e.what();
    }
    return "accepted";
  };
  const std::string parquet = std::string("PAR1\x15\x04\x15", 7) + std::string(40, '\0');
  EXPECT_EQ(refusal("trace.parquet", parquet), ::testing::TempDir() + "trace.parquet: a Parquet file, which is not "
            "read: a trace is CSV or JSON lines (UTF-8); write it as CSV first (pandas: pd.read_parquet(f) or "
            "pd.read_excel(f), then .to_csv(index=False))");
  EXPECT_NE(refusal("trace.parquet.gz", parquet, true).find("a Parquet file, which is not read"), std::string::npos);
  EXPECT_NE(refusal("trace.xlsx", std::string("PK\x03\x04\x14\x00", 6)).find("a ZIP archive (or an Excel workbook)"),
            std::string::npos);
  EXPECT_NE(refusal("trace.csv.zst", "\x28\xB5\x2F\xFD\x04").find("zstd-compressed, which is not read"), std::string::npos);
  EXPECT_NE(refusal("trace.csv.bz2", "BZh91AY&SY").find("bzip2-compressed"), std::string::npos);
  EXPECT_NE(refusal("utf16.csv", std::string("\xFF\xFEt\0i\0m\0e\0", 10)).find("UTF-16 text"), std::string::npos);
  EXPECT_NE(refusal("nul.csv", std::string("time,prompt_tokens,output_tokens\n\0\0\0", 36)).find("binary data (it holds NUL bytes)"),
            std::string::npos);
  // Text is read, NUL-free and with a byte order mark.
  EXPECT_EQ(refusal("text.csv", "\xEF\xBB\xBFtime,prompt_tokens,output_tokens\n0,10,5\n1,10,5\n"), "accepted");
}

TEST(TraceTest, JsonAsApiLogsAndExportsWriteIt) {
  // The same three requests as JSON Lines, as one array on a line, as a pretty-printed
  // array, and with the token counts nested as API responses nest them.
  auto load = [](const std::string& name, const std::string& text, const std::string& yaml = "") {
    const std::string path = ::testing::TempDir() + name;
    std::ofstream(path, std::ios::binary) << text;
    return Trace::load(path, Format(yaml));
  };
  const std::string a = R"({"timestamp": 10.0, "prompt_tokens": 374, "output_tokens": 44, "tags": ["x", {"y": 1}]})";
  const std::string b = R"({"timestamp": 14.5, "prompt_tokens": 396, "output_tokens": 109})";
  const std::string c = R"({"timestamp": 15.25, "prompt_tokens": 879, "output_tokens": 28})";
  const auto nested = [](double t, int p, int o) {
    return "{\"created\": 0, \"timestamp\": " + std::to_string(t) + ", \"usage\": {\"prompt_tokens\": " +
           std::to_string(p) + ", \"completion_tokens\": " + std::to_string(o) + ", \"total_tokens\": " +
           std::to_string(p + o) + "}}";
  };
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"lines.jsonl", a + "\n" + b + "\n\n" + c + "\n"},
           {"array.json", "[" + a + "," + b + "," + c + "]"},
           {"pretty.json", "[\n  " + a + ",\n  {\n    \"timestamp\": 14.5,\n    \"prompt_tokens\": 396,\n"
                           "    \"output_tokens\": 109\n  },\n  " + c + "\n]\n"},
           {"usage.jsonl", nested(10, 374, 44) + "\n" + nested(14.5, 396, 109) + "\n" + nested(15.25, 879, 28) + "\n"}}) {
    SCOPED_TRACE(name);
    const Trace t = load(name, text);
    EXPECT_EQ(t.arrival_s, (std::vector<double>{0, 4.5, 5.25}));
    EXPECT_EQ(t.prompt_tokens, (std::vector<uint32_t>{374, 396, 879}));
    EXPECT_EQ(t.output_tokens, (std::vector<uint32_t>{44, 109, 28}));
  }
  // Found by their last part, out loud; named, not warned about.
  const auto said = [](const std::string& trace) {
    return parse_scenario(ConfigMap::parse_string("traffic: {trace: {file: " + ::testing::TempDir() + "usage.jsonl" +
                                                      ", time_unit: s" + trace + "}}\n", "<test>")).warnings;
  };
  const auto w = said("");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("usage.jsonl): columns found as nested members, by their last part: prompt_tokens = "
                      "usage.prompt_tokens, output_tokens = usage.completion_tokens; name them in columns to say so"),
            std::string::npos) << w[0];
  EXPECT_TRUE(said(", columns: {prompt_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens}").empty());
  // A nested path can be named; two nested candidates are not guessed between.
  EXPECT_EQ(load("named.jsonl", R"({"t": 1, "req": {"len": 7}, "resp": {"len": 3}})" "\n",
                 "columns: {time: t, prompt_tokens: req.len, output_tokens: resp.len}").prompt_tokens,
            (std::vector<uint32_t>{7}));
  const auto message = [&](const std::string& name, const std::string& text) {
    try {
      load(name, text);
    } catch (const InputError& e) {
      return std::string(e.what()).substr(::testing::TempDir().size());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("two.jsonl", R"({"timestamp": 1, "a": {"prompt_tokens": 5}, "b": {"prompt_tokens": 6}, "output_tokens": 3})" "\n"),
            "two.jsonl:1: several members could be the prompt_tokens column: a.prompt_tokens, b.prompt_tokens; name one in columns");
  EXPECT_EQ(message("open.json", "[" + a + ",\n" + b + "\n"), "open.json:2: a JSON array that never ends (no ']')");
  EXPECT_EQ(message("after.json", "[" + a + "] and more\n"),
            "after.json:1: expected a JSON object (JSON Lines, or an array of objects), got 'a'");
  EXPECT_EQ(message("cut.jsonl", a + "\n{\"timestamp\": 3,\n"), "cut.jsonl:2: a JSON object that never ends");
  EXPECT_EQ(message("twice.jsonl", a + " " + b + "\n"),  // JSON Lines: one object a line
            "twice.jsonl:1: a JSON object that does not parse (a member's name or value is malformed, or it nests over 16 deep)");
  EXPECT_EQ(message("deep.jsonl", std::string(40, '[') + "\n"),
            "deep.jsonl:1: an array of arrays, whose values have no column names (pandas' to_json(orient='values')); "
            "write a JSON object a row (orient='records', lines=True) or CSV");
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "{\"a\": ";
  deep += "1" + std::string(10000, '}') + "\n";
  EXPECT_EQ(message("nest.jsonl", deep),
            "nest.jsonl:1: a JSON object that does not parse (a member's name or value is malformed, or it nests over 16 deep)");
  // An array's values are not read, but the messages name it: a ShareGPT-style dataset
  // (prompts without arrival times) is said to hold what it holds, not "nothing".
  EXPECT_EQ(message("sharegpt.json", R"([{"conversations": [{"from": "human", "value": "hi"}]}])"),
            "sharegpt.json:1: no time column; expected one of: TIMESTAMP, timestamp, Timestamp, time, arrival_time "
            "(or name it in columns); the object has: conversations (an array)");
  const std::string tags = R"({"t": 1, "p": 5, "o": 3, "who": ["a", "b"]})" "\n";
  EXPECT_EQ(load("tags.jsonl", tags, "columns: {time: t, prompt_tokens: p, output_tokens: o}").prompt_tokens,
            (std::vector<uint32_t>{5}));
  const auto named_array = [&](const std::string& name, const std::string& text, const std::string& yaml) {
    try {
      load(name, text, yaml);
    } catch (const InputError& e) {
      return std::string(e.what()).substr(::testing::TempDir().size());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(named_array("who.jsonl", tags, "columns: {time: t, prompt_tokens: p, output_tokens: o, user: who}"),
            "who.jsonl:1: 'who' is an array in this object (the user column); expected one value");
  EXPECT_EQ(named_array("later.jsonl", R"({"t": 0, "p": 5, "o": 3, "who": "a"})" "\n" + tags,
                        "columns: {time: t, prompt_tokens: p, output_tokens: o, user: who}"),
            "later.jsonl:2: 'who' is an array in this object (the user column); expected one value");
  EXPECT_EQ(named_array("whom.jsonl", tags, "columns: {time: t, prompt_tokens: p, output_tokens: o, user: whom}"),
            "whom.jsonl:1: no column 'whom' (the user column); the object has: t, p, o, who (an array)");
}

TEST(TraceTest, AUnixTimeReadsInTheUnitItsSizeSays) {
  // 2024-05-01 00:00:00 UTC, and 1.5 s later, in each unit: the size of the first time
  // says the unit, and the scenario says what it inferred.
  for (const auto& [unit, first, second] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"s", "1714521600", "1714521601.5"},
           {"ms", "1714521600000", "1714521601500"},
           {"us", "1714521600000000", "1714521601500000"},
           {"ns", "1714521600000000000", "1714521601500000000"}}) {
    SCOPED_TRACE(unit);
    const std::string path = ::testing::TempDir() + "epoch-" + unit + ".csv";
    std::ofstream(path) << "timestamp,input_tokens,output_tokens\n" << first << ",10,5\n" << second << ",10,5\n";
    const Trace t = Trace::load(path);
    EXPECT_EQ(t.time_unit, unit);
    EXPECT_NEAR(t.duration_s(), 1.5, 1e-6);
    const auto w = parse_scenario(ConfigMap::parse_string("traffic: {trace: {file: " + path + "}}\n", "<test>")).warnings;
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("the first time, " + first + ", reads as a Unix time in " + unit +
                        " (2024-05-01 00:00 UTC); set time_unit: " + unit + " to say so"),
              std::string::npos) << w[0];
    // Said, it is not warned about; ns can be said too.
    EXPECT_TRUE(parse_scenario(ConfigMap::parse_string("traffic: {trace: {file: " + path + ", time_unit: " + unit + "}}\n",
                                                       "<test>")).warnings.empty());
  }
}

TEST(TraceTest, NoMalformedValuePassesSilently) {
  auto message = [](const std::string& rows, const std::string& yaml = "") {
    const std::string path = ::testing::TempDir() + "strict.csv";
    std::ofstream(path) << "time,prompt_tokens,output_tokens,user\n" << rows;
    try {
      Trace::load(path, Format(yaml));
    } catch (const InputError& e) {
      return std::string(e.what()).substr(path.size());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("0,,5,a\n"), ":2: prompt_tokens: expected a whole number of tokens, got ''");
  EXPECT_EQ(message("0,-3,5,a\n"), ":2: prompt_tokens: expected a whole number of tokens, got '-3'");
  EXPECT_EQ(message("0,2.5,5,a\n"), ":2: prompt_tokens: expected a whole number of tokens, got '2.5'");
  EXPECT_EQ(message("0,4294967296,5,a\n"),
            ":2: prompt_tokens: expected a whole number of tokens up to 10000000, got '4294967296'");
  EXPECT_EQ(message("0,18446744073709551616,5,a\n"),
            ":2: prompt_tokens: expected a whole number of tokens up to 10000000, got '18446744073709551616'");
  EXPECT_EQ(message("0,0,5,a\n"), ":2: prompt_tokens: expected a prompt of at least 1 token, got '0'");
  EXPECT_EQ(message("0,5,0,a\n"),
            ":2: output_tokens: expected at least 1 output token (or zero_output: failed, when 0 marks a failed "
            "request), got '0'");
  EXPECT_EQ(message("0,5,5,a\n", "zero_output: failed"), "accepted");
  EXPECT_EQ(message("5,5,5,a\n3,5,5,a\n"),
            ":3: time: expected rows in time order (out_of_order allows 0s; this row is 2s before the one above), got '3'");
  EXPECT_EQ(message("5,5,5,a\n3,5,5,a\n", "out_of_order: 2s"), "accepted");
  EXPECT_EQ(message("soon,5,5,a\n", "time_unit: ms"), ":2: time: expected a time of at least 0 in ms (time_unit: ms), got 'soon'");
  // A semicolon-separated export with decimal commas is told so.
  EXPECT_EQ(TraceMessage("decimal.csv", "time;prompt_tokens;output_tokens\n0,5;5;5\n"),
            ":2: time: expected a time of at least 0 in s (time_unit: s), got '0,5' (a decimal comma: write numbers "
            "with a point, 0.5)");
  EXPECT_EQ(message("0,5,5,\n", "columns: {user: user}"), ":2: user: expected a user id, got ''");
  EXPECT_EQ(message("0,5,5,a\n", "columns: {segment: user}"),
            ":2: user: expected one of the scenario's segments: , got 'a'");
  EXPECT_EQ(message("0,5,5,a\n", "columns: {time: when}"),
            ":1: no column 'when' (the time column); the file has: time, prompt_tokens, output_tokens, user");
}

// A column named twice cannot be told apart: the header's (or the first object's), and a
// member repeated in one JSON object further down.
TEST(TraceTest, AColumnNamedTwiceIsRefused) {
  const auto message = TraceMessage;
  EXPECT_EQ(message("twice.csv", "TIMESTAMP,ContextTokens,GeneratedTokens,ContextTokens\n0,10,5,999\n"),
            ":1: the prompt_tokens column 'ContextTokens' is named twice in the header; the reader cannot tell which to read");
  EXPECT_EQ(message("twice.jsonl", "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 5}\n"
                                   "{\"timestamp\": 1, \"input_length\": 10, \"output_length\": 5, \"input_length\": 9}\n"),
            ":2: 'input_length' twice in this object (the prompt_tokens column); the reader cannot tell which to read");
  // A column no role reads may repeat.
  EXPECT_EQ(message("other.csv", "time,prompt_tokens,output_tokens,note,note\n0,10,5,a,b\n"), "accepted");
}

TEST(TraceTest, UserSegmentAndFailedColumnsReplaceTheSyntheticOnes) {
  const std::string path = ::testing::TempDir() + "users.csv";
  std::ofstream(path) << "time,prompt_tokens,output_tokens,user,region,status\n"
                         "0,10,5,alice,eu,1\n1,10,5,bob,us,0\n2,10,5,alice,eu,true\n";
  const TrafficSpec spec = Parse("trace: {file: " + path + ", loop: false, columns: {user: user, segment: region, failed: status}}\n"
                                 "users: 1000\nsegments: [{name: eu, share: 50%}, {name: us, share: 50%}]\n");
  TrafficSource source(spec);
  source.reset(1, 0);
  std::vector<Request> r(3);
  for (Request& q : r) ASSERT_TRUE(source.next(0, q));
  EXPECT_EQ(r[0].user, r[2].user);  // the same user, wherever the synthetic draw would put it
  EXPECT_NE(r[0].user, r[1].user);
  EXPECT_EQ(r[0].segment, 0u);
  EXPECT_EQ(r[1].segment, 1u);
  EXPECT_EQ(std::vector<bool>({r[0].failed, r[1].failed, r[2].failed}), (std::vector<bool>{true, false, true}));
}

TEST(TrafficTest, PoissonRateIsTheConfiguredRate) {
  const auto r = Generate(Parse("rate: 100/s\n"), 3600);
  // Poisson count over an hour: mean 360,000, sd 600.
  EXPECT_NEAR(static_cast<double>(r.size()), 360000, 5 * 600);
}

TEST(TrafficTest, DiurnalRateFollowsItsCurve) {
  // rate(t) = 20 (1 + 0.5 cos(2 pi (t - 6h) / 24h)): 30/s at the peak, 10/s at the trough.
  const auto r = Generate(Parse("rate: 20/s\ndiurnal: {amplitude: 0.5, period: 24h, peak: 6h}\n"), 86400);
  std::vector<double> per_hour(24, 0);
  for (const Request& q : r) per_hour[static_cast<size_t>(q.arrival / 3600)] += 1;
  for (int h = 0; h < 24; ++h) {
    // The expected count is the integral of the rate over the hour.
    const double w = 2 * M_PI / 86400, a = h * 3600.0 - 6 * 3600, b = a + 3600;
    const double expected = 20 * (3600 + 0.5 * (std::sin(w * b) - std::sin(w * a)) / w);
    EXPECT_NEAR(per_hour[h], expected, 5 * std::sqrt(expected)) << "hour " << h;
  }
}

TEST(TrafficTest, ScheduleSetsThePiecewiseRate) {
  const auto r = Generate(Parse("schedule: [{at: 0s, rate: 10/s}, {at: 30m, rate: 50/s}]\n"), 3600);
  size_t first = 0;
  for (const Request& q : r) first += q.arrival < 1800;
  EXPECT_NEAR(static_cast<double>(first), 18000, 5 * std::sqrt(18000.0));
  EXPECT_NEAR(static_cast<double>(r.size() - first), 90000, 5 * std::sqrt(90000.0));
}

TEST(TrafficTest, BurstsRaiseTheMeanAndTheVariance) {
  // Bursts of mean 1 min every 4 min at 5x: the mean rate is 100 (1 + 4 x 1/5) = 180/s.
  // Over 6 h (about 72 burst cycles), the burst time share has a standard error near 3 %
  // of itself, so the mean rate is known to about 2 %: 10/s is five of those.
  const auto r = Generate(Parse("rate: 100/s\nbursts: {factor: 5, every: 4m, lasting: 1m}\n"), 21600);
  const double mean_rate = static_cast<double>(r.size()) / 21600;
  EXPECT_NEAR(mean_rate, 180, 10);
  // Counts per 10 s window are overdispersed: a Poisson process would give variance = mean.
  std::vector<double> counts(2160, 0);
  for (const Request& q : r) counts[static_cast<size_t>(q.arrival / 10)] += 1;
  double m = 0, v = 0;
  for (double c : counts) m += c / counts.size();
  for (double c : counts) v += (c - m) * (c - m) / (counts.size() - 1);
  EXPECT_GT(v / m, 10);
}

TEST(TrafficTest, ZipfUsersAreSkewedAsTheExponentSays) {
  const auto r = Generate(Parse("rate: 100/s\nusers: 1000\nuser_skew: 1.0\n"), 3600);
  std::map<uint64_t, double> count;
  for (const Request& q : r) count[q.user] += 1;
  // P(rank k) = 1 / (k H_1000), H_1000 = 7.4855; the top user gets 13.4 %.
  const double n = static_cast<double>(r.size());
  EXPECT_NEAR(count[0] / n, 1 / 7.4855, 0.005);
  EXPECT_NEAR(count[0] / count[1], 2.0, 0.1);
  EXPECT_NEAR(count[0] / count[9], 10.0, 1.0);
}

TEST(TrafficTest, SegmentsHaveTheirShares) {
  const auto r = Generate(Parse("rate: 100/s\nusers: 100000\nsegments: [{name: a, share: 20%}, {name: b, share: 80%}]\n"), 600);
  double a = 0;
  for (const Request& q : r) a += q.segment == 0;
  EXPECT_NEAR(a / r.size(), 0.2, 0.01);
}

TEST(TrafficTest, SegmentSharesMustAddUpToOne) {
  EXPECT_THROW(Parse("segments: [{name: a, share: 20%}, {name: b, share: 70%}]\n"), InputError);
}

}  // namespace
}  // namespace canarysim

namespace canarysim {
namespace {

std::string TrafficError(const std::string& yaml) {
  try {
    TrafficSpec::parse(ConfigMap::parse_string(yaml, "<t>"));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(TrafficTest, ADiurnalCycleReadsFromItsPeakAndTrough) {
  const TrafficSpec t = TrafficSpec::parse(
      ConfigMap::parse_string("diurnal: {peak: 1500/s, trough: 600/s, peak_at: 14h}\n", "<t>"));
  EXPECT_DOUBLE_EQ(t.rate_per_s, 1050);
  EXPECT_NEAR(t.rate_at(14 * 3600), 1500, 1e-9);
  EXPECT_NEAR(t.rate_at(2 * 3600), 600, 1e-9);
  // The same cycle as amplitude and rate.
  const TrafficSpec a = TrafficSpec::parse(
      ConfigMap::parse_string("rate: 1050/s\ndiurnal: {amplitude: 0.428571428571, peak_at: 14h}\n", "<t>"));
  EXPECT_NEAR(a.rate_at(5 * 3600), t.rate_at(5 * 3600), 1e-6);
  EXPECT_NE(TrafficError("rate: 100/s\ndiurnal: {peak: 1500/s, trough: 600/s}\n").find("<t>:1:7: rate: expected no rate with diurnal peak and trough"),
            std::string::npos);
  EXPECT_NE(TrafficError("diurnal: {peak: 600/s, trough: 1500/s}\n").find("diurnal.trough: expected a rate at most the peak's (600/s)"),
            std::string::npos);
  EXPECT_NE(TrafficError("diurnal: {amplitude: 0.3, peak: 1500/s, trough: 600/s}\n").find("diurnal.amplitude"),
            std::string::npos);
  EXPECT_NE(TrafficError("diurnal: {amplitude: 0.3, peak: 2h, peak_at: 3h}\n").find("either peak or peak_at"),
            std::string::npos);
}

TEST(TrafficTest, EveryFractionTakesPercent) {
  const TrafficSpec t = TrafficSpec::parse(ConfigMap::parse_string("diurnal: {amplitude: 43%}\n", "<t>"));
  EXPECT_DOUBLE_EQ(t.diurnal_amplitude, 0.43);
  const Scenario s = parse_scenario(ConfigMap::parse_string("baseline: {quality: {mean: 80%, sd: 5%}}\n", "<s>"));
  EXPECT_DOUBLE_EQ(s.baseline.quality_mean, 0.8);
  EXPECT_DOUBLE_EQ(s.baseline.quality_sd, 0.05);
  EXPECT_NE(TrafficError("diurnal: {amplitude: 143%}\n").find("expected a number in [0, 1], like 0.25 or 25%"),
            std::string::npos);
}

TEST(TrafficTest, ASkewThatMakesOneUserALargeShareIsWarnedWithTheShare) {
  auto warnings = [](const std::string& skew) {
    return parse_scenario(ConfigMap::parse_string("traffic: {users: 50000, user_skew: " + skew + "}\n", "<s>")).warnings;
  };
  const auto w = warnings("1.1");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("traffic.user_skew 1.1 over 50,000 users gives the most active user 13.9 % of all requests"),
            std::string::npos)
      << w[0];
  EXPECT_TRUE(warnings("0.8").empty());  // 2.6 %
  // The share against a direct count: Zipf(1.1) over 50,000 users, 200,000 draws.
  TrafficSpec spec;
  spec.users = 50000;
  spec.user_skew = 1.1;
  spec.rate_per_s = 1000;
  const auto r = Generate(spec, 200);
  double top = 0;
  for (const Request& q : r) top += q.user == 0;
  EXPECT_NEAR(top / static_cast<double>(r.size()), spec.top_user_share(), 0.005);  // sd 0.0008
}

}  // namespace
}  // namespace canarysim
