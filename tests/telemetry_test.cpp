#include "sim/model/telemetry.h"

#include <gtest/gtest.h>

namespace canarysim {
namespace {

class TelemetryTest : public ::testing::Test {
 protected:
  TelemetryTest() : telemetry_(TelemetryOptions{10, 30}, /*max_lookback_s=*/60, 600) {}
  // A successful canary request arriving at t and finishing `latency` seconds later.
  void Finish(double t, double latency) {
    Completion c;
    c.ttft = latency / 2;
    c.itl = 0.01;
    c.latency = latency;
    telemetry_.record(Version::kCanary, t, t + latency, c);
  }
  uint64_t CanaryRequestsSeenAt(double now, double lookback = 60) {
    return telemetry_.read(Version::kCanary, now, lookback).requests;
  }
  Telemetry telemetry_;
};

TEST_F(TelemetryTest, DataArrivesOnlyAfterTheScrapeDelay) {
  Finish(5, 1);  // finishes at 6 s, in window [0, 10)
  EXPECT_EQ(CanaryRequestsSeenAt(39.9), 0u);  // window ends at 10, visible from 10 + 30
  EXPECT_EQ(CanaryRequestsSeenAt(40), 1u);
}

TEST_F(TelemetryTest, RequestsCountWhereTheyFinishNotWhereTheyArrive) {
  Finish(5, 20);  // arrives in window 0, finishes at 25 s in window 2
  EXPECT_EQ(CanaryRequestsSeenAt(59.9), 0u);
  EXPECT_EQ(CanaryRequestsSeenAt(60), 1u);
}

TEST_F(TelemetryTest, LookbackLimitsTheRangeRead) {
  Finish(1, 0.5);   // window 0
  Finish(51, 0.5);  // window 5
  const WindowStats recent = telemetry_.read(Version::kCanary, 90, 10);
  EXPECT_EQ(recent.requests, 1u);
  EXPECT_EQ(recent.from, 50);
  EXPECT_EQ(recent.to, 60);
  EXPECT_EQ(CanaryRequestsSeenAt(90, 60), 2u);
}

TEST_F(TelemetryTest, VersionsAreKeptApart) {
  Completion failed;
  failed.error = true;
  telemetry_.record(Version::kBaseline, 1, 2, failed);
  EXPECT_EQ(CanaryRequestsSeenAt(40), 0u);
  const WindowStats b = telemetry_.read(Version::kBaseline, 40, 60);
  EXPECT_EQ(b.requests, 1u);
  EXPECT_EQ(b.errors, 1u);
  EXPECT_EQ(b.ttft.count(), 0u);  // errors are counted, not timed
}

TEST_F(TelemetryTest, OldWindowsAreRecycledWithoutLeakingIntoNewOnes) {
  // Far longer than the ring: each read sees exactly the last minute's 6 requests.
  for (int w = 0; w < 1000; ++w) Finish(w * 10 + 1, 0.5);
  EXPECT_EQ(CanaryRequestsSeenAt(10000 + 30, 60), 6u);
}

TEST_F(TelemetryTest, ResetForgetsEverything) {
  Finish(1, 1);
  telemetry_.reset();
  EXPECT_EQ(CanaryRequestsSeenAt(100), 0u);
}

}  // namespace
}  // namespace canarysim
