// The discrete-event engine: a clock and a queue of pending events.
//
// The whole engine is schedule(), step() and run(until), on a binary heap ordered by
// (time, sequence number). The sequence number is the order of scheduling, so events at
// equal times run first-scheduled-first and every run is deterministic.
//
// Events are small plain records; the queue is one contiguous vector that grows to the
// largest number of pending events and is then reused, so scheduling allocates nothing in
// steady state. What an event means is the model's business: the engine hands each event
// to a handler passed to step()/run() (a lambda with a switch on Event::type), which is
// inlined, so there is no virtual call or std::function per event.
//
// Thread safety: none. One Engine belongs to one simulation run on one thread.
#pragma once

#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace canarysim {

// Asks the processor to fetch every cache line of *p, to be read soon (a hint).
template <class T>
inline void prefetch(const T* p) {
  const char* bytes = reinterpret_cast<const char*>(p);
  for (size_t offset = 0; offset < sizeof(T); offset += 64) __builtin_prefetch(bytes + offset);
  __builtin_prefetch(bytes + sizeof(T) - 1);
}

// One pending event, 24 bytes.
struct Event {
  double time;      // simulated seconds at which it happens
  uint64_t seq;     // scheduling order; breaks ties between equal times (FIFO)
  uint32_t type;    // what happens; defined by the model
  uint32_t target;  // whom it concerns (a replica, a regression, ...); defined by the model
};

class Engine {
 public:
  static constexpr double kNever = std::numeric_limits<double>::infinity();

  // Current simulated time in seconds; starts at 0 and never decreases.
  double now() const { return now_; }
  // Events handed to a handler so far.
  uint64_t processed() const { return processed_; }
  bool empty() const { return heap_.size() == (vacant_ ? 1u : 0u); }
  // Time of the next event, or kNever when none is pending. Not from inside a handler.
  double peek() const {
    assert(!vacant_);
    return heap_.empty() ? kNever : heap_.front().time;
  }

  // Schedules an event `delay` seconds from now.
  // REQUIRES: delay >= 0 (a model that schedules into the past is broken).
  void schedule(double delay, uint32_t type, uint32_t target = 0) {
    assert(delay >= 0 && "negative delay");
    schedule_at(now_ + delay, type, target);
  }
  // REQUIRES: time >= now().
  void schedule_at(double time, uint32_t type, uint32_t target = 0) {
    assert(time >= now_ && "event scheduled in the past");
    const Event e{time + 0.0, seq_++, type, target};  // + 0.0: -0.0 is +0.0 (see before())
    if (vacant_) {  // the first event a handler schedules takes the popped event's place
      vacant_ = false;
      sift_down(e);
      return;
    }
    heap_.push_back(e);
    sift_up(heap_.size() - 1);
  }

  // Makes run() return once the event being handled is done. Pending events stay queued.
  void stop() { stopped_ = true; }

  // Pops the next event, advances the clock to it and calls handler(event).
  // Returns false when no event was pending. The popped event's slot stays at the root
  // while the handler runs: the first event it schedules replaces it with one sift down
  // (most handlers schedule one: a replica's next iteration), instead of a sift down to
  // remove it and a sift up to add the new one. The order of events is the same: it is
  // the total order on (time, sequence number), whatever the heap's layout.
  template <class Handler>
  bool step(Handler&& handler) {
    if (heap_.empty()) return false;
    const Event e = heap_.front();
    vacant_ = true;
    now_ = e.time;
    ++processed_;
    handler(e);
    if (vacant_) {
      vacant_ = false;
      remove_root();
    }
    return true;
  }

  // Handles events in order while their time is < until, or until stop() is called.
  // When it returns without stop(), now() == until (if until is finite).
  template <class Handler>
  void run(double until, Handler&& handler) {
    stopped_ = false;
    while (!stopped_ && !heap_.empty() && heap_.front().time < until) step(handler);
    if (!stopped_ && until != kNever && until > now_) now_ = until;
  }

  // Empties the queue and rewinds the clock, keeping the queue's capacity.
  void reset() {
    heap_.clear();
    vacant_ = false;
    now_ = 0;
    seq_ = 0;
    processed_ = 0;
    stopped_ = false;
  }

 private:
  // The order on (time, sequence number) as one unsigned 128-bit comparison, with no
  // branch and no floating-point compare: the time's bits above the sequence number. The
  // bits of a non-negative double order as its value does; schedule_at() turns -0.0 into
  // +0.0 (a NaN time is a broken model, as a negative one is).
  __extension__ using Key = unsigned __int128;  // GCC's and Clang's; __extension__: not ISO
  static bool before(const Event& a, const Event& b) { return key(a) < key(b); }
  static Key key(const Event& e) { return static_cast<Key>(std::bit_cast<uint64_t>(e.time)) << 64 | e.seq; }
  void sift_up(size_t i) {
    const Event e = heap_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }
  // Puts e at the root, in place of the event there, and restores heap order.
  void sift_down(const Event& e) {
    const size_t n = heap_.size();
    size_t i = 0;
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n) child += before(heap_[child + 1], heap_[child]);
      if (!before(heap_[child], e)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = e;
  }
  void remove_root() {
    const Event last = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(last);
  }

  std::vector<Event> heap_;
  double now_ = 0;
  uint64_t seq_ = 0;
  uint64_t processed_ = 0;
  bool stopped_ = false;
  bool vacant_ = false;  // inside step(): the root holds the event being handled
};

}  // namespace canarysim
