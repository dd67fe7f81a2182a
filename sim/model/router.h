// Splits traffic between baseline and canary by the canary weight, with sticky users and
// routing rules over user segments.
//
//   routing:
//     first: [internal]   # these segments meet the canary before any other
//     only: [eu, internal]  # the canary serves these segments only
//     always: [beta]      # these get the canary at any weight above 0 (a header or cookie
//                         # match, as Flagger's and Argo's header routes)
//
// Each user has a fixed position in [0, 1): a hash of the run's salt and the user id,
// placed within its segment's slice of the line. Segments in `first` take the start of
// the line, then the other eligible ones; a user goes to the canary when its position is
// below the weight. So the weight is the canary's share of eligible users, a user who got
// the canary keeps it at the same or any higher weight (sticky sessions), and at 2 % with
// `first: [internal]` and 2 % internal users, exactly the internal users see the canary.
// A rollback may drain: the weight then falls linearly to 0.
//
//   routing: {sticky: false}
//
// Not sticky: each request has its own position, from its own key (a hash that draws
// nothing from the run's streams), so a user's requests go to either version by the
// weight, as a mesh's or an ingress's weighted route sends them (Argo Rollouts, Flagger
// without sessionAffinity). The canary's share of eligible requests is the weight as
// before; a user meets the canary on any of their requests, so more users are exposed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/model/random.h"
#include "sim/model/traffic.h"

namespace canarysim {

class ConfigMap;

struct RoutingSpec {
  std::vector<std::string> first, only, always;
  bool sticky = true;
  static RoutingSpec parse(const ConfigMap& m, const std::vector<Segment>& segments);
};

class Router {
 public:
  // Fixes each segment's slice of the line; call once per scenario.
  void configure(const std::vector<Segment>& segments, const RoutingSpec& spec);
  // `salt` fixes every user's position for one run.
  void reset(uint64_t salt, double weight, double mirror = 0) {
    salt_ = salt;
    weight_ = weight;
    mirror_ = mirror;
    drain_start_ = -1;
  }
  // REQUIRES: 0 <= weight <= 1.
  void set_weight(double weight) { weight_ = weight; }
  // The share of baseline requests also sent to the canary as shadow traffic.
  void set_mirror(double share) { mirror_ = share; }
  double mirror() const { return drain_start_ < 0 ? mirror_ : 0; }
  // From `now`, the weight falls linearly to 0 over `drain_s` seconds (at once if 0).
  void drain(double now, double drain_s) {
    drain_start_ = now;
    drain_s_ = drain_s;
  }

  // The weight set by the policy (before any drain).
  double weight() const { return weight_; }
  // The canary weight for new requests at time t.
  double weight_at(double t) const {
    if (drain_start_ < 0) return weight_;
    return drain_s_ > 0 ? weight_ * std::max(0.0, 1 - (t - drain_start_) / drain_s_) : 0;
  }
  double position(uint64_t user) const { return to_unit(mix64(salt_ ^ user)); }
  // `request`: the request's own key (its position when not sticky).
  bool to_canary(uint64_t user, uint64_t request, uint32_t segment, double t) const {
    const Slice& s = slices_[segment];
    const double w = weight_at(t);
    if (s.always) return w > 0;
    const double at = sticky_ ? position(user) : to_unit(mix64(salt_ ^ request ^ 0x2545f4914f6cdd1dULL));
    return s.eligible && s.offset + s.scale * at < w;
  }
  bool sticky() const { return sticky_; }
  // The expected share of all users on the canary at weight w.
  double canary_share(double w) const;

 private:
  struct Slice {
    bool eligible = true, always = false;
    double offset = 0, scale = 1;  // the segment's part of [0, 1)
    double share = 1;              // of all users
  };
  std::vector<Slice> slices_ = std::vector<Slice>(1);  // one segment until configured
  uint64_t salt_ = 0;
  bool sticky_ = true;
  double weight_ = 0, mirror_ = 0;
  double drain_start_ = -1, drain_s_ = 0;  // drain_start_ >= 0 while draining
};

}  // namespace canarysim
