// The regression corpus: every input that ever broke a fuzz harness, kept minimised in
// fuzz/regressions/<entry point>/, replayed through the normal build. Each must end in
// the documented input error or succeed, within a time limit (docs/input-contract.md).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz/entry_points.h"
#include "sim/io/config.h"

namespace canarysim::fuzzing {
namespace {

namespace fs = std::filesystem;

// Generous for a Release build; the fuzzers' own limit is 10 s under instrumentation.
constexpr double kSecondsPerInput = 10;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(FuzzRegressionTest, EveryKeptInputEndsInAnInputErrorOrSucceedsInTime) {
  const fs::path root = fs::path(CANARYSIM_SOURCE_DIR) / "fuzz" / "regressions";
  size_t replayed = 0;
  for (const EntryPoint& e : entry_points()) {
    if (!fs::exists(root / e.name)) continue;
    for (const auto& f : fs::directory_iterator(root / e.name)) {
      if (!f.is_regular_file() || f.path().filename().string().front() == '.') continue;
      SCOPED_TRACE(f.path().string());
      const std::string path = scratch_file(e, CANARYSIM_SOURCE_DIR, slurp(f.path()));
      const auto start = std::chrono::steady_clock::now();
      std::string outcome = "accepted";
      try {
        e.read(path);
      } catch (const InputError& x) {
        outcome = x.what();
      } catch (const std::exception& x) {
        ADD_FAILURE() << "escaped as " << typeid(x).name() << ": " << x.what();
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      EXPECT_LT(s, kSecondsPerInput);
      if (std::getenv("CANARYSIM_SHOW_OUTCOMES")) std::printf("%s: %s\n", f.path().filename().c_str(), outcome.c_str());
      ++replayed;
    }
  }
  // The classes docs/input-contract.md lists each have kept inputs.
  EXPECT_GE(replayed, 20u);
}

}  // namespace
}  // namespace canarysim::fuzzing
