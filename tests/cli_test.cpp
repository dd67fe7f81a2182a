// The command line as users and CI pipelines meet it: exit codes, help, formats.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "sim/io/schema.h"
#include "sim/study/study.h"
#include "tests/cli_runner.h"

namespace {

using Result = CliResult;

TEST(CliTest, HelpListsTheCommandsAndExitsZero) {
  const Result r = Cli("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.output, "run")) << r.output;
  EXPECT_TRUE(Contains(r.output, "validate")) << r.output;
  EXPECT_TRUE(Contains(r.output, "Exit codes")) << r.output;
}

TEST(CliTest, EveryCommandHasHelp) {
  for (const char* command : {"run", "validate", "timeline", "compare", "import", "calibrate", "check", "fit",
                              "fit prometheus", "export-policy", "sweep", "merge", "export", "tune", "power"}) {
    const Result r = Cli(std::string(command) + " --help");
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_TRUE(Contains(r.output, "Usage")) << r.output;
  }
}

TEST(CliTest, FitWritesTheShippedExampleScenarioAndRefusesBadExports) {
  const std::string out = ::testing::TempDir() + "fitted.yaml";
  const Result r = Cli("fit prometheus scenarios/fitted-example/request_rate.json scenarios/fitted-example/ttft_buckets.json "
                       "scenarios/fitted-example/inter_token_buckets.json scenarios/fitted-example/e2e_latency_buckets.json "
                       "scenarios/fitted-example/error_ratio.json --name fitted-example --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // The shipped scenario is this output under its hand-written header.
  std::ifstream written(out), shipped(std::string(CANARYSIM_SOURCE_DIR) + "/scenarios/fitted-example.yaml");
  const std::string a((std::istreambuf_iterator<char>(written)), {}), b((std::istreambuf_iterator<char>(shipped)), {});
  ASSERT_FALSE(a.empty());
  EXPECT_NE(b.find(a), std::string::npos);  // the shipped file adds a header and its policy
  const Result bad = Cli("fit prometheus scenarios/fitted-example/make_export.py");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Contains(bad.output, "make_export.py")) << bad.output;
}

TEST(CliTest, VersionPrintsTheVersion) {
  const Result r = Cli("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.output, "canarysim " CANARYSIM_VERSION)) << r.output;
}

TEST(CliTest, BadInputExitsTwoWithTheLocatedMessage) {
  const Result r = Cli("run tests/data/bad/rate-not-a-rate.yaml --runs 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.output, "tests/data/bad/rate-not-a-rate.yaml:2:9: traffic.rate"))
      << r.output;
}

TEST(CliTest, UnknownOptionsAndBadValuesExitTwo) {
  EXPECT_EQ(Cli("run scenarios/default.yaml --bogus").exit_code, 2);
  EXPECT_EQ(Cli("run scenarios/default.yaml --runs 0").exit_code, 2);
  EXPECT_EQ(Cli("run scenarios/default.yaml --format xml").exit_code, 2);
  EXPECT_EQ(Cli("run").exit_code, 2);
  EXPECT_EQ(Cli("").exit_code, 2);
}

// Whole numbers beyond 64 bits, or negative, are refused, not wrapped or clamped: CLI11
// and sscanf had read a seed of -1 as 2^64 - 1 and 10^23 as the same, so two different
// seeds were silently one study.
TEST(CliTest, SeedsRunsAndShardsOutsideSixtyFourBitsAreRefusedNotWrapped) {
  for (const char* command : {"run scenarios/aa-null.yaml --runs 2 --seed -1", "run scenarios/aa-null.yaml --runs 2 --seed 99999999999999999999999",
                              "compare scenarios/aa-null.yaml policies/presets/stepped.yaml --runs 2 --seed -3",
                              "timeline scenarios/aa-null.yaml --run -1", "timeline scenarios/aa-null.yaml --seed 1e3"}) {
    const Result r = Cli(command);
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.output;
    EXPECT_TRUE(Contains(r.output, "expected a whole number from 0 to 18446744073709551615")) << command << "\n" << r.output;
  }
  const Result top = Cli("run scenarios/aa-null.yaml --runs 2 --quiet --seed 18446744073709551615");
  EXPECT_EQ(top.exit_code, 0) << top.output;
  const Result shard = Cli("sweep tests/data/sweeps/bench.yaml --shard 1/99999999999999999999 --db /nonexistent/x.db");
  EXPECT_EQ(shard.exit_code, 2) << shard.output;
  EXPECT_TRUE(Contains(shard.output, "--shard: expected K/N with 1 <= K <= N")) << shard.output;
}

TEST(CliTest, FidelityScaledSaysWhatItSimulatesAndRefusesWhatItCannotHold) {
  const Result r = Cli("run scenarios/production.yaml --runs 2 --fidelity scaled:40 --fidelity-check 0 -q");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "fidelity: scaled, 1 user in 10: pools baseline 40 of 397 canary 40 of 397 replicas"))
      << r.output;
  // Where the sample would leave a check's window thin, the study runs exact and says why.
  const Result thin = Cli("run scenarios/batched.yaml --runs 2 --fidelity scaled:8 -q");
  EXPECT_EQ(thin.exit_code, 0) << thin.output;
  EXPECT_TRUE(Contains(thin.output, "fidelity: scaled asked, simulated exact")) << thin.output;
  EXPECT_TRUE(Contains(thin.output, "would leave checks[0] (error-rate) about 15 requests a window")) << thin.output;
  EXPECT_EQ(Cli("run scenarios/batched.yaml --runs 2 --fidelity fast").exit_code, 2);
  const Result seq = Cli("run scenarios/batched.yaml --runs 2 --fidelity scaled --policy policies/presets/sequential.yaml");
  EXPECT_EQ(seq.exit_code, 2);
  EXPECT_TRUE(Contains(seq.output, "the sequential policy weighs evidence by request counts")) << seq.output;
  const Result sampled = Cli("run scenarios/default.yaml --runs 2 --fidelity scaled");
  EXPECT_EQ(sampled.exit_code, 2);
  EXPECT_TRUE(Contains(sampled.output, "scenarios/default.yaml: fidelity: scaled: no batched pool")) << sampled.output;
}

// What validate warns about, run, timeline and compare say before they start: here a rate
// too low for the checks' windows, which leaves every run unfinished (compare names the
// policy a line is about).
TEST(CliTest, RunSaysWhatItDoubtsAsValidateDoes) {
  const std::string file = ::testing::TempDir() + "low-rate.yaml";
  std::ofstream(file) << "extends: " CANARYSIM_SOURCE_DIR "/scenarios/error-spike.yaml\ntraffic: {rate: 0.05/s}\n";
  const std::string line = "low-rate.yaml: checks[0] (error-rate): at the first canary share (1 %) and the scenario's "
                           "rate (0.05/s), its 60s window holds about 0.03 canary requests; it needs at least 100";
  for (const std::string& command : {"validate " + file, "run " + file + " --runs 3 -q", "timeline " + file}) {
    const Result r = Cli(command);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(Contains(r.output, "warning: ")) << command;
    EXPECT_TRUE(Contains(r.output, line)) << command << "\n" << r.output;
  }
  const Result c = Cli("compare " + file + " policies/presets/stepped.yaml policies/presets/flagger.yaml --runs 2 -q");
  EXPECT_EQ(c.exit_code, 0) << c.output;
  EXPECT_TRUE(Contains(c.output, "low-rate.yaml: policies/presets/stepped.yaml: checks[0] (error-rate)")) << c.output;
  EXPECT_TRUE(Contains(c.output, "low-rate.yaml: policies/presets/flagger.yaml: metrics[1] (ttft_p99)")) << c.output;
  EXPECT_FALSE(Contains(Cli("run scenarios/error-spike.yaml --runs 2 -q").output, "warning"));
  // A sweep says it once for the points it is true of.
  const std::string sweep = ::testing::TempDir() + "low-rate-sweep.yaml";
  std::ofstream(sweep) << "name: rates\nscenario: " CANARYSIM_SOURCE_DIR "/scenarios/error-spike.yaml\nruns: 2\n"
                          "grid:\n  scenario.traffic.rate: [0.05/s, 1/s, 200/s]\n  policy.bake_time: [1m, 5m]\n";
  std::remove((::testing::TempDir() + "low-rate-sweep.db").c_str());
  const Result sw = Cli("sweep " + sweep + " --db " + ::testing::TempDir() + "low-rate-sweep.db -q");
  EXPECT_EQ(sw.exit_code, 0) << sw.output;
  EXPECT_TRUE(Contains(sw.output, "low-rate-sweep.yaml: 4 of 6 points (the first: traffic.rate=0.05/s, bake_time=1m): "
                                  "checks[0] (error-rate): at the first canary share (1 %) and the scenario's rate "
                                  "(0.05/s)")) << sw.output;
  // A power study, up front and in its report.
  const std::string power = ::testing::TempDir() + "low-rate-power.yaml";
  std::ofstream(power) << "name: p\nscenario: " << file << "\nfield: regressions[0].error_rate\nsizes: [0.5%, 2%]\n"
                          "runs: 10\nrefine: 0\n";
  const Result pw = Cli("power " + power + " --out " + ::testing::TempDir() + "low-rate-power -q");
  EXPECT_EQ(pw.exit_code, 0) << pw.output;
  EXPECT_TRUE(Contains(pw.output, "warning: 2 of 2 sizes (the first: regressions[0].error_rate=0.5%): checks[0] "
                                  "(error-rate): at the first canary share (1 %)")) << pw.output;
  EXPECT_TRUE(Contains(Cli("validate " + power).output, "low-rate-power.yaml: 2 of 2 sizes"));
  // A check suite says it under the case, in its report and its markdown.
  const std::string suite = ::testing::TempDir() + "low-rate-suite.yaml";
  std::ofstream(suite) << "name: low\nruns: 10\ncases:\n  - name: thin\n    scenario: " << file
                       << "\n    budgets: {false_rollback_rate: 50%}\n";
  for (const char* format : {"table", "markdown"}) {
    const Result k = Cli("check " + suite + " --format " + format + " -q");
    EXPECT_EQ(k.exit_code, 0) << k.output;
    EXPECT_TRUE(Contains(k.output, "checks[0] (error-rate): at the first canary share (1 %)")) << format << k.output;
  }
}

// The convergence check after a scaled study (sim/study/convergence.h): a warning where the
// figures move with the sample, once (in the table, or on stderr when the output goes
// elsewhere), "fidelity_check" in JSON, at the head of the HTML report, and none with
// --fidelity-check 0.
TEST(CliTest, AScaledStudyChecksItsFiguresAndWarnsWhenTheyMove) {
  const std::string dir = ::testing::TempDir(), file = "tests/data/fidelity/near-threshold.yaml";
  const Result table = Cli("run " + file + " --runs 100 --seed 3 --fidelity scaled:3 -q --report " + dir + "near.html");
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_TRUE(Contains(Shell("cat " + dir + "near.html").output, "<p class='bad'>Warning, fidelity check: the figures moved"));
  const size_t at = table.output.find("warning: fidelity check: the figures moved when 4x the users were simulated");
  ASSERT_NE(at, std::string::npos) << table.output;
  EXPECT_EQ(table.output.find("warning: fidelity check:", at + 1), std::string::npos) << table.output;  // once
  EXPECT_TRUE(Contains(table.output, "not converged: simulate more of the fleet (--fidelity scaled:12")) << table.output;

  const Result json = Cli("run " + file + " --runs 100 --seed 3 --fidelity scaled:3 --format json -q --out " + dir + "c.json");
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_TRUE(Contains(json.output, "warning: fidelity check: the figures moved")) << json.output;  // stderr
  const Result cat = Shell("cat " + dir + "c.json");
  EXPECT_TRUE(Contains(cat.output, "\"fidelity_check\": {\"sample\": 20, \"finer_sample\": 6, \"runs\": 100, "
                                   "\"finer_runs\": 20")) << cat.output;
  EXPECT_TRUE(Contains(cat.output, "\"moved\": true")) << cat.output;

  const Result off = Cli("run " + file + " --runs 20 --fidelity scaled:3 --fidelity-check 0 -q");
  EXPECT_EQ(off.exit_code, 0) << off.output;
  EXPECT_FALSE(Contains(off.output, "fidelity check")) << off.output;
  EXPECT_EQ(Cli("run " + file + " --runs 20 --fidelity scaled:3 --fidelity-check -1").exit_code, 2);
}

// Ctrl-C, as a user at a terminal sends it: the shell runs the command in the background,
// interrupts it after a while, and reports its exit status and output.
Result Interrupted(const std::string& args, const std::string& out, double after_s) {
  return Cli(args + " > " + out + " 2>&1 & p=$!; sleep " + std::to_string(after_s) +
             "; kill -INT $p; wait $p; echo exit=$?; cat " + out);
}

TEST(CliTest, CtrlCStopsARunCleanlyAndPrintsTheRunsFinished) {
  const std::string out = ::testing::TempDir() + "interrupted-run.txt";
  const Result r = Interrupted("run scenarios/production.yaml --fidelity scaled --runs 100000 --threads 2", out, 2);
  EXPECT_TRUE(Contains(r.output, "exit=130")) << r.output;
  EXPECT_TRUE(Contains(r.output, "work: 100,000 runs of up to")) << r.output;
  EXPECT_TRUE(Contains(r.output, "pilot: the first run took")) << r.output;
  EXPECT_TRUE(Contains(r.output, "interrupted: ")) << r.output;
  EXPECT_TRUE(Contains(r.output, "of 100000 runs finished; what follows is the study of runs 0 to")) << r.output;
  EXPECT_TRUE(Contains(r.output, "false rollback rate")) << r.output;  // the table of what was finished
}

TEST(CliTest, CtrlCDuringTheFidelityCheckKeepsTheStudyAndSaysItIsUnchecked) {
  // Interrupted once the check has begun (4 exact production runs, over a second each).
  const std::string out = ::testing::TempDir() + "interrupted-check.txt";
  // The file an earlier run left would answer the wait below before this run writes it
  // (the background command truncates it when it starts, not when it is launched).
  std::remove(out.c_str());
  const Result r = Cli("run scenarios/production.yaml --fidelity scaled --runs 4 --threads 2 > " + out +
                       " 2>&1 & p=$!; until grep -q 'runs again at 4x' " + out +
                       " || ! kill -0 $p 2>/dev/null; do sleep 0.1; done; sleep 0.5; kill -INT $p; wait $p; "
                       "echo exit=$?; cat " + out);
  EXPECT_TRUE(Contains(r.output, "exit=130")) << r.output;
  EXPECT_TRUE(Contains(r.output, "fidelity check: interrupted; the study's figures are unchecked")) << r.output;
  EXPECT_TRUE(Contains(r.output, "false rollback rate")) << r.output;  // the study, written
  EXPECT_FALSE(Contains(r.output, "agree with the study")) << r.output;
}

TEST(CliTest, CtrlCStopsASweepAndResumeRunsOnlyTheRest) {
  const std::string dir = ::testing::TempDir();
  const std::string sweep = dir + "interrupted-sweep.yaml", db = dir + "interrupted-sweep.db";
  std::remove(db.c_str());
  std::ofstream(sweep) << "name: interrupted\nscenario: " CANARYSIM_SOURCE_DIR "/scenarios/production.yaml\n"
                          "runs: 120\nseed: 3\ngrid:\n  scenario.fidelity.mode: [scaled]\n";
  const Result r = Interrupted("sweep " + sweep + " --db " + db + " --threads 2", dir + "sweep-out.txt", 1.5);
  EXPECT_TRUE(Contains(r.output, "exit=130")) << r.output;
  EXPECT_TRUE(Contains(r.output, "runs stored in " + db)) << r.output;
  const Result resumed = Cli("sweep " + sweep + " --db " + db + " --resume --threads 2 -q");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  // Some runs were kept and not run again; all 120 are there at the end.
  EXPECT_TRUE(Contains(resumed.output, "120 runs of shard 1/1: ")) << resumed.output;
  EXPECT_FALSE(Contains(resumed.output, ": 0 already stored")) << resumed.output;
}

TEST(CliTest, ValidateTellsAFileKindByItsKeysAndListsThatKindsKeys) {
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "gate.yaml") << "name: my-gate\nruns: 200\nseed: 3\nbaseline: base.yaml\n";
  const Result r = Cli("validate " + dir + "gate.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.output, "gate.yaml: reads like a check suite but has no `cases`; a check suite has the keys: "
                                 "name, runs, max_runs, seed, baseline, tolerance, cases"))
      << r.output;
  std::ofstream(dir + "sw.yaml") << "name: s\nscenario: x.yaml\nruns: 3\n";
  EXPECT_TRUE(Contains(Cli("validate " + dir + "sw.yaml").output, "reads like a sweep but has no `grid`, `points` or `random`"));
  // A scenario with a typo is still read as a scenario, with the nearest key.
  std::ofstream(dir + "typo.yaml") << "horizon: 1h\ntrafic: {rate: 1/s}\n";
  EXPECT_TRUE(Contains(Cli("validate " + dir + "typo.yaml").output, "trafic: unknown key (did you mean 'traffic'?)"));
}

TEST(CliTest, ARunsReportIsOneSelfContainedPageThatABrowserRenders) {
  const std::string dir = ::testing::TempDir();
  const std::string page = dir + "report.html", shot = dir + "report.png";
  std::remove(shot.c_str());
  const Result r = Cli("run scenarios/default.yaml --runs 100 --seed 1 --report " + page + " --format markdown -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Markdown for a CI job summary.
  EXPECT_TRUE(Contains(r.output, "| false rollback rate | 0.00 % | [0.00 %, 3.70 %] | 0 of 100 |")) << r.output;
  EXPECT_TRUE(Contains(r.output, "| detection time | 100 |")) << r.output;
  std::ifstream in(page);
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Self-contained: the figures inline, nothing fetched (the SVG namespace is a name, not a fetch).
  size_t svgs = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 2u);
  std::string without_ns = html;
  for (size_t at; (at = without_ns.find("http://www.w3.org/2000/svg")) != std::string::npos;) without_ns.erase(at, 26);
  EXPECT_FALSE(Contains(without_ns, "http")) << "a reference out of the page";
  EXPECT_FALSE(Contains(html, "<script"));
  EXPECT_TRUE(Contains(html, "<pre id='scenario'>name: default")) << html.substr(0, 400);
  EXPECT_TRUE(Contains(html, "<pre id='policy'>"));
  // In a real browser: the DOM it built has both figures and every panel's title, and a
  // screenshot renders.
  const std::string chrome = "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars ";
  const Result dom = Shell(chrome + "--dump-dom file://" + page + " 2>/dev/null");
  EXPECT_TRUE(Contains(dom.output, "<svg")) << dom.output.substr(0, 300);
  for (const char* title : {"Detection time", "Blast radius", "Canary weight", "Canary TTFT p50", "baseline (typical run)"})
    EXPECT_TRUE(Contains(dom.output, title)) << title;
  Shell(chrome + "--window-size=1200,1800 --screenshot=" + shot + " file://" + page + " > /dev/null");
  std::ifstream png(shot, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(png)), std::istreambuf_iterator<char>());
  EXPECT_GT(bytes.size(), 20000u);  // a page of tables and figures, not a blank one
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
}

TEST(CliTest, CompareWritesMarkdownForACiJobSummary) {
  const Result r = Cli("compare scenarios/default.yaml policies/presets/stepped.yaml policies/presets/argo.yaml "
                       "--runs 20 --format markdown -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "| policy | rollbacks | false rollbacks |")) << r.output;
  EXPECT_TRUE(Contains(r.output, "| policies/presets/stepped.yaml | 20 | 0 | 0 |")) << r.output;
  EXPECT_TRUE(Contains(r.output, "policies/presets/argo.yaml minus policies/presets/stepped.yaml, paired by run:"));
  EXPECT_TRUE(Contains(r.output, "| rollback_rate | ")) << r.output;
}

TEST(CliTest, MissingFilesExitTwo) {
  const Result r = Cli("run no-such.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.output, "no-such.yaml: no such file")) << r.output;
  EXPECT_EQ(Cli("run scenarios/default.yaml --policy no-such-policy.yaml").exit_code, 2);
}

TEST(CliTest, ValidateAcceptsEveryShippedScenarioAndPolicy) {
  for (const auto& dir : {"scenarios", "policies/presets"}) {
    for (const auto& f : std::filesystem::directory_iterator(
             std::string(CANARYSIM_SOURCE_DIR) + "/" + dir)) {
      if (f.path().extension() != ".yaml") continue;
      const Result r = Cli("validate " + f.path().string());
      EXPECT_EQ(r.exit_code, 0) << r.output;
      EXPECT_TRUE(Contains(r.output, ": valid ")) << r.output;
    }
  }
}

TEST(CliTest, ValidateReadsACheckSuiteAndEveryCaseWithoutRunningIt) {
  const Result r = Cli("validate tests/check/presets.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "tests/check/presets.yaml: valid check suite 'preset policies'")) << r.output;
  const Result bad = Cli("validate tests/data/bad-studies/check-unknown-budget.yaml");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_TRUE(Contains(bad.output, "unknown budget")) << bad.output;
}

TEST(CliTest, OldMetricSpellingsAreTakenWithADeprecationMessageUntil03) {
  const std::string dir = std::filesystem::temp_directory_path() / "canarysim_old_names";
  std::filesystem::create_directories(dir);
  {
    std::ofstream suite(dir + "/suite.yaml");
    suite << "name: old names\nruns: 10\ncases:\n  - name: spike\n    scenario: " << CANARYSIM_SOURCE_DIR
          << "/scenarios/error-spike.yaml\n    budgets:\n      detection_time_s_p90: 15m\n"
             "      false_rollback: 5%\n";
  }
  const Result r = Cli("check " + dir + "/suite.yaml -q");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "suite.yaml:7:29: cases[0].budgets.detection_time_s_p90: 'detection_time_s_p90' is "
                                 "the spelling of canarysim 0.1; write 'detection_time_p90'")) << r.output;
  EXPECT_TRUE(Contains(r.output, "write 'false_rollback_rate'")) << r.output;
  EXPECT_EQ(r.output.find("detection_time_s_p90' is"), r.output.rfind("detection_time_s_p90' is")) << "once";
  EXPECT_TRUE(Contains(r.output, "budget detection_time_p90")) << r.output;
  const Result p = Cli("run scenarios/aa-null.yaml --runs 100 --precision 0.5 --precision-metric false_rollback -q");
  EXPECT_EQ(p.exit_code, 0) << p.output;
  EXPECT_TRUE(Contains(p.output, "--precision-metric: 'false_rollback' is the spelling of canarysim 0.1")) << p.output;
  std::filesystem::remove_all(dir);
}

TEST(CliTest, TheReferenceIsTheReadersTablesAndIsCurrent) {
  const Result r = Cli("reference");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(std::string(CANARYSIM_SOURCE_DIR) + "/docs/reference.md");
  const std::string committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(committed == r.output) << "docs/reference.md is stale: run `make reference` and commit it";
  // Every section has a meaning, and every key a type and a meaning, once.
  for (const canarysim::Section* s : canarysim::schema_sections()) {
    EXPECT_FALSE(s->meaning.empty()) << s->path;
    std::set<std::string> keys;
    for (const canarysim::SchemaField& f : s->fields) {
      EXPECT_TRUE(keys.insert(std::string(f.key)).second) << s->path << "." << f.key << " twice";
      EXPECT_NE(f.type, 0u) << s->path << "." << f.key;
      EXPECT_FALSE(f.meaning.empty()) << s->path << "." << f.key;
    }
  }
  for (const char* section : {"### `traffic.diurnal`", "| `peak_at` | duration | 0s |", "## sweep", "## check suite",
                              "### `regressions[] (kind: errors)`", "| `added_error_rate` | fraction | 0 | [0, 1] |"})
    EXPECT_TRUE(Contains(r.output, section)) << section;
}

TEST(CliTest, TableSummarisesTheStudy) {
  const Result r = Cli("run scenarios/default.yaml --runs 20 --seed 3 -q");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* part : {"false rollback rate", "detection time", "blast radius (users)",
                           "rollout duration", "M events/s"})
    EXPECT_TRUE(Contains(r.output, part)) << part << "\n" << r.output;
}

TEST(CliTest, JsonHasSnakeCaseKeysAndRunRows) {
  const Result r = Cli("run scenarios/error-spike.yaml --runs 5 --format json -q");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // The summary's names are the one table's (study.h), flat, as the store and Python have them.
  for (const std::string& name : canarysim::summary_field_names())
    EXPECT_TRUE(Contains(r.output, "\"" + name + "\": ")) << name;
  for (const char* key : {"\"false_rollback_rate_low\"", "\"detection_time_p50\"", "\"time_to_mitigate_p90\"",
                          "\"blast_radius_users_mean\"", "\"rollout_duration_p99\"", "\"events_per_s\"",
                          "\"run_results\"", "\"outcome\": \"rolled_back\""})
    EXPECT_TRUE(Contains(r.output, key)) << key;
  for (const char* old : {"\"false_rollback_rate_ci95\"", "\"detection_time_s\": {"})
    EXPECT_FALSE(Contains(r.output, old)) << old;
}

TEST(CliTest, CsvHasOneRowPerRunAndWritesToOut) {
  const std::string out = std::filesystem::temp_directory_path() / "canarysim_cli_test.csv";
  const Result r = Cli("run scenarios/error-spike.yaml --runs 7 --format csv -q --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::ifstream in(out);
  std::string line;
  int lines = 0;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("run,outcome,regression_active,decision_time_s", 0), 0u) << line;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, 7);
  std::filesystem::remove(out);
}

TEST(CliTest, CompareReportsPairedDifferences) {
  const Result r = Cli("compare scenarios/error-spike.yaml policies/presets/stepped.yaml "
                       "policies/presets/sequential.yaml --runs 20 --format csv");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "policy,against,metric,pairs,mean_difference,mean_difference_low,mean_difference_high")) << r.output;
  EXPECT_TRUE(Contains(r.output, "\"policies/presets/sequential.yaml\",\"policies/presets/stepped.yaml\",detection_time,"))
      << r.output;
  // The table says "-" where a figure does not apply, never nan; JSON says null.
  const std::string out = std::filesystem::temp_directory_path() / "canarysim_compare.json";
  Result t = Cli("compare scenarios/aa-null.yaml policies/presets/stepped.yaml policies/presets/flagger.yaml --runs 4");
  EXPECT_EQ(t.exit_code, 0) << t.output;
  EXPECT_FALSE(Contains(t.output, "nan")) << t.output;
  EXPECT_TRUE(Contains(t.output, "missed")) << t.output;
  EXPECT_TRUE(Contains(t.output, "blast users")) << t.output;
  EXPECT_TRUE(Contains(t.output, "detection_time                      -  [-, -]  (0 pairs)")) << t.output;
  t = Cli("compare scenarios/aa-null.yaml policies/presets/stepped.yaml policies/presets/flagger.yaml --runs 4 "
          "--format json --out " + out);
  EXPECT_EQ(t.exit_code, 0) << t.output;
  std::ifstream in(out);
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(Contains(json, "\"missed_regressions\": 0")) << json;
  EXPECT_TRUE(Contains(json, "{\"metric\": \"detection_time\", \"pairs\": 0, \"mean_difference\": null")) << json;
  std::filesystem::remove(out);
}

TEST(CliTest, ImportWritesAPolicyAndWarnsOnStderr) {
  const std::string out = std::filesystem::temp_directory_path() / "canarysim_import_test.yaml";
  const Result r = Cli("import flagger policies/examples/flagger-canary.yaml --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "spec.analysis.webhooks[0]: webhook load-test")) << r.output;
  EXPECT_EQ(Cli("validate " + out).exit_code, 0);
  EXPECT_EQ(Cli("import aws NotAStrategy").exit_code, 2);
  EXPECT_EQ(Cli("import argo no-such-file.yaml").exit_code, 2);
  std::filesystem::remove(out);
}

TEST(CliTest, ImportStatesEveryRuleAndPrintsWarningsBeforeARefusal) {
  const std::string corpus = "tests/data/import-corpus/";
  Result r = Cli("import flagger " + corpus + "01-flagger-error-rate-complement/canary.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "rule: error_rate <= 1%  (tests/data/import-corpus/01-flagger-error-rate-complement/canary.yaml:21:9"))
      << r.output;
  EXPECT_TRUE(Contains(r.output, "# rule: error_rate <= 1%")) << r.output;  // in the policy too
  // A refusal: exit 2, the warnings gathered first, then the error naming the file.
  r = Cli("import argo --strict " + corpus + "19-argo-unmappable-provider/rollout.yaml");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  const size_t warning = r.output.find("warning: " + corpus + "19-argo-unmappable-provider/rollout.yaml:23:7");
  const size_t error = r.output.find("error: --strict: 4 warning(s) above");
  EXPECT_NE(warning, std::string::npos) << r.output;
  EXPECT_NE(error, std::string::npos) << r.output;
  EXPECT_LT(warning, error) << r.output;
  r = Cli("import argo " + corpus + "23-argo-given-a-canary/canary.yaml");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "it holds a Canary and a MetricTemplate: use `import flagger`")) << r.output;
  EXPECT_EQ(Cli("import argo --latency web " + corpus + "06-argo-ratio-canary-stable/rollout.yaml").exit_code, 2);
  EXPECT_TRUE(Contains(Cli("import --help").output, "--strict"));
}

TEST(CliTest, ExportPolicyWritesFilesThatImportBack) {
  const std::string dir = std::filesystem::temp_directory_path() / "canarysim_export_test";
  std::filesystem::remove_all(dir);
  Result r = Cli("export-policy argo policies/presets/argo.yaml --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "wrote " + dir + "/rollout.yaml")) << r.output;
  EXPECT_TRUE(Contains(r.output, "canarysim.io/rollback-drain")) << r.output;
  r = Cli("import argo " + dir + "/rollout.yaml " + dir + "/analysis-templates.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "rule: ttft_p90 ratio <= 1.15")) << r.output;
  EXPECT_TRUE(Contains(r.output, "rollback_drain: 30s")) << r.output;
  r = Cli("export-policy flagger policies/presets/stepped.yaml");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "kind: stepped: export-policy writes argo and flagger policies exactly")) << r.output;
  EXPECT_TRUE(Contains(Cli("export-policy --print-metrics").output, "vllm:time_to_first_token_seconds_bucket"));
  EXPECT_TRUE(Contains(Cli("export-policy --help").output, "--metrics"));
  EXPECT_EQ(Cli("export-policy").exit_code, 2);
  std::filesystem::remove_all(dir);
}

TEST(CliTest, ValidateWarnsWhenAJudgementRestsOnTooFewData) {
  const std::string dir = std::filesystem::temp_directory_path() / "canarysim_sample_warnings";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir + "/low.yaml") << "horizon: 2h\ntraffic: {rate: 5/s}\npolicy: " CANARYSIM_SOURCE_DIR
                                        "/policies/presets/stepped-p99.yaml\n";
  }
  Result r = Cli("validate " + dir + "/low.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "warning: " + dir + "/low.yaml: checks[1] (ttft-p99-ratio): at the first canary share "
                                 "(1 %) and the scenario's rate (5/s), its 3m window holds about 9 canary requests; it "
                                 "needs at least 300")) << r.output;
  // At the shipped scenarios' traffic the same preset is well fed: no warning.
  r = Cli("validate scenarios/tail-latency.yaml policies/presets/stepped-p99.yaml");
  EXPECT_FALSE(Contains(r.output, "warning")) << r.output;
  std::filesystem::remove_all(dir);
}

TEST(CliTest, TimelineShowsEveryDecision) {
  const Result r = Cli("timeline scenarios/default.yaml --run 0");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "rollback")) << r.output;
  EXPECT_TRUE(Contains(r.output, "run 0 of seed 1: rolled_back")) << r.output;
}

TEST(CliTest, CalibratePrintsTheFit) {
  const Result r = Cli("calibrate scenarios/profiles/splitwise-perf-model.csv --model llama2-70b "
                       "--hardware h100-80gb --tensor-parallel 8");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "29.136")) << r.output;  // b0 in ms, as the shipped profile
  EXPECT_EQ(Cli("calibrate scenarios/profiles/splitwise-perf-model.csv --model nope").exit_code, 2);
}

TEST(CliTest, CheckExitsThreeWhenABudgetIsBreached) {
  const Result r = Cli("check tests/check/tight-budget.yaml");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(Contains(r.output, "BREACH    budget detection_time_p90")) << r.output;
  EXPECT_TRUE(Contains(r.output, "work: check suite '")) << r.output;  // the work, said up front
  EXPECT_FALSE(Contains(Cli("check tests/check/tight-budget.yaml --quiet").output, "work:"));
}

TEST(CliTest, CheckFailsOnlyOnWorseFiguresPairedByRun) {
  // A suite on the error spike whose policy file the test swaps: the preset, then the same
  // ladder judged every 3 minutes (slower detection, bigger blast radius).
  const auto dir = std::filesystem::temp_directory_path() / "canarysim_check_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string root = CANARYSIM_SOURCE_DIR;
  std::ofstream(dir / "suite.yaml") << "name: t\nruns: 20\nmax_runs: 80\nbaseline: base.json\ncases:\n"
                                    << "  - {name: spike, scenario: " << root
                                    << "/scenarios/error-spike.yaml, policy: policy.yaml}\n";
  auto use = [&](const std::string& interval) {
    std::ofstream(dir / "policy.yaml") << "kind: stepped\ninterval: " << interval
                                       << "\nchecks: [{metric: error_rate, max: 1%}]\n";
  };
  const std::string check = "check " + (dir / "suite.yaml").string();
  use("1m");
  EXPECT_EQ(Cli(check + " --update-baseline").exit_code, 0);
  Result r = Cli(check);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "same      baseline detection_time           0 [0, 0] over 20 pairs")) << r.output;
  use("3m");  // worse: exit 3, named
  r = Cli(check);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(Contains(r.output, "WORSE     baseline detection_time")) << r.output;
  EXPECT_TRUE(Contains(r.output, "baseline: WORSE beyond tolerance")) << r.output;
  // The other way round, the same difference is an improvement: reported, never failing.
  EXPECT_EQ(Cli(check + " --update-baseline").exit_code, 0);
  use("1m");
  r = Cli(check);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "better    baseline detection_time")) << r.output;
  // --runs auto: a baseline of 80 runs, and a change too small to decide in 20 runs.
  use("1m");
  EXPECT_EQ(Cli(check + " --update-baseline --runs auto").exit_code, 0);
  std::ofstream(dir / "policy.yaml") << "kind: stepped\ninterval: 1m\nchecks: [{metric: error_rate, max: 1.1%}]\n";
  r = Cli(check + " --runs auto");
  EXPECT_TRUE(Contains(r.output, "runs added until each comparison is decided, at most 80")) << r.output;
  EXPECT_TRUE(Contains(r.output, "spike (")) << r.output;
  EXPECT_EQ(Cli(check + " --runs 5").exit_code, 2);
  EXPECT_EQ(Cli(check + " --runs many").exit_code, 2);
  std::filesystem::remove_all(dir);
}

TEST(CliTest, RunStopsOnceThePrecisionIsReached) {
  // The error spike is rolled back in every run: the Wilson interval of n of n runs is
  // [1 - 3.84/n, 1] roughly, narrower than 2 points from 200 runs on (100 is not enough).
  Result r = Cli("run scenarios/error-spike.yaml --precision 0.02 --precision-metric rollback_rate -q --format json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "precision: rollback_rate 1.0000 [0.9812, 1.0000] (width 0.0188 < 0.0200) after 200 runs"))
      << r.output;
  EXPECT_TRUE(Contains(r.output, "\"runs\": 200")) << r.output;
  // The cap: --runs.
  r = Cli("run scenarios/error-spike.yaml --precision 0.001 --precision-metric rollback_rate --runs 150 -q --format json");
  EXPECT_TRUE(Contains(r.output, "after 150 runs (the cap: --runs)")) << r.output;
  EXPECT_EQ(Cli("run scenarios/aa-null.yaml --precision 0.02 --precision-metric detection_time_p50 -q").exit_code, 2);
}

TEST(CliTest, SameSeedGivesTheSameOutputWhateverTheThreads) {
  const Result one = Cli("run scenarios/error-spike.yaml --runs 16 --format csv -q --threads 1");
  const Result four = Cli("run scenarios/error-spike.yaml --runs 16 --format csv -q --threads 4");
  EXPECT_EQ(one.exit_code, 0);
  EXPECT_EQ(one.output, four.output);
}

}  // namespace
