// Splits traffic between baseline and canary by the canary weight, with sticky users.
//
// Each user has a fixed position in [0, 1), a hash of the run's salt and the user id; a
// request goes to the canary when its user's position is below the weight in force. So
// a user who got the canary keeps getting it at the same or any higher weight (sticky
// sessions, as header- or cookie-based affinity gives), and the canary's share of users
// is the weight. A rollback may drain: the weight then falls linearly to 0.
#pragma once

#include <algorithm>
#include <cstdint>

#include "sim/random.h"

namespace canarysim {

class Router {
 public:
  // `salt` fixes every user's position for one run.
  void reset(uint64_t salt, double weight) {
    salt_ = salt;
    weight_ = weight;
    drain_start_ = -1;
  }
  // REQUIRES: 0 <= weight <= 1.
  void set_weight(double weight) { weight_ = weight; }
  // From `now`, the weight falls linearly to 0 over `drain_s` seconds (at once if 0).
  void drain(double now, double drain_s) {
    drain_start_ = now;
    drain_s_ = drain_s;
  }

  // The weight set by the policy (before any drain).
  double weight() const { return weight_; }
  // The canary share of new requests at time t.
  double weight_at(double t) const {
    if (drain_start_ < 0) return weight_;
    return drain_s_ > 0 ? weight_ * std::max(0.0, 1 - (t - drain_start_) / drain_s_) : 0;
  }
  double position(uint64_t user) const { return to_unit(mix64(salt_ ^ user)); }
  bool to_canary(uint64_t user, double t) const { return position(user) < weight_at(t); }

 private:
  uint64_t salt_ = 0;
  double weight_ = 0;
  double drain_start_ = -1, drain_s_ = 0;  // drain_start_ >= 0 while draining
};

}  // namespace canarysim
