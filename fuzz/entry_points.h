// The input entry points of canarysim, as the fuzzers and the regression corpus see them.
//
// Each entry point reads one file the way the CLI does (`canarysim validate`, `import`,
// `calibrate`, a trace named by a scenario) and, for scenarios and policies, simulates one
// run when the run's estimated work is small. Its contract, which both the libFuzzer
// harnesses (fuzz/harness.cpp) and the replay test (tests/fuzz_regression_test.cpp)
// check: it returns, or throws InputError; any other exception, a crash, a sanitizer
// report, a hang or a large allocation is a finding.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace canarysim::fuzzing {

struct EntryPoint {
  const char* name;       // harness name: fuzz/corpus/<name>, fuzz/regressions/<name>
  const char* extension;  // of the scratch file the input is written to
  void (*read)(const std::string& path);
};

const std::vector<EntryPoint>& entry_points();
// nullptr when no entry point has that name.
const EntryPoint* find_entry_point(std::string_view name);

// Writes `data` to a scratch file for entry point `e` and returns its path. The file sits
// two folders below a scratch root, and the root and both folders hold links to the
// repository's top-level folders (`source_dir`), so that relative paths in the shipped
// files ("../policies/x.yaml", "../../scenarios/y.yaml") resolve as they do in place.
std::string scratch_file(const EntryPoint& e, const std::string& source_dir, std::string_view data);

}  // namespace canarysim::fuzzing
