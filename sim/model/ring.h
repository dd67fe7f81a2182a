// A double-ended queue in one power-of-two buffer: push and pop at both ends and indexing
// are a mask away, where std::deque indexes through a map of blocks (a division and a
// second load, and on a long queue a second cache miss). It grows by doubling and keeps
// its memory: meant for queues that are reused, run after run.
#pragma once

#include <cstddef>
#include <vector>

namespace canarysim {

template <class T>
class Ring {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return buf_[(head_ + i) & mask_]; }
  const T& operator[](size_t i) const { return buf_[(head_ + i) & mask_]; }
  T& front() { return buf_[head_]; }
  const T& front() const { return buf_[head_]; }
  const T& back() const { return (*this)[size_ - 1]; }

  void push_back(const T& x) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) & mask_] = x;
    ++size_;
  }
  void push_front(const T& x) {
    if (size_ == buf_.size()) grow();
    head_ = (head_ - 1) & mask_;
    buf_[head_] = x;
    ++size_;
  }
  // REQUIRES: !empty().
  void pop_front() {
    head_ = (head_ + 1) & mask_;
    --size_;
  }
  void clear() { head_ = size_ = 0; }

 private:
  void grow() {
    std::vector<T> bigger(buf_.empty() ? 16 : 2 * buf_.size());
    for (size_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
    buf_.swap(bigger);
    head_ = 0;
    mask_ = buf_.size() - 1;
  }

  std::vector<T> buf_;
  size_t head_ = 0, size_ = 0, mask_ = 0;
};

}  // namespace canarysim
