#include "sim/model/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <vector>

#include "sim/model/random.h"
#include "sim/model/ring.h"

namespace canarysim {

// Lets a test start the engine's sequence numbers near their end.
struct EngineTestAccess {
  static void set_next_seq(Engine& engine, uint32_t seq) { engine.seq_ = seq; }
  static uint32_t next_seq(const Engine& engine) { return engine.seq_; }
};

namespace {

// Records what the engine hands out, in order.
class EngineTest : public ::testing::Test {
 protected:
  void Schedule(double delay, uint32_t id) { engine_.schedule(delay, 0, id); }
  std::vector<uint32_t> RunAll(double until = Engine::kNever) {
    std::vector<uint32_t> seen;
    engine_.run(until, [&](const Event& e) {
      seen.push_back(e.target);
      times_.push_back(engine_.now());
    });
    return seen;
  }
  Engine engine_;
  std::vector<double> times_;
};

TEST_F(EngineTest, HandsOutEventsInTimeOrder) {
  Schedule(3, 3);
  Schedule(1, 1);
  Schedule(2, 2);
  EXPECT_EQ(RunAll(), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(times_, (std::vector<double>{1, 2, 3}));
}

TEST_F(EngineTest, BreaksTiesInSchedulingOrder) {
  for (uint32_t id = 0; id < 100; ++id) Schedule(5, id);
  std::vector<uint32_t> expected(100);
  for (uint32_t i = 0; i < 100; ++i) expected[i] = i;
  EXPECT_EQ(RunAll(), expected);
}

TEST_F(EngineTest, TiesStayFifoWhenScheduledFromHandlers) {
  // Events scheduled during the run at the current time come after those already queued.
  Schedule(1, 1);
  Schedule(1, 2);
  std::vector<uint32_t> seen;
  engine_.run(Engine::kNever, [&](const Event& e) {
    seen.push_back(e.target);
    if (e.target == 1) engine_.schedule(0, 0, 3);
  });
  EXPECT_EQ(seen, (std::vector<uint32_t>{1, 2, 3}));
}

TEST_F(EngineTest, RunUntilStopsBeforeThatTimeAndAdvancesTheClock) {
  Schedule(1, 1);
  Schedule(2, 2);
  Schedule(3, 3);
  EXPECT_EQ(RunAll(2), (std::vector<uint32_t>{1}));
  EXPECT_EQ(engine_.now(), 2);
  EXPECT_EQ(engine_.peek(), 2);
  EXPECT_EQ(RunAll(), (std::vector<uint32_t>{2, 3}));
}

TEST_F(EngineTest, StopEndsTheRunAfterTheCurrentEvent) {
  Schedule(1, 1);
  Schedule(2, 2);
  std::vector<uint32_t> seen;
  engine_.run(Engine::kNever, [&](const Event& e) {
    seen.push_back(e.target);
    engine_.stop();
  });
  EXPECT_EQ(seen, (std::vector<uint32_t>{1}));
  EXPECT_EQ(engine_.now(), 1);
  EXPECT_FALSE(engine_.empty());
}

TEST_F(EngineTest, CountsProcessedEventsAndResets) {
  for (uint32_t i = 0; i < 10; ++i) Schedule(i, i);
  RunAll();
  EXPECT_EQ(engine_.processed(), 10u);
  engine_.reset();
  EXPECT_EQ(engine_.processed(), 0u);
  EXPECT_EQ(engine_.now(), 0);
  EXPECT_TRUE(engine_.empty());
}

TEST_F(EngineTest, KeepsOrderOverManyRandomlyTimedEvents) {
  // A heap bug shows up as an out-of-order pair somewhere in a long random sequence.
  uint64_t x = 12345;
  for (uint32_t i = 0; i < 20000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    Schedule(static_cast<double>(x >> 40) / 1e3, i);
  }
  RunAll();
  for (size_t i = 1; i < times_.size(); ++i) ASSERT_LE(times_[i - 1], times_[i]);
  EXPECT_EQ(times_.size(), 20000u);
}

TEST_F(EngineTest, OrdersTimesOfEveryMagnitudeAndZeroOfEitherSign) {
  // The heap compares a time's bits as an integer (with the sequence number below them);
  // that is the order of the times only for non-negative ones, -0.0 made +0.0 on entry.
  const std::vector<double> times = {1e300, 0.5, 5e-324, 1.7976931348623157e308, -0.0, 1.0, 0.0,
                                     9007199254740993.0, 1e-300, 0.5, 2.2250738585072014e-308};
  for (uint32_t i = 0; i < times.size(); ++i) engine_.schedule_at(times[i], 0, i);
  std::vector<uint32_t> expected(times.size());
  for (uint32_t i = 0; i < expected.size(); ++i) expected[i] = i;
  std::stable_sort(expected.begin(), expected.end(), [&](uint32_t a, uint32_t b) {
    return times[a] < times[b];  // -0.0 == 0.0: scheduling order, as for any tie
  });
  EXPECT_EQ(RunAll(), expected);
}

// Every event, scheduled before the run and from handlers (often at the same time as
// others), comes out in the order of (time, scheduling order), compared with a reference
// that numbers events in 64 bits. Started with 32-bit sequence numbers 300 short of their
// end (and again after each renumbering), the run numbers the pending events again
// several times, inside handlers and out.
void ExpectOrderOfReference(uint32_t first_seq) {
  Engine engine;
  EngineTestAccess::set_next_seq(engine, first_seq);
  std::vector<std::pair<double, uint64_t>> pending;  // (time, global order), by target
  uint64_t order = 0;
  uint32_t renumbered = 0;
  auto schedule = [&](double time) {
    const uint32_t next = EngineTestAccess::next_seq(engine);
    engine.schedule_at(time, 3, static_cast<uint32_t>(pending.size()));
    pending.emplace_back(time, order++);
    if (EngineTestAccess::next_seq(engine) < next) {  // numbered again from 0
      ++renumbered;
      EngineTestAccess::set_next_seq(engine, first_seq);  // still after every pending one
    }
  };
  Rng rng(7, 0, Stream::kArrivals);
  for (int i = 0; i < 50; ++i) schedule(static_cast<double>(rng.below(20)));
  std::vector<uint32_t> seen;
  while (!engine.empty()) {
    engine.step([&](const Event& e) {
      ASSERT_EQ(e.type, 3u);
      seen.push_back(e.target);
      // Mostly one event (a replica's next iteration), sometimes none or three, often
      // at the very same time as another.
      const uint64_t n = seen.size() < 3000 ? (rng.below(8) == 0 ? 3 : rng.below(9) == 0 ? 0 : 1) : 0;
      for (uint64_t k = 0; k < n; ++k) schedule(engine.now() + static_cast<double>(rng.below(3)));
    });
    if (seen.size() % 500 == 0 && !engine.empty()) schedule(engine.now());  // outside a handler
  }
  ASSERT_EQ(seen.size(), pending.size());
  std::vector<uint32_t> expected(pending.size());
  for (uint32_t i = 0; i < expected.size(); ++i) expected[i] = i;
  std::sort(expected.begin(), expected.end(), [&](uint32_t a, uint32_t b) { return pending[a] < pending[b]; });
  EXPECT_EQ(seen, expected);
  if (first_seq > UINT32_MAX - 1000) {
    EXPECT_GE(renumbered, 5u);
  } else {
    EXPECT_EQ(renumbered, 0u);
  }
}

TEST(EngineOrderTest, MatchesAReferenceOrder) { ExpectOrderOfReference(0); }
TEST(EngineOrderTest, KeepsTheOrderWhenSequenceNumbersRunOut) {
  ExpectOrderOfReference(UINT32_MAX - 300);
}

TEST(EngineOrderTest, CarriesTheLargestTypeAndTarget) {
  Engine engine;
  engine.schedule(1, Engine::kMaxType, Engine::kMaxTarget);
  engine.schedule(2, 0, 0);
  std::vector<std::pair<uint32_t, uint32_t>> seen;
  engine.run(Engine::kNever, [&](const Event& e) { seen.emplace_back(e.type, e.target); });
  EXPECT_EQ(seen, (std::vector<std::pair<uint32_t, uint32_t>>{{15, (1u << 28) - 1}, {0, 0}}));
  EXPECT_EQ(sizeof(Event), 16u);
}

TEST(RingTest, BehavesAsADequeThroughGrowthAndWrapAround) {
  // Random pushes at both ends and pops at the front, against std::deque: the ring wraps
  // around its buffer and doubles it many times on the way.
  Ring<uint64_t> ring;
  std::deque<uint64_t> reference;
  Rng rng(3, 0, Stream::kRequests);
  for (uint64_t step = 0; step < 200000; ++step) {
    const uint64_t op = rng.next() % 10;
    if (op < 5) {
      ring.push_back(step);
      reference.push_back(step);
    } else if (op < 6) {
      ring.push_front(step);
      reference.push_front(step);
    } else if (!reference.empty()) {
      ASSERT_EQ(ring.front(), reference.front());
      ring.pop_front();
      reference.pop_front();
    }
    ASSERT_EQ(ring.size(), reference.size());
    if (!reference.empty()) {
      ASSERT_EQ(ring.back(), reference.back());
      const size_t k = rng.next() % reference.size();
      ASSERT_EQ(ring[k], reference[k]) << "at " << k << " of " << reference.size();
    }
  }
  ring.clear();
  EXPECT_TRUE(ring.empty());
  ring.push_front(7);
  EXPECT_EQ(ring.front(), 7u);
}

}  // namespace
}  // namespace canarysim
