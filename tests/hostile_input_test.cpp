// Hostile values and files at the command line: each ends in a clear refusal (exit 2,
// naming the input and what to do) or finishes quickly; never a crash, an abort or a
// runaway (docs/input-contract.md). The file-level cases live in fuzz/regressions/.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/cli_runner.h"

namespace {

namespace fs = std::filesystem;

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("canarysim-hostile-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // Writes `text` to a file in this test's folder and returns its path.
  std::string Write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::string Policy() const { return std::string(CANARYSIM_SOURCE_DIR) + "/policies/presets/stepped.yaml"; }
  fs::path dir_;
};

TEST_F(HostileInputTest, ThreadsBeyondTheMachineAreClampedWithANote) {
  const CliResult compare = Cli("compare scenarios/aa-null.yaml policies/presets/stepped.yaml "
                                "policies/presets/flagger.yaml --runs 4 --threads 100000");
  EXPECT_EQ(compare.exit_code, 0) << compare.output;
  EXPECT_TRUE(Contains(compare.output, "note: --threads 100000 clamped to")) << compare.output;

  const CliResult sweep = Cli("sweep tests/data/sweeps/small.yaml --quiet --threads 100000 --db " +
                              (dir_ / "s.db").string());
  EXPECT_EQ(sweep.exit_code, 0) << sweep.output;
  EXPECT_TRUE(Contains(sweep.output, "clamped to")) << sweep.output;

  const std::string suite =
      Write("suite.yaml", "runs: 10\ncases:\n  - name: aa\n    scenario: " + std::string(CANARYSIM_SOURCE_DIR) +
                              "/scenarios/aa-null.yaml\n    policy: " + Policy() + "\n");
  const CliResult check = Cli("check " + suite + " --threads 100000");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_TRUE(Contains(check.output, "clamped to")) << check.output;

  // run states its own range.
  const CliResult run = Cli("run scenarios/aa-null.yaml --runs 4 --threads 100000");
  EXPECT_EQ(run.exit_code, 2) << run.output;
}

TEST_F(HostileInputTest, RunsBeyondMemoryAreRefusedBeforeAnythingRuns) {
  const CliResult r = Cli("run scenarios/aa-null.yaml --runs 100000000");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "of memory")) << r.output;
  EXPECT_TRUE(Contains(r.output, "fewer --runs")) << r.output;
}

TEST_F(HostileInputTest, HostilePolicyAndTelemetryValuesAreRefusedByRunAndTimeline) {
  const std::string huge = Write("huge.yaml",
                                 "kind: stepped\nsteps: [10, 100]\nbake_time: 1m\ninterval: 1e305h\n"
                                 "checks: [{metric: error_rate, max: 1%}]\n");
  for (const char* command : {"run", "timeline"}) {
    const CliResult r = Cli(std::string(command) + " scenarios/aa-null.yaml --policy " + huge);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(Contains(r.output, "huge.yaml:4:11: interval: expected a duration of 0 or from 1us to 365d"))
        << r.output;
  }
  const std::string tiny = Write("tiny.yaml",
                                 "kind: stepped\nsteps: [10, 100]\nbake_time: 1m\ninterval: 1us\n"
                                 "checks: [{metric: error_rate, max: 1%}]\n");
  for (const char* command : {"run", "timeline"}) {
    const CliResult r = Cli(std::string(command) + " scenarios/aa-null.yaml --policy " + tiny);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_TRUE(Contains(r.output, "policy interval 1us")) << r.output;
    EXPECT_TRUE(Contains(r.output, "--max-events-per-run")) << r.output;
  }
  const std::string window = Write("window.yaml", "telemetry: {window: 1ms}\npolicy: " + Policy() + "\n");
  const CliResult w = Cli("run " + window + " --runs 10");
  EXPECT_EQ(w.exit_code, 2) << w.output;
  EXPECT_TRUE(Contains(w.output, "telemetry windows of 1ms")) << w.output;
}

// Conditions and queries nested (parentheses) or chained (1 + 1 + ...) past anything
// written by hand: the parsers bound their depth, so no text can exhaust the stack (the
// 100,000 parentheses below crashed validate before), and the message quotes the value's
// start and size, not all 400 KB of it.
TEST_F(HostileInputTest, ConditionsAndQueriesTooDeepAreRefusedNotACrash) {
  auto argo = [&](const std::string& name, const std::string& condition) {
    return Write(name, "kind: argo\nsteps: [{setWeight: 10}, {analysis: {templates: [{templateName: t}]}}]\n"
                       "templates: {t: {metrics: [{name: m, successCondition: \"" + condition +
                       "\", provider: {query: error_rate}}]}}\n");
  };
  const std::string deep = argo("deep.yaml", "result < " + std::string(100000, '(') + "1" + std::string(100000, ')'));
  std::string chain = "result < 1";
  for (int i = 0; i < 5000; ++i) chain += "+1";
  const std::string long_chain = argo("chain.yaml", chain);
  for (const auto& [file, why] : {std::pair{deep, "nested too deeply"}, std::pair{long_chain, "more than 1000 operations in a row"}}) {
    const CliResult r = Cli("validate " + file);
    EXPECT_EQ(r.exit_code, 2) << r.output.substr(0, 400);
    EXPECT_TRUE(Contains(r.output, why)) << r.output.substr(0, 400);
    EXPECT_LT(r.output.size(), 1000u);
  }
  std::string query = "sum(rate(a_total{code=~\"5..\"}[1m]))";
  for (int i = 0; i < 1000; ++i) query += " + sum(rate(a_total{code=~\"5..\"}[1m]))";
  const std::string rollout = Write("rollout.yaml",
      "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  strategy:\n    canary:\n"
      "      steps: [{setWeight: 10}, {analysis: {templates: [{templateName: t}]}}]\n---\n"
      "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\nspec:\n  metrics:\n"
      "  - name: m\n    successCondition: result[0] < 0.5\n    provider:\n      prometheus:\n        query: '" +
      query + "'\n");
  const CliResult r = Cli("import argo " + rollout);
  EXPECT_EQ(r.exit_code, 0) << r.output.substr(0, 400);
  EXPECT_TRUE(Contains(r.output, "a query of more than 200 operations in a row; metric dropped")) << r.output.substr(0, 400);
}

TEST_F(HostileInputTest, TheWorkBudgetNamesWhatDrivesTheCostAndCanBeRaised) {
  const CliResult low = Cli("run scenarios/aa-null.yaml --runs 2 --max-events-per-run 1000");
  EXPECT_EQ(low.exit_code, 2) << low.output;
  EXPECT_TRUE(Contains(low.output, "traffic.rate")) << low.output;
  EXPECT_TRUE(Contains(low.output, "above the budget of 1e+03")) << low.output;
  EXPECT_FALSE(Contains(low.output, "--fidelity scaled")) << low.output;  // aa-null has no batched pool
  const CliResult high = Cli("run scenarios/aa-null.yaml --runs 2 --quiet --max-events-per-run 1e9");
  EXPECT_EQ(high.exit_code, 0) << high.output;
  // A batched fleet over the budget is told of scaled fidelity too, and that run fits.
  const CliResult fleet = Cli("run scenarios/batched.yaml --runs 1 --max-events-per-run 1e5");
  EXPECT_EQ(fleet.exit_code, 2) << fleet.output;
  EXPECT_TRUE(Contains(fleet.output, "or simulate a scaled-down fleet (--fidelity scaled")) << fleet.output;
}

TEST_F(HostileInputTest, AFileAboveTheSizeLimitIsRefusedBeforeParsing) {
  const fs::path big = dir_ / "big.yaml";
  {
    std::ofstream out(big);
    const std::string line = "# " + std::string(1022, 'x') + "\n";
    for (int i = 0; i < 17 * 1024; ++i) out << line;  // 17 MiB of comments
  }
  const auto start = std::chrono::steady_clock::now();
  const CliResult r = Cli("validate " + big.string());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "expected a YAML file of at most 16 MiB")) << r.output;
  EXPECT_LT(s, 5);
}

TEST_F(HostileInputTest, ADamagedStoreIsAnInputErrorThatSaysWhatToDo) {
  const std::string db = (dir_ / "s.db").string();
  ASSERT_EQ(Cli("sweep tests/data/sweeps/small.yaml --quiet --db " + db).exit_code, 0);
  const auto size = fs::file_size(db);
  // Zeroed, then truncated: export and --resume both name the file and the way out.
  {
    std::ofstream(db, std::ios::binary | std::ios::trunc) << std::string(size, '\0');
  }
  for (const std::string& command : {"export " + db, "sweep tests/data/sweeps/small.yaml --quiet --resume --db " + db}) {
    const CliResult r = Cli(command);
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.output;
    EXPECT_TRUE(Contains(r.output, db)) << r.output;
    EXPECT_FALSE(Contains(r.output, "internal error")) << r.output;
  }
  ASSERT_EQ(Cli("sweep tests/data/sweeps/small.yaml --quiet --db " + (dir_ / "t.db").string()).exit_code, 0);
  fs::resize_file(dir_ / "t.db", fs::file_size(dir_ / "t.db") / 2);
  const CliResult r = Cli("export " + (dir_ / "t.db").string() + " --table runs");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "results store")) << r.output;
  EXPECT_FALSE(Contains(r.output, "internal error")) << r.output;
  EXPECT_TRUE(Contains(r.output, "new --db")) << r.output;
}

}  // namespace
