// The continuous-batching pool against queueing theory and against measured profiles.
#include "sim/model/serving.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "sim/model/calibrate.h"
#include "sim/model/histogram.h"
#include "sim/model/engine.h"
#include "sim/model/random.h"

namespace canarysim {
namespace {

enum : uint32_t { kArrival, kIteration };

// Collects what leaves the pool.
struct Collector : CompletionSink {
  struct Done {
    Job job;
    double first_token, done;
    bool failed;
    Failure failure;
  };
  std::vector<Done> done;
  std::vector<Job> preempted_jobs;
  void completed(const Job& job, double first_token, double t, Failure failure) override {
    done.push_back({job, first_token, t, failure != Failure::kNone, failure});
  }
  void preempted(const Job& job) override { preempted_jobs.push_back(job); }
  std::vector<std::pair<double, uint64_t>> gaps;  // (gap, tokens)
  void token_gaps(uint32_t, double gap, uint64_t n) override { gaps.emplace_back(gap, n); }
  const Engine* clock = nullptr;
  std::multimap<uint32_t, double> hinted;  // id: when the pool said it would leave soon
  void leaving_soon(uint32_t id) override { hinted.emplace(id, clock ? clock->now() : 0); }
};

// A pool spec with iterations of b0 + b1 x prefill tokens + b2 x decoding sequences.
BatchingSpec Spec(double b0, double b1, double b2, uint32_t max_batch) {
  BatchingSpec spec;
  spec.b0_s = b0;
  spec.b1_s = b1;
  spec.b2_s = b2;
  spec.max_batch = max_batch;
  return spec;
}

// Submits the jobs `next(i, job)` makes (false: no more), each at its arrival, to a pool
// of `replicas`, runs it until it is empty and returns what left it.
template <class Next>
Collector Drive(const BatchingSpec& spec, uint32_t replicas, Next next, double kv_footprint = 1) {
  Engine engine;
  Collector sink;
  BatchingPool pool(spec, engine, 1, 0, sink);
  pool.reset(replicas);
  pool.set_kv_footprint(kv_footprint);
  auto handle = [&](const Event& e) { pool.on_event(BatchingPool::target_of(e.target)); };
  Job job;
  for (uint32_t i = 0; next(i, job); ++i) {
    engine.run(job.arrival, handle);
    job.id = i;
    pool.submit(job);
  }
  engine.run(Engine::kNever, handle);
  return sink;
}

// Erlang C: the probability that an arrival waits in an M/M/c queue.
double ErlangC(int c, double a) {
  double term = 1, sum = 1;  // a^k / k!
  for (int k = 1; k < c; ++k) sum += term *= a / k;
  term *= a / c;
  const double last = term / (1 - a / c);
  return last / (sum + last);
}

TEST(ServingTest, ReproducesErlangCWaitingTimeAtUtilisationPointEight) {
  // One token per request and no batching: each replica is one server whose service
  // time is b1 x prompt tokens, with prompt tokens exponential (mean 1000, rounded up:
  // a geometric law whose squared coefficient of variation is 0.999, against 1 for the
  // exponential of M/M/c: the waiting time moves by 0.05 %, far inside the tolerance).
  constexpr int kServers = 4;
  constexpr uint64_t kCustomers = 16'000'000;
  BatchingSpec spec;
  spec.b0_s = 0;
  spec.b1_s = 1e-3;
  spec.b2_s = 0;
  spec.max_batch = 1;
  const double mean_tokens = 1 / (1 - std::exp(-1.0 / 1000));  // E[ceil(Exp(1000))]
  const double mean_service = spec.b1_s * mean_tokens;
  const double lambda = 0.8 * kServers / mean_service;

  Engine engine;
  Collector sink;
  BatchingPool pool(spec, engine, kIteration, 0, sink);
  pool.reset(kServers);
  Rng arrivals(1, 0, Stream::kArrivals), sizes(1, 0, Stream::kRequests);
  const Distribution tokens = Distribution::exponential(1000);
  uint64_t sent = 0;
  double wait_sum = 0;
  uint64_t counted = 0;
  constexpr uint64_t kWarmup = 10000;
  // Batch means over 40 batches for the standard error (waits are correlated).
  std::vector<double> batch(40, 0);
  sink.done.reserve(1024);
  engine.schedule(arrivals.exponential(lambda), kArrival);
  engine.run(Engine::kNever, [&](const Event& e) {
    if (e.type == kArrival) {
      const auto t = static_cast<uint32_t>(std::ceil(tokens.quantile(sizes.uniform_open())));
      pool.submit(Job{engine.now(), t, 1, static_cast<uint32_t>(sent)});
      if (++sent < kCustomers) engine.schedule(arrivals.exponential(lambda), kArrival);
    } else {
      pool.on_event(BatchingPool::target_of(e.target));
    }
    for (const auto& d : sink.done) {
      if (d.job.id < kWarmup) continue;
      const double wait = d.first_token - d.job.arrival - spec.b1_s * d.job.prompt_tokens;
      wait_sum += wait;
      batch[(d.job.id - kWarmup) * batch.size() / (kCustomers - kWarmup)] += wait;
      ++counted;
    }
    sink.done.clear();
  });
  const double mean_wait = wait_sum / static_cast<double>(counted);
  const double expected = ErlangC(kServers, lambda * mean_service) / (kServers / mean_service - lambda);
  double ss = 0;
  const double per_batch = static_cast<double>(counted) / batch.size();
  for (double b : batch) ss += (b / per_batch - mean_wait) * (b / per_batch - mean_wait);
  const double se = std::sqrt(ss / (batch.size() - 1) / batch.size());
  std::printf("M/M/%d at rho 0.8: mean wait %.4f s +- %.4f, Erlang C %.4f s (%.2f%%)\n", kServers,
              mean_wait, se, expected, (mean_wait / expected - 1) * 100);
  EXPECT_NEAR(mean_wait / expected, 1.0, 0.02);
  EXPECT_LT(se / expected, 0.005);  // so that 2 % is four standard errors or more
}

// The measured median token time of llama2-70b on H100 (TP 8) at prompt 512 by batch.
std::map<int, double> MeasuredTokenTimes(const std::vector<ProfileRow>& rows) {
  std::map<int, std::vector<double>> by_batch;
  for (const ProfileRow& r : rows) {
    if (r.model == "llama2-70b" && r.hardware == "h100-80gb" && r.tensor_parallel == 8 &&
        r.prompt_size == 512)
      by_batch[static_cast<int>(r.batch_size)].push_back(r.token_time_s);
  }
  std::map<int, double> median;
  for (auto& [b, v] : by_batch) {
    std::sort(v.begin(), v.end());
    median[b] = v[v.size() / 2];
  }
  return median;
}

TEST(ServingTest, CalibratedPoolReproducesMeasuredTokenTimes) {
  const auto rows =
      load_profile(std::string(CANARYSIM_SOURCE_DIR) + "/scenarios/profiles/splitwise-perf-model.csv");
  ProfileFit fit;
  for (const ProfileFit& f : fit_profiles(rows))
    if (f.model == "llama2-70b" && f.hardware == "h100-80gb" && f.tensor_parallel == 8) fit = f;
  BatchingSpec spec;
  spec.b0_s = fit.b0_s;
  spec.b1_s = fit.b1_s;
  spec.b2_s = fit.b2_s;
  spec.max_batch = 64;
  spec.token_budget = 1 << 20;  // the batch prefills together, then decodes together
  const auto measured = MeasuredTokenTimes(rows);
  for (int batch : {1, 16, 64}) {
    Engine engine;
    Collector sink;
    BatchingPool pool(spec, engine, kIteration, 0, sink);
    pool.reset(0);  // queue the whole batch first, so that it prefills in one iteration
    for (int i = 0; i < batch; ++i) pool.submit(Job{0, 512, 129, static_cast<uint32_t>(i)});
    pool.set_replicas(1);
    engine.run(Engine::kNever, [&](const Event& e) { pool.on_event(BatchingPool::target_of(e.target)); });
    ASSERT_EQ(sink.done.size(), static_cast<size_t>(batch));
    const auto& d = sink.done.front();
    const double token_time = (d.done - d.first_token) / 128;
    std::printf("batch %2d: simulated token time %.2f ms, measured %.2f ms\n", batch,
                token_time * 1e3, measured.at(batch) * 1e3);
    EXPECT_NEAR(token_time / measured.at(batch), 1.0, 0.10) << "batch " << batch;
  }
}

class PoolTest : public ::testing::Test {
 protected:
  PoolTest() : pool_(spec_, engine_, kIteration, 0, sink_) {
    spec_.b0_s = 0.01;
    spec_.b1_s = 0;
    spec_.b2_s = 0;
    spec_.max_batch = 4;
    pool_.reset(0);
    sink_.clock = &engine_;
  }
  // Requests queued before replicas start are batched from the first iteration.
  void Start(uint32_t replicas) { pool_.set_replicas(replicas); }
  void Submit(int n, uint32_t output_tokens = 10) {
    for (int i = 0; i < n; ++i) pool_.submit(Job{engine_.now(), 100, output_tokens, next_id_++});
  }
  void RunUntil(double t) {
    engine_.run(t, [&](const Event& e) { pool_.on_event(BatchingPool::target_of(e.target)); });
  }
  BatchingSpec spec_;
  Engine engine_;
  Collector sink_;
  BatchingPool pool_;
  uint32_t next_id_ = 0;
};

TEST_F(PoolTest, ARequestTakesOneIterationPerToken) {
  Submit(1, 10);
  Start(1);
  RunUntil(1);
  ASSERT_EQ(sink_.done.size(), 1u);
  EXPECT_NEAR(sink_.done[0].first_token, 0.01, 1e-12);
  EXPECT_NEAR(sink_.done[0].done, 0.10, 1e-12);  // 10 iterations of 10 ms
}

TEST_F(PoolTest, BatchesUpToMaxBatchAndQueuesTheRest) {
  Submit(6, 10);
  Start(1);
  RunUntil(1);
  ASSERT_EQ(sink_.done.size(), 6u);
  int first_wave = 0;
  for (const auto& d : sink_.done) first_wave += d.first_token < 0.011;
  EXPECT_EQ(first_wave, 4);  // max_batch
  EXPECT_GT(sink_.done.back().first_token, 0.09);  // waited for a slot
}

TEST_F(PoolTest, SaysWhichRequestsLeaveWhenTheirLastIterationBegins) {
  // The hint that lets a sink fetch a request's data early (CompletionSink::leaving_soon):
  // given for every request that leaves at the end of a decoding iteration, when that
  // iteration began (10 ms before), and for no other. A one-token request leaves at the
  // end of its prefill, unannounced.
  for (uint32_t i = 0; i < 14; ++i) pool_.submit(Job{0, 100, 1 + i % 6, next_id_++});
  Start(2);
  RunUntil(10);
  ASSERT_EQ(sink_.done.size(), 14u);
  size_t announced = 0;
  for (const auto& d : sink_.done) {
    const auto it = sink_.hinted.find(d.job.id);
    if (d.job.output_tokens == 1) {
      EXPECT_EQ(it, sink_.hinted.end()) << "request " << d.job.id;
      continue;
    }
    ASSERT_EQ(sink_.hinted.count(d.job.id), 1u) << "request " << d.job.id;
    EXPECT_EQ(d.done, it->second + 0.01) << "request " << d.job.id;
    ++announced;
  }
  EXPECT_EQ(sink_.hinted.size(), announced);
}

TEST_F(PoolTest, MoreReplicasServeInParallel) {
  Submit(8, 10);
  Start(2);
  RunUntil(1);
  for (const auto& d : sink_.done) EXPECT_NEAR(d.done, 0.10, 1e-12);
}

TEST_F(PoolTest, CountsReplicaSecondsAsReplicasChange) {
  Start(2);
  RunUntil(10);
  pool_.set_replicas(5);
  RunUntil(20);
  EXPECT_NEAR(pool_.replica_seconds(), 2 * 10 + 5 * 10, 1e-9);
}

TEST_F(PoolTest, ARetiringReplicaFinishesItsBatchFirst) {
  Submit(1, 100);  // 1 s of work
  Start(1);
  RunUntil(0.5);
  pool_.set_replicas(0);
  RunUntil(5);
  ASSERT_EQ(sink_.done.size(), 1u);
  EXPECT_NEAR(sink_.done[0].done, 1.0, 1e-9);
  EXPECT_NEAR(pool_.replica_seconds(), 1.0, 1e-9);  // counted until it retired
}

TEST_F(PoolTest, ARetiringReplicaTakesNoNewWork) {
  Submit(1, 100);  // busy for 1 s
  Start(1);
  RunUntil(0.5);
  pool_.set_replicas(0);
  Submit(1, 10);   // arrives while the only replica retires
  RunUntil(5);
  ASSERT_EQ(sink_.done.size(), 1u);
  EXPECT_EQ(sink_.done[0].job.id, 0u);
  EXPECT_EQ(pool_.queued(), 1u);  // waits for a replica that will serve it
}

TEST_F(PoolTest, LostReplicasShrinkThePool) {
  pool_.set_lost_replicas(1);
  Submit(8, 10);
  Start(2);
  RunUntil(1);
  double last = 0;
  for (const auto& d : sink_.done) last = std::max(last, d.done);
  EXPECT_NEAR(last, 0.20, 1e-9);  // one replica: two waves of four
}

TEST_F(PoolTest, APromptLongerThanTheBudgetDoesNotBlockTheQueue) {
  // A decoding sequence keeps the batch busy; a prompt over the budget must still get
  // an iteration to itself, and the requests behind it must not wait for the batch to drain.
  spec_.token_budget = 1000;
  pool_.submit(Job{0, 100, 1000, 0});  // decodes for 10 s
  Start(1);
  RunUntil(1);
  pool_.submit(Job{1, 5000, 2, 1});    // over the budget
  pool_.submit(Job{1, 100, 2, 2});
  RunUntil(2);
  ASSERT_EQ(sink_.done.size(), 2u);  // both short requests are done within a second
  EXPECT_LT(sink_.done[1].done, 1.1);
}

TEST_F(PoolTest, AdmissionsAboveTheErrorBatchSizeFail) {
  pool_.set_error_above_batch(2);
  Submit(4, 10);
  Start(1);
  RunUntil(1);
  int failed = 0;
  for (const auto& d : sink_.done) failed += d.failed;
  EXPECT_EQ(failed, 2);
}

// ---------------------------------------------------------------------------------
// Overload: deadlines, patience, a bounded queue.

TEST_F(PoolTest, ARequestPastItsDeadlineFailsWhereverItIs) {
  spec_.max_batch = 1;
  // One slot; each request decodes 100 tokens: 1.01 s (prefill iteration and 100 decodes... the
  // first token comes with the prefill, so 100 iterations in all: 1.00 s).
  for (uint32_t i = 0; i < 3; ++i) pool_.submit(Job{0, 100, 100, i}, /*deadline=*/1.5);
  Start(1);
  RunUntil(10);
  ASSERT_EQ(sink_.done.size(), 3u);
  EXPECT_EQ(sink_.done[0].failure, Failure::kNone);
  EXPECT_NEAR(sink_.done[0].done, 1.0, 1e-9);
  // The second was decoding (admitted at 1.0, first token at 1.01) and the third queued:
  // both fail at the deadline, the decoding one with its first token, freeing the slot.
  EXPECT_EQ(sink_.done[1].failure, Failure::kTimeout);
  EXPECT_EQ(sink_.done[2].failure, Failure::kTimeout);
  for (int k : {1, 2}) EXPECT_DOUBLE_EQ(sink_.done[k].done, 1.5);
  const bool second_decoding = sink_.done[1].job.id == 1 ? sink_.done[1].first_token > 0 : sink_.done[2].first_token > 0;
  EXPECT_TRUE(second_decoding);
  EXPECT_EQ(pool_.queued(), 0u);
}

TEST_F(PoolTest, ABatchEmptiedByTimeoutsLeavesItsReplicaIdle) {
  // Two requests decode on one replica until their deadline, which comes mid-iteration.
  // The iteration in flight then ends with nothing left to decode: the replica goes idle
  // and schedules nothing more (not an empty iteration after another until the horizon).
  for (int i = 0; i < 2; ++i) pool_.submit(Job{0, 100, 100, next_id_++}, /*deadline=*/0.505);
  Start(1);
  RunUntil(5);
  ASSERT_EQ(sink_.done.size(), 2u);
  for (const auto& d : sink_.done) EXPECT_EQ(d.failure, Failure::kTimeout);
  EXPECT_TRUE(engine_.empty());
  EXPECT_LE(engine_.processed(), 53u);  // 51 iterations and the deadline
  // The idle replica takes the next request at once: its first token one iteration later.
  Submit(1, 2);
  RunUntil(6);
  ASSERT_EQ(sink_.done.size(), 3u);
  EXPECT_NEAR(sink_.done[2].first_token, 5.01, 1e-9);
}

TEST_F(PoolTest, AUserGivesUpOnlyWhileWaitingForAdmission) {
  spec_.max_batch = 1;
  // The first is admitted at once and keeps its place.
  for (uint32_t i = 0; i < 3; ++i) pool_.submit(Job{0, 100, 100, i}, Job::kNever, /*give_up=*/0.5);
  Start(1);
  RunUntil(10);
  ASSERT_EQ(sink_.done.size(), 3u);
  int abandoned = 0;
  for (const auto& d : sink_.done) {
    if (d.failure == Failure::kAbandoned) {
      ++abandoned;
      EXPECT_DOUBLE_EQ(d.done, 0.5);
      EXPECT_LT(d.first_token, 0);
    }
  }
  EXPECT_EQ(abandoned, 2);
}

TEST_F(PoolTest, ArrivalsBeyondMaxQueueAreRejectedAtOnce) {
  spec_.max_batch = 1;
  spec_.max_queue = 2;
  Start(1);
  Submit(5, 100);  // one admitted, two queued, two rejected
  int rejected = 0;
  for (const auto& d : sink_.done) rejected += d.failure == Failure::kRejected && d.done == 0;
  EXPECT_EQ(rejected, 2);
  EXPECT_EQ(pool_.queued(), 2u);
  RunUntil(10);
  EXPECT_EQ(sink_.done.size(), 5u);
}

// ---------------------------------------------------------------------------------
// KV cache.

TEST_F(PoolTest, ACacheLargerThanAnyBatchChangesNothing) {
  // The limit case: with memory for everything, timings are those of no KV model at all.
  auto run = [](uint64_t kv_tokens) {
    BatchingSpec spec = Spec(0.02, 1e-5, 3e-4, 16);
    spec.kv_cache.tokens = kv_tokens;
    Rng rng(7, 0, Stream::kRequests);
    return Drive(spec, 2, [&](uint32_t i, Job& j) {
             j = Job{0.05 * i, 1 + static_cast<uint32_t>(rng.uniform() * 2000), 1 + static_cast<uint32_t>(rng.uniform() * 300)};
             return i < 400;
           }).done;
  };
  const auto without = run(0), with = run(1'000'000'000);
  ASSERT_EQ(without.size(), with.size());
  for (size_t i = 0; i < with.size(); ++i) {
    EXPECT_EQ(with[i].job.id, without[i].job.id);
    EXPECT_EQ(with[i].done, without[i].done);
  }
}

TEST_F(PoolTest, PreemptsTheLatestArrivalWhenGrowthOverflowsTheCache) {
  // Prompts of 100, outputs of 50: a sequence holds up to 150 tokens. A cache of 600
  // holds four at their longest: four never preempt; five are all admitted (5 x 101 fit)
  // and overflow once each holds more than 120 (after 20 tokens), so the latest arrival
  // is preempted, recomputed later, and still completes.
  spec_.max_batch = 16;
  spec_.kv_cache.tokens = 600;
  for (int n : {4, 5}) {
    sink_.done.clear();
    sink_.preempted_jobs.clear();
    pool_.reset(0);
    for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i)
      pool_.submit(Job{engine_.now() + 1e-3 * i, 100, 50, next_id_++});
    Start(1);
    RunUntil(engine_.now() + 60);
    ASSERT_EQ(sink_.done.size(), static_cast<size_t>(n));
    for (const auto& d : sink_.done) EXPECT_EQ(d.failure, Failure::kNone);
    if (n == 4) {
      EXPECT_TRUE(sink_.preempted_jobs.empty());
    } else {
      ASSERT_FALSE(sink_.preempted_jobs.empty());
      EXPECT_EQ(sink_.preempted_jobs.front().id, next_id_ - 1);  // the latest arrival
      EXPECT_GT(sink_.preempted_jobs.front().generated, 19u);
      // Resumed, it finished after the others, having kept its first token's time.
      EXPECT_EQ(sink_.done.back().job.id, next_id_ - 1);
      EXPECT_NEAR(sink_.done.back().first_token, sink_.done.front().first_token, 1e-9);
    }
  }
}

TEST_F(PoolTest, ASequenceLongerThanTheWholeCacheFails) {
  spec_.kv_cache.tokens = 120;
  pool_.submit(Job{0, 100, 50, 0});  // fits at admission (101), outgrows the cache alone
  pool_.submit(Job{0, 200, 5, 1});   // does not fit even empty
  Start(1);
  RunUntil(10);
  ASSERT_EQ(sink_.done.size(), 2u);
  for (const auto& d : sink_.done) EXPECT_EQ(d.failure, Failure::kError);
}

// Poisson-free, by hand: iterations of 10 ms whatever the batch, prompts of 100 and
// outputs of 100 tokens, so a sequence lives 100 iterations (1.0 s) and arrivals every
// 1/rate keep about rate x 1.0 sequences in flight, holding about 150 tokens on average
// (101 to 200). A cache of 3,000 tokens then fills at about 3,000 / 151 = 20 sequences:
// 20 requests/s. At 15/s (about 2,300 tokens) nothing is preempted; at 25/s (about
// 3,800) preemptions recur.
TEST(KvCacheTest, PreemptionsAppearOnlyAboveTheLoadThatFillsTheCache) {
  auto preemptions_at = [](double rate) {
    BatchingSpec spec = Spec(0.01, 0, 0, 256);
    spec.kv_cache.tokens = 3000;
    return Drive(spec, 1, [&](uint32_t i, Job& j) {
             j = Job{i / rate, 100, 100};
             return i < 30 * rate;
           }).preempted_jobs.size();
  };
  for (double rate : {15, 19, 20, 21, 25}) std::printf("%g/s: %zu preemptions\n", rate, preemptions_at(rate));
  EXPECT_EQ(preemptions_at(15), 0u);
  EXPECT_EQ(preemptions_at(19), 0u);
  EXPECT_GT(preemptions_at(25), 10u);
}

// The queueing limit case: a cache that holds one sequence of 100 + 100 tokens at most
// (200; a second's prompt never fits beside it) makes a replica a single server with a
// deterministic service of 100 iterations of 10 ms: M/D/1, whose mean wait is
// rho S / (2 (1 - rho)) (Pollaczek-Khinchine): 0.5 s at rho = 0.5. 200,000 customers: the
// mean is within 2 % (its standard error here is about 0.5 %). A footprint twice the
// model's on twice the memory is the same cache, request for request.
TEST(KvCacheTest, ACacheForOneSequenceMakesAReplicaAnMD1Queue) {
  auto run = [](uint64_t tokens, double footprint) {
    BatchingSpec spec = Spec(0.01, 0, 0, 64);
    spec.kv_cache.tokens = tokens;
    Rng rng(3, 0, Stream::kArrivals);
    double t = 0;
    return Drive(spec, 1, [&](uint32_t i, Job& j) {
             t += -std::log(rng.uniform_open()) / 0.5;
             j = Job{t, 100, 100};
             return i < 200000;
           }, footprint).done;
  };
  const auto done = run(200, 1);
  double wait = 0;
  for (const auto& d : done) {
    EXPECT_EQ(d.failure, Failure::kNone);
    wait += d.first_token - 0.01 - d.job.arrival;  // TTFT less the prefill iteration
  }
  wait /= static_cast<double>(done.size());
  std::printf("M/D/1 at rho 0.5: mean wait %.4f s (theory 0.5)\n", wait);
  EXPECT_NEAR(wait, 0.5, 0.01);
  const auto doubled = run(400, 2);
  ASSERT_EQ(doubled.size(), done.size());
  for (size_t i = 0; i < done.size(); i += 997) EXPECT_EQ(doubled[i].done, done[i].done);
}

TEST(KvCacheTest, DerivesLlama70bCapacityFromItsShape) {
  // 2 x 80 layers x 8 KV heads x 128 x 2 bytes = 327,680 bytes a token; 8 x 80 GB x 0.9
  // = 576 GB less 138 GB of weights leaves 438 GB: 1,336,669 tokens.
  EXPECT_EQ(KvCacheSpec::derive(8, 80, 0.9, 138, 80, 8, 128, 2), 1336669u);
  EXPECT_EQ(KvCacheSpec::derive(1, 80, 0.9, 138, 80, 8, 128, 2), 0u);  // weights do not fit
}

// ---------------------------------------------------------------------------------
// Schedulers, chunked prefill, prefix cache, start-up.

TEST_F(PoolTest, ChunkedPrefillSplitsALongPromptOverIterations) {
  spec_.b1_s = 1e-4;
  spec_.chunk_tokens = 512;
  pool_.submit(Job{0, 5000, 1, 0});
  Start(1);
  RunUntil(10);
  ASSERT_EQ(sink_.done.size(), 1u);
  // ceil(5000 / 512) = 10 iterations of 10 ms, plus 5000 tokens of 0.1 ms.
  EXPECT_NEAR(sink_.done[0].first_token, 10 * 0.01 + 5000 * 1e-4, 1e-9);
}

TEST_F(PoolTest, CachedPromptTokensAreNotPrefilled) {
  spec_.b1_s = 1e-4;
  Job j{0, 5000, 1, 0};
  j.cached_tokens = 4000;
  pool_.submit(j);
  Start(1);
  RunUntil(10);
  ASSERT_EQ(sink_.done.size(), 1u);
  EXPECT_NEAR(sink_.done[0].first_token, 0.01 + 1000 * 1e-4, 1e-9);
}

TEST_F(PoolTest, PrefillFirstStallsDecodingWhileMixedDoesNot) {
  // One sequence decoding; a long prompt arrives. prefill_first runs its prefill alone
  // (decoding waits one 0.51 s iteration); mixed decodes alongside it.
  spec_.b1_s = 1e-4;
  spec_.max_batch = 8;
  for (Scheduler s : {Scheduler::kMixed, Scheduler::kPrefillFirst}) {
    spec_.scheduler = s;
    sink_.done.clear();
    pool_.reset(1);
    const double t0 = engine_.now();
    pool_.submit(Job{t0, 1, 50, next_id_++});
    RunUntil(t0 + 0.1);
    pool_.submit(Job{engine_.now(), 5000, 1, next_id_++});
    RunUntil(t0 + 10);
    ASSERT_EQ(sink_.done.size(), 2u);
    const auto& decoder = sink_.done[0].job.prompt_tokens == 1 ? sink_.done[0] : sink_.done[1];
    const double decode_time = decoder.done - decoder.first_token;
    // 49 tokens; mixed: 48 iterations of 10 ms and one of 510 ms, the same for prefill_first
    // plus the decoding iteration that the prefill displaced.
    const double mixed = 48 * 0.01 + 0.51;
    EXPECT_NEAR(decode_time, s == Scheduler::kMixed ? mixed : mixed + 0.01, 1e-9);
  }
}

TEST_F(PoolTest, NewReplicasServeOnlyAfterStartUp) {
  spec_.startup_s = 60;
  spec_.max_batch = 1;
  Start(1);  // after reset(0): a start, so it loads weights too
  EXPECT_EQ(pool_.ready_replicas(), 0u);
  Submit(1, 10);
  RunUntil(59);
  EXPECT_TRUE(sink_.done.empty());
  RunUntil(61);
  ASSERT_EQ(sink_.done.size(), 1u);
  EXPECT_NEAR(sink_.done[0].first_token, 60.01, 1e-9);
  EXPECT_NEAR(pool_.replica_seconds(), 61, 1e-9);  // paid for while loading
  pool_.set_replicas(0);  // a replica stopped while starting never serves
  pool_.set_replicas(1);
  pool_.set_replicas(0);
  RunUntil(200);
  EXPECT_EQ(pool_.ready_replicas(), 0u);
}

// The scheduler signature, at 50 % of a llama-2-70B replica's capacity with the default
// token mix (prompts median 800, p99 6,000): the gap between consecutive tokens, each
// token counted. prefill_first stalls every decoding sequence for each admission's
// prefill, so its p99 is many times its p50; chunked prefill (mixed, chunk_tokens 512)
// bounds an iteration's prefill and keeps p99 near 2x p50; mixed without chunks sits
// between (a 6,000-token prompt still lengthens the iteration it joins).
TEST(SchedulerTest, PrefillFirstMultipliesTheTokenGapTailAndChunkingBoundsIt) {
  auto gap_quantiles = [](Scheduler scheduler, uint32_t chunk_tokens) {
    // scenarios/profiles/llama2-70b-h100-tp8.yaml
    BatchingSpec s = Spec(0.029136, 0.0000625892, 0.000328252, 64);
    s.scheduler = scheduler;
    s.chunk_tokens = chunk_tokens;
    const Distribution prompt = Distribution::from_median_p99(800, 6000);
    const Distribution output = Distribution::from_median_p99(150, 900);
    const double rate = 0.5 * replica_capacity(s, prompt.mean(), prompt.mean(), output.mean());
    Rng rng(1, 0, Stream::kRequests);
    double t = 0;
    const Collector c = Drive(s, 1, [&](uint32_t i, Job& j) {
      t += -std::log(rng.uniform_open()) / rate;
      j = Job{t, token_count(prompt.quantile(rng.uniform_open())), token_count(output.quantile(rng.uniform_open()))};
      return i < 50000;
    });
    Histogram gaps;
    for (const auto& [gap, n] : c.gaps) gaps.record(gap, n);
    return std::make_pair(gaps.quantile(0.5), gaps.quantile(0.99));
  };
  const auto [first50, first99] = gap_quantiles(Scheduler::kPrefillFirst, 0);
  const auto [mixed50, mixed99] = gap_quantiles(Scheduler::kMixed, 0);
  const auto [chunk50, chunk99] = gap_quantiles(Scheduler::kMixed, 512);
  std::printf("token gap p99/p50: prefill_first %.2f, mixed %.2f, mixed chunked %.2f\n", first99 / first50,
              mixed99 / mixed50, chunk99 / chunk50);
  EXPECT_GT(first99 / first50, 5.0);
  EXPECT_LT(chunk99 / chunk50, 2.5);
  EXPECT_GT(first99, 1.2 * mixed99);
}

}  // namespace
}  // namespace canarysim
