#include "sim/model/router.h"

#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {

namespace {
using namespace schema;
const Section kRouting{"scenario", "routing", "Which traffic segments the canary's share is taken from (names of traffic.segments), and whether users stick to a version.", {
    {"sticky", kFlag, "true", "true or false", "a user who reached the canary keeps it (sessions, cookies, consistent hashing); false: each request goes to a version by the weight, as Argo's and Flagger's weighted routes do"},
    {"first", kTexts, "none", "segment names", "these segments fill the canary's share first, in this order"},
    {"only", kTexts, "none", "segment names", "only these segments ever reach the canary"},
    {"always", kTexts, "none", "segment names", "these segments always reach the canary, whatever the weight"},
}};
}  // namespace

RoutingSpec RoutingSpec::parse(const ConfigMap& m, const std::vector<Segment>& segments) {
  m.allow(kRouting);
  RoutingSpec r;
  auto names = [&](const char* key) {
    std::vector<std::string> out = m.texts(key);
    for (size_t i = 0; i < out.size(); ++i) {
      const bool known = std::any_of(segments.begin(), segments.end(),
                                     [&](const Segment& s) { return s.name == out[i]; });
      if (!known) m.fail_item(key, i, "the name of a segment of traffic.segments");
    }
    return out;
  };
  r.first = names("first");
  r.only = names("only");
  r.always = names("always");
  r.sticky = m.flag("sticky", true);
  return r;
}

void Router::configure(const std::vector<Segment>& segments, const RoutingSpec& spec) {
  auto listed = [](const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  sticky_ = spec.sticky;
  slices_.assign(segments.size(), Slice{});
  // The line: `first` segments in their order, then the other eligible ones.
  std::vector<size_t> order;
  for (const std::string& name : spec.first)
    for (size_t i = 0; i < segments.size(); ++i)
      if (segments[i].name == name) order.push_back(i);
  for (size_t i = 0; i < segments.size(); ++i)
    if (!listed(spec.first, segments[i].name)) order.push_back(i);
  double total = 0;
  for (size_t i : order) {
    Slice& s = slices_[i];
    s.share = segments[i].share;
    s.always = listed(spec.always, segments[i].name);
    s.eligible = s.always || spec.only.empty() || listed(spec.only, segments[i].name);
    if (s.eligible && !s.always) total += s.share;
  }
  double offset = 0;
  for (size_t i : order) {
    Slice& s = slices_[i];
    if (!s.eligible || s.always || total <= 0) continue;
    s.offset = offset / total;
    s.scale = s.share / total;
    offset += s.share;
  }
}

double Router::canary_share(double w) const {
  double share = 0;
  for (const Slice& s : slices_) {
    if (s.always) share += w > 0 ? s.share : 0;
    else if (s.eligible && s.scale > 0) share += s.share * std::clamp((w - s.offset) / s.scale, 0.0, 1.0);
  }
  return share;
}

}  // namespace canarysim
