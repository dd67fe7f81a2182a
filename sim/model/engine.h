// The discrete-event engine: a clock and a queue of pending events.
//
// The whole engine is schedule(), step() and run(until), on a binary heap ordered by
// (time, sequence number). The sequence number is the order of scheduling, so events at
// equal times run first-scheduled-first and every run is deterministic.
//
// Events are small plain records; the queue is one contiguous array that grows to the
// largest number of pending events and is then reused, so scheduling allocates nothing in
// steady state. What an event means is the model's business: the engine hands each event
// to a handler passed to step()/run() (a lambda with a switch on Event::type), which is
// inlined, so there is no virtual call or std::function per event.
//
// Thread safety: none. One Engine belongs to one simulation run on one thread.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <utility>

namespace canarysim {

// Asks the processor to fetch every cache line of *p, to be read soon (a hint).
template <class T>
inline void prefetch(const T* p) {
  const char* bytes = reinterpret_cast<const char*>(p);
  for (size_t offset = 0; offset < sizeof(T); offset += 64) __builtin_prefetch(bytes + offset);
  __builtin_prefetch(bytes + sizeof(T) - 1);
}

// One pending event, 16 bytes: four to a cache line.
struct Event {
  uint32_t target : 28;  // whom it concerns (a replica, a regression, ...); defined by the model
  uint32_t type : 4;     // what happens; defined by the model (at most 16 kinds)
  uint32_t seq;          // scheduling order; breaks ties between equal times (FIFO)
  double time;           // simulated seconds at which it happens
};
static_assert(sizeof(Event) == 16);

class Engine {
 public:
  static constexpr double kNever = std::numeric_limits<double>::infinity();
  static constexpr uint32_t kMaxType = 15, kMaxTarget = (1u << 28) - 1;

  Engine() { grow(64); }

  // Current simulated time in seconds; starts at 0 and never decreases.
  double now() const { return now_; }
  // Events handed to a handler so far.
  uint64_t processed() const { return processed_; }
  bool empty() const { return size_ == (vacant_ ? 1u : 0u); }
  // Time of the next event, or kNever when none is pending. Not from inside a handler.
  double peek() const {
    assert(!vacant_);
    return slots_[kRoot].time;  // the sentinel's kNever when empty
  }

  // Schedules an event `delay` seconds from now.
  // REQUIRES: delay >= 0 (a model that schedules into the past is broken).
  void schedule(double delay, uint32_t type, uint32_t target = 0) {
    assert(delay >= 0 && "negative delay");
    push(now_ + delay, type, target);  // never -0.0: now() is not, and +0.0 + -0.0 is +0.0
  }
  // REQUIRES: time >= now(), type <= kMaxType, target <= kMaxTarget.
  void schedule_at(double time, uint32_t type, uint32_t target = 0) {
    push(time + 0.0, type, target);  // + 0.0: -0.0 is +0.0 (see key())
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
    if (size_ == 0) return false;
    const Event e = slots_[kRoot];
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
    while (!stopped_ && size_ != 0 && slots_[kRoot].time < until) step(handler);
    if (!stopped_ && until != kNever && until > now_) now_ = until;
  }

  // Empties the queue and rewinds the clock, keeping the queue's capacity.
  void reset() {
    size_ = 0;
    slots_[kRoot] = kSentinel;
    vacant_ = false;
    now_ = 0;
    seq_ = 0;
    processed_ = 0;
    stopped_ = false;
  }

 private:
  friend struct EngineTestAccess;
  // The heap is 1-based (slot 0 unused) in a cache-line-aligned array, so an event's two
  // children, slots 2i and 2i + 1, share one line: each level of a sift is one line. The
  // slot after the last event holds a sentinel later than any event, so a sift picks the
  // earlier child without checking that the second one exists.
  static constexpr size_t kRoot = 1;
  static constexpr uint32_t kLastSeq = UINT32_MAX;  // never given: the sentinel's
  static constexpr Event kSentinel{0, 0, kLastSeq, kNever};

  // The order on (time, sequence number) as one unsigned 128-bit comparison, with no
  // branch and no floating-point compare: the event's 16 bytes read as one little-endian
  // integer are the time's bits above the sequence number above the type and target (which
  // never decide: sequence numbers are unique). The bits of a non-negative double order as
  // its value does; schedule_at() turns -0.0 into +0.0 (a NaN time is a broken model, as a
  // negative one is). The sift compares the same two words, the time's first.
  __extension__ using Key = unsigned __int128;  // GCC's and Clang's; __extension__: not ISO
  static_assert(std::endian::native == std::endian::little);
  static Key key(const Event& e) {
    Key k;
    std::memcpy(&k, &e, sizeof k);
    return k;
  }
  static bool before(const Event& a, const Event& b) { return key(a) < key(b); }

  // schedule_at() without its -0.0 step. REQUIRES: time is not -0.0.
  void push(double time, uint32_t type, uint32_t target) {
    assert(time >= now_ && "event scheduled in the past");
    assert(type <= kMaxType && target <= kMaxTarget);
    if (seq_ == kLastSeq) renumber();
    const Event e{target, type, seq_++, time};
    if (vacant_) {  // the first event a handler schedules takes the popped event's place
      vacant_ = false;
      sift_down(e);
      return;
    }
    if (size_ + 2 >= capacity_) grow(2 * capacity_);
    ++size_;
    slots_[size_ + 1] = kSentinel;  // e's slot is the old sentinel's
    sift_up(size_, e);
  }
  void sift_up(size_t i, const Event& e) {
    while (i > kRoot) {
      const size_t parent = i / 2;
      if (!before(e, slots_[parent])) break;
      slots_[i] = slots_[parent];
      i = parent;
    }
    slots_[i] = e;
  }
  // Puts e at the root, in place of the event there, and restores heap order. The walk
  // keeps byte offsets; each level's chain is a load of the two children's times, a
  // compare and a select (see earlier_child). Times rarely tie, so sequence numbers (the
  // low word, see key()) are read only when they do.
  void sift_down(const Event& e) {
    char* const base = reinterpret_cast<char*>(slots_.get());
    const size_t last = size_ * sizeof(Event);  // the last event's offset
    const char* const pe = reinterpret_cast<const char*>(&e);
    const uint64_t e_low = word(pe), e_time = word(pe + 8);
    size_t hole = kRoot * sizeof(Event);
    for (;;) {
      const size_t left = 2 * hole;
      if (left > last) break;
      uint64_t time;
      const size_t child = earlier_child(base, left, time);  // base + last + 16: the sentinel
      if (time >= e_time && (time != e_time || word(base + child) >= e_low)) break;  // e first
      std::memcpy(base + hole, base + child, sizeof(Event));
      hole = child;
    }
    std::memcpy(base + hole, &e, sizeof(Event));
  }
  static uint64_t word(const char* p) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  }
  // Of the two events at byte offsets left and left + 16, the earlier's offset, and its
  // time's bits in `time`. The pick is a coin toss, so it must not be a branch
  // (mispredicted half the time); on x86-64 it is two conditional moves after a compare,
  // which compilers emit neither for the ternary (a branch) nor for the sum (a flag set, a
  // shift and an add before the next level's load: two cycles more a level).
  static size_t earlier_child(const char* base, size_t left, uint64_t& time) {
    const size_t right = left + sizeof(Event);
    uint64_t tl = word(base + left + 8), tr = word(base + right + 8);
    if (tl == tr) [[unlikely]] {  // tied times: the lower sequence number first
      time = tl;
      return word(base + right) < word(base + left) ? right : left;
    }
#if defined(__x86_64__) && !defined(CANARYSIM_PORTABLE_SIFT)
    size_t child = left;
    // Every output is written before the last input is read: early-clobber ("&").
    asm("cmpq %[tl], %[tr]\n\t"  // right < left, as tr - tl borrows
        "cmovbq %[right], %[child]\n\t"
        "cmovbq %[tr], %[tl]"
        : [child] "+&r"(child), [tl] "+&r"(tl)
        : [tr] "r"(tr), [right] "r"(right)
        : "cc");
    time = tl;
    return child;
#else
    const bool right_first = tr < tl;
    time = right_first ? tr : tl;
    return left + (sizeof(Event) & (size_t{0} - right_first));
#endif
  }
  void remove_root() {
    const Event last = slots_[size_];
    slots_[size_] = kSentinel;
    if (--size_ != 0) sift_down(last);
  }
  // Sequence numbers are 32 bits, so that an event is 16 bytes. When they run out (after
  // 4 billion events in one run), the pending events are numbered again from 0 in their
  // order; a sorted array is a heap, so the order of every event, pending and to come, is
  // unchanged. (Inside a handler the root is the event being handled: the earliest, so it
  // stays at the root.)
  // Out of line and cold (as grow() is), so that schedule_at() stays small enough to inline.
  [[gnu::noinline, gnu::cold]] void renumber() {
    std::sort(slots_.get() + kRoot, slots_.get() + kRoot + size_,
              [](const Event& a, const Event& b) { return before(a, b); });
    for (size_t i = 0; i < size_; ++i) slots_[kRoot + i].seq = static_cast<uint32_t>(i);
    seq_ = static_cast<uint32_t>(size_);
  }

  // Room for `capacity` slots, aligned to a cache line (operator new aligns to 16 bytes
  // only), the slots in use copied over.
  [[gnu::noinline, gnu::cold]] void grow(size_t capacity) {
    Slots fresh(static_cast<Event*>(::operator new(capacity * sizeof(Event), std::align_val_t{64})));
    if (slots_) std::copy(slots_.get(), slots_.get() + size_ + 2, fresh.get());
    else fresh[kRoot] = kSentinel;
    slots_ = std::move(fresh);
    capacity_ = capacity;
  }
  struct AlignedDelete {
    void operator()(Event* p) const { ::operator delete(p, std::align_val_t{64}); }
  };
  using Slots = std::unique_ptr<Event[], AlignedDelete>;

  Slots slots_;  // slot 0 unused, the events from kRoot, then the sentinel
  size_t size_ = 0, capacity_ = 0;  // events in the heap (the vacant root included); slots
  double now_ = 0;
  uint32_t seq_ = 0;
  uint64_t processed_ = 0;
  bool stopped_ = false;
  bool vacant_ = false;  // inside step(): the root holds the event being handled
};

}  // namespace canarysim
