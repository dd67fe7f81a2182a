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

namespace canarysim {
namespace {

// Exact time: 0.1 s windows read every 0.3 s (tick k at k x 0.3 s, as the runner places
// ticks), with a 0.3 s lookback and a decimal scrape delay, over an hour. Every read must
// see three whole windows, each exactly once: consecutive reads meet, never overlap or
// skip, and every request recorded is read once.
TEST(TelemetryTimeTest, DecimalWindowsAreReadExactlyOnceOverAnHour) {
  Completion c;
  c.latency = c.ttft = 0.001;
  const int64_t windows = 36000;
  // The ring holds only recent windows: record as time goes, and read at every tick.
  Telemetry live(TelemetryOptions{0.1, 0.7}, 0.3, 10);
  uint64_t seen = 0;
  double last_to = -1;
  int64_t recorded = 0;
  for (int64_t k = 1; k * 3 <= windows + 9; ++k) {
    const double now = 0.3 * static_cast<double>(k);
    for (; recorded < windows && (static_cast<double>(recorded) + 0.5) * 0.1 < now; ++recorded) {
      const double t = (static_cast<double>(recorded) + 0.5) * 0.1;
      live.record(Version::kCanary, t, t + 0.001, c);
    }
    const WindowStats w = live.read(Version::kCanary, now, 0.3);
    if (w.to <= 0) continue;
    if (last_to >= 0) ASSERT_NEAR(w.from, last_to, 1e-9) << "read at " << now;
    if (w.from > 0) ASSERT_NEAR(w.to - w.from, 0.3, 1e-9) << "read at " << now;
    last_to = w.to;
    seen += w.requests;
  }
  EXPECT_EQ(seen, static_cast<uint64_t>(windows));
}

}  // namespace
}  // namespace canarysim
