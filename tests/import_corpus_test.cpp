// The import corpus (tests/data/import-corpus/): configurations written here in the shapes
// real Argo Rollouts, Flagger and Kayenta users write, each with what import must make of
// it: the exact rules it states (in order), warnings it must give, or the refusal. No
// configuration may be misread silently: a rule not listed, or a listed one missing, fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "policies/interop/import.h"
#include "policies/policy.h"
#include "sim/io/config.h"

namespace canarysim {
namespace {

namespace fs = std::filesystem;

// FILE(name) in an expectation stands for that input's path.
std::string Expand(std::string s, const std::string& dir) {
  for (size_t at = s.find("FILE("); at != std::string::npos; at = s.find("FILE(")) {
    const size_t end = s.find(')', at);
    s.replace(at, end - at + 1, dir + "/" + s.substr(at + 5, end - at - 5));
  }
  return s;
}

struct Counts {
  int imported = 0, refused = 0, rules = 0, warnings = 0;
};

void CheckCase(const fs::path& dir, Counts* counts) {
  SCOPED_TRACE(dir.filename().string());
  const ConfigMap e = ConfigMap::parse_file((dir / "expected.yaml").string());
  std::vector<std::string> inputs;
  for (const std::string& f : e.texts("inputs")) inputs.push_back((dir / f).string());
  ImportOptions o;
  if (e.has("options")) {
    const ConfigMap opt = e.map("options");
    o.latency = opt.text("latency", o.latency);
    o.name = opt.text("name", "");
    o.strict = opt.flag("strict", false);
    o.match_weight = opt.number("match_weight", o.match_weight, 0, 100);
    o.interval = opt.text("interval", o.interval);
    o.lifetime = opt.text("lifetime", o.lifetime);
  }
  std::vector<std::string> warnings;
  auto expect_warnings = [&] {
    for (const std::string& w : e.texts("warnings")) {
      const std::string want = Expand(w, dir.string());
      EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(), [&](const std::string& x) { return x.find(want) != std::string::npos; }))
          << "no warning contains: " << want;
    }
  };
  if (e.has("refused")) {
    try {
      import_policy(e.text("tool"), inputs, o);
      ADD_FAILURE() << "imported; expected a refusal";
    } catch (const ImportRefused& r) {
      warnings = r.warnings;
      EXPECT_NE(std::string(r.what()).find(Expand(e.text("refused"), dir.string())), std::string::npos) << r.what();
    } catch (const InputError& r) {
      EXPECT_NE(std::string(r.what()).find(Expand(e.text("refused"), dir.string())), std::string::npos) << r.what();
      // Every refusal names a real file of the user's, with a line.
      EXPECT_NE(std::string(r.what()).find(dir.string() + "/"), std::string::npos) << r.what();
    }
    expect_warnings();
    ++counts->refused;
    return;
  }
  const Imported i = import_policy(e.text("tool"), inputs, o);
  warnings = i.warnings;
  // The policy loads, and states the expected rules exactly.
  parse_policy(ConfigMap::parse_string(i.yaml, "<imported>"));
  std::vector<std::string> rules;
  for (const std::string& r : i.rules) {
    EXPECT_EQ(r.rfind("rule: ", 0), 0u) << r;
    rules.push_back(r.substr(6, r.find("  (") - 6));
    // Each rule names where it came from: a file of the user's and a line.
    EXPECT_NE(r.find("  ("), std::string::npos) << r;
    EXPECT_NE(i.yaml.find("# " + r), std::string::npos) << "rule missing from the policy's comments: " << r;
  }
  EXPECT_EQ(rules, e.texts("rules"));
  for (const std::string& part : e.texts("policy_contains")) EXPECT_NE(i.yaml.find(part), std::string::npos) << i.yaml;
  expect_warnings();
  // Every located warning names a file given.
  for (const std::string& w : i.warnings)
    if (w.find(".yaml:") != std::string::npos || w.find(".json:") != std::string::npos)
      EXPECT_NE(w.find(dir.string() + "/"), std::string::npos) << w;
  ++counts->imported;
  counts->rules += static_cast<int>(i.rules.size());
  counts->warnings += static_cast<int>(i.warnings.size());
}

TEST(ImportCorpusTest, EveryConfigurationImportsAsExpectedOrIsRefusedWithItsReason) {
  std::vector<fs::path> cases;
  for (const auto& d : fs::directory_iterator(std::string(CANARYSIM_SOURCE_DIR) + "/tests/data/import-corpus"))
    if (d.is_directory()) cases.push_back(d.path());
  std::sort(cases.begin(), cases.end());
  ASSERT_GE(cases.size(), 30u);
  Counts counts;
  for (const fs::path& c : cases) {
    try {
      CheckCase(c, &counts);
    } catch (const std::exception& e) {
      ADD_FAILURE() << c.filename() << ": " << e.what();
    }
  }
  std::printf("import corpus: %zu configurations, %d imported (%d rules stated, %d warnings), %d refused with a reason\n",
              cases.size(), counts.imported, counts.rules, counts.warnings, counts.refused);
}

}  // namespace
}  // namespace canarysim
