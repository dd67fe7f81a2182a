#include "sim/model/router.h"

#include <gtest/gtest.h>

#include <cmath>

namespace canarysim {
namespace {

constexpr uint64_t kUsers = 100000;

TEST(RouterTest, AUserOnTheCanaryStaysThereAsTheWeightRises) {
  const double weights[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1.0};
  Router low, high;
  for (double w1 : weights) {
    for (double w2 : weights) {
      if (w2 < w1) continue;
      low.reset(/*salt=*/42, w1);
      high.reset(/*salt=*/42, w2);
      for (uint64_t user = 0; user < kUsers; ++user) {
        ASSERT_TRUE(!low.to_canary(user, /*request=*/user, 0, 0) || high.to_canary(user, /*request=*/user, 0, 0))
            << "user " << user << " left the canary going from " << w1 << " to " << w2;
      }
    }
  }
}

TEST(RouterTest, AUserKeepsItsVersionAtAFixedWeight) {
  Router router;
  router.reset(7, 0.3);
  for (uint64_t user = 0; user < 1000; ++user)
    ASSERT_EQ(router.to_canary(user, /*request=*/user, 0, 0), router.to_canary(user, /*request=*/user, 0, 1000));
}

TEST(RouterTest, TheCanaryShareOfUsersIsTheWeight) {
  Router router;
  for (double w : {0.01, 0.1, 0.5}) {
    router.reset(11, w);
    uint64_t on_canary = 0;
    for (uint64_t user = 0; user < kUsers; ++user) on_canary += router.to_canary(user, /*request=*/user, 0, 0);
    // Binomial(n, w): 5 standard deviations.
    EXPECT_NEAR(static_cast<double>(on_canary) / kUsers, w, 5 * std::sqrt(w * (1 - w) / kUsers));
  }
}

TEST(RouterTest, DrainingLowersTheWeightLinearlyToZero) {
  Router router;
  router.reset(1, 0.4);
  router.drain(/*now=*/100, /*drain_s=*/40);
  EXPECT_DOUBLE_EQ(router.weight_at(100), 0.4);
  EXPECT_DOUBLE_EQ(router.weight_at(120), 0.2);
  EXPECT_DOUBLE_EQ(router.weight_at(140), 0.0);
  EXPECT_DOUBLE_EQ(router.weight_at(1000), 0.0);
}

TEST(RouterTest, AnInstantRollbackSendsNothingToTheCanary) {
  Router router;
  router.reset(1, 1.0);
  router.drain(5, 0);
  for (uint64_t user = 0; user < 1000; ++user) ASSERT_FALSE(router.to_canary(user, /*request=*/user, 0, 5));
}

TEST(RouterTest, DifferentSaltsPlaceUsersDifferently) {
  Router a, b;
  a.reset(1, 0.5);
  b.reset(2, 0.5);
  uint64_t same = 0;
  for (uint64_t user = 0; user < kUsers; ++user) same += a.to_canary(user, /*request=*/user, 0, 0) == b.to_canary(user, /*request=*/user, 0, 0);
  EXPECT_NEAR(static_cast<double>(same) / kUsers, 0.5, 5 * 0.5 / std::sqrt(kUsers));
}

TEST(RouterTest, NotStickyEachRequestGoesByTheWeight) {
  // routing: {sticky: false}: the share of requests is the weight, and one user's
  // requests go to both versions.
  Router router;
  RoutingSpec spec;
  spec.sticky = false;
  router.configure({Segment{}}, spec);
  router.reset(3, 0.2);
  constexpr uint64_t kRequests = 100000;
  uint64_t on_canary = 0;
  for (uint64_t request = 0; request < kRequests; ++request) on_canary += router.to_canary(/*user=*/5, request, 0, 0);
  // Binomial(n, 0.2): 5 standard deviations.
  EXPECT_NEAR(static_cast<double>(on_canary) / kRequests, 0.2, 5 * std::sqrt(0.2 * 0.8 / kRequests));
  // Users with 20 requests each: a share 1 - 0.8^20 (98.8 %) meet the canary at least once,
  // where sticky routing would expose 20 %.
  constexpr uint64_t kMany = 10000;
  uint64_t exposed = 0;
  for (uint64_t user = 0; user < kMany; ++user) {
    bool met = false;
    for (uint64_t k = 0; k < 20; ++k) met |= router.to_canary(user, user * 20 + k, 0, 0);
    exposed += met;
  }
  const double p = 1 - std::pow(0.8, 20);
  EXPECT_NEAR(static_cast<double>(exposed) / kMany, p, 5 * std::sqrt(p * (1 - p) / kMany));
  EXPECT_FALSE(router.sticky());
}

}  // namespace
}  // namespace canarysim
