#include "sim/model/topology.h"

#include <gtest/gtest.h>

#include "sim/io/config.h"

namespace canarysim {
namespace {

Topology Parse(const std::string& yaml) {
  return Topology::parse(ConfigMap::parse_string(yaml, "<test>"), "topology");
}

TEST(TopologyTest, OrdersComponentsAndFindsWhatIsUpstreamOfTheModel) {
  const Topology t = Parse(R"(
topology:
  - {name: filter, after: [model]}
  - {name: model, after: [gateway]}
  - {name: gateway}
)");
  ASSERT_EQ(t.components.size(), 3u);
  EXPECT_EQ(t.components[0].name, "gateway");
  EXPECT_EQ(t.components[t.model].name, "model");
  EXPECT_EQ(t.components[2].name, "filter");
  EXPECT_TRUE(t.components[0].upstream);
  EXPECT_FALSE(t.components[2].upstream);
}

TEST(TopologyTest, RejectsACycleNamingIt) {
  try {
    Parse(R"(
topology:
  - {name: gateway, after: [filter]}
  - {name: model, after: [gateway]}
  - {name: filter, after: [model]}
)");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the components form a cycle: "), std::string::npos) << e.what();
    // Whichever node the search starts from, the cycle is these three, each once.
    for (const char* n : {"gateway", "model", "filter"})
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

TEST(TopologyTest, RejectsAnUnknownDependencyAndAMissingModel) {
  EXPECT_THROW(Parse("topology: [{name: model, after: [nowhere]}]\n"), InputError);
  EXPECT_THROW(Parse("topology: [{name: gateway}]\n"), InputError);
}

TEST(TopologyTest, PathsAddUpstreamToTheFirstTokenAndDownstreamToTheEnd) {
  const Topology t = Parse(R"(
topology:
  - {name: gateway, latency: 5ms}
  - {name: model, after: [gateway]}
  - {name: filter, after: [model], latency: 20ms}
  - {name: audit, after: [gateway], latency: 1s}
)");
  double latency[Topology::kMaxComponents];
  for (size_t k = 0; k < t.components.size(); ++k) latency[k] = t.components[k].latency.quantile(0.5);
  const PathTimes p = t.paths(latency);
  EXPECT_DOUBLE_EQ(p.pre, 0.005);
  EXPECT_DOUBLE_EQ(p.post, 0.020);
  EXPECT_DOUBLE_EQ(p.bypass, 1.005);  // gateway then audit, not through the model
}

}  // namespace
}  // namespace canarysim
