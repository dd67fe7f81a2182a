#include "sim/study/sweep.h"

#include "sim/study/limits.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "sim/io/config.h"
#include "sim/io/schema.h"
#include "sim/model/random.h"
#include "sim/model/run.h"

namespace canarysim {

namespace {

// "file:12:3: key: rest" -> "key: rest", when the message starts with `file`.
std::string without_location(const std::string& message, const std::string& file) {
  if (file.empty() || message.rfind(file, 0) != 0) return message;
  size_t at = file.size();
  while (at < message.size() && (message[at] == ':' || std::isdigit(static_cast<unsigned char>(message[at])))) ++at;
  return message.substr(at < message.size() && message[at] == ' ' ? at + 1 : at);
}

}  // namespace

Variants::Variants(const std::string& scenario_file, const std::string& policy_file)
    : scenario_(ConfigMap::parse_file(scenario_file)), policy_(scenario_) {
  parse_scenario(scenario_);  // reports a bad base file where it is
  if (!policy_file.empty()) {
    policy_ = ConfigMap::parse_file(policy_file);
  } else if (scenario_.is_map("policy")) {
    policy_ = scenario_.map("policy");
  } else if (scenario_.has("policy")) {
    policy_ = ConfigMap::parse_file(scenario_.file_path("policy"));
  } else {
    scenario_.fail("policy", "a policy (in the scenario, or named by the sweep's `policy`)");
  }
  parse_policy(policy_);
}

Scenario Variants::make(const std::vector<ConfigMap::Override>& overrides) const {
  std::vector<ConfigMap::Override> to_scenario, to_policy;
  for (const auto& [path, value] : overrides) {
    if (path.rfind("scenario.", 0) == 0) to_scenario.emplace_back(path.substr(9), value);
    else if (path.rfind("policy.", 0) == 0) to_policy.emplace_back(path.substr(7), value);
    else throw InputError("'" + path + "' must start with 'scenario.' or 'policy.'");
  }
  const ConfigMap s = scenario_.with(to_scenario);
  Scenario scenario;
  try {
    scenario = parse_scenario(s);
  } catch (const InputError& e) {
    // The override's value has no line of its own in the base file: drop the location.
    throw InputError(without_location(without_location(e.what(), s.file()), policy_.file()));
  }
  return attach_policy(std::move(scenario), to_policy);
}

Scenario Variants::with_policy(const Scenario& built, const std::vector<ConfigMap::Override>& overrides) const {
  std::vector<ConfigMap::Override> to_policy;
  for (const auto& [path, value] : overrides) {
    if (path.rfind("policy.", 0) != 0) throw InputError("'" + path + "' must start with 'policy.'");
    to_policy.emplace_back(path.substr(7), value);
  }
  return attach_policy(built, to_policy);
}

Scenario Variants::attach_policy(Scenario scenario, const std::vector<ConfigMap::Override>& to_policy) const {
  const ConfigMap p = policy_.with(to_policy);
  try {
    scenario.policy = parse_policy(p);
    check_policy_segments(scenario, *scenario.policy);
    check_work(scenario, *scenario.policy, 1, 1);  // before any point runs
    return scenario;
  } catch (const InputError& e) {
    throw InputError(without_location(without_location(e.what(), scenario_.file()), p.file()));
  }
}

namespace {

}  // namespace

std::optional<Quantity> parse_quantity(const std::string& text) {
  if (!text.empty() && text.back() == '%') {
    if (auto f = parse_fraction(text)) return Quantity{Quantity::Unit::kPercent, *f};
    return std::nullopt;
  }
  if (auto f = parse_fraction(text)) return Quantity{Quantity::Unit::kNumber, *f};  // "0.02", "3"
  if (auto d = parse_duration(text)) return Quantity{Quantity::Unit::kDuration, *d};
  return std::nullopt;
}

std::string format_quantity(const Quantity& q) {
  char buf[64];
  switch (q.unit) {
    case Quantity::Unit::kDuration: return format_duration(q.value);
    case Quantity::Unit::kPercent: std::snprintf(buf, sizeof buf, "%.4g%%", 100 * q.value); return buf;
    case Quantity::Unit::kNumber: break;
  }
  std::snprintf(buf, sizeof buf, "%.6g", q.value);
  return buf;
}

namespace {
using namespace schema;
const Section kSweep{"sweep", "(top level)", "A sweep: fields of a scenario and policy varied, every point run on the same seeds (docs/sweeps.md). Exactly one of grid, points or random.", {
    {"name", kText, "the file's name", "", "the sweep's name"},
    {"description", kText, "(none)", "", "free text for people"},
    {"scenario", kFile, "", "", "the base scenario, relative to this file"},
    {"policy", kFile, "the scenario's", "", "the base policy"},
    {"runs", kCount, "200", "[1, 10^8]", "runs per point"},
    {"seed", kCount, "1", "[0, 2^64)", "seed of every point (common random numbers)"},
    {"grid", kMap, "(none)", "", "FIELD: [values]: every combination, the first field slowest"},
    {"points", kList, "(none)", "", "a list of {FIELD: value, ...}"},
    {"random", kMap, "(none)", "", "random points: section random"},
}};
const Section kRandom{"sweep", "random", "Points drawn at random from ranges.", {
    {"samples", kCount, "", "[1, 10^6]", "how many points"},
    {"seed", kCount, "the sweep's seed", "[0, 2^64)", "seed of the draws"},
    {"fields", kMap, "", "", "FIELD: a range, section random.fields.FIELD"},
}};
const Section kSampler{"sweep", "random.fields.FIELD", "A field's range (tune's parameters take the same form).", {
    {"min", kText, "(none)", "", "lowest value, in the field's unit (5m, 2%, 3)"},
    {"max", kText, "(none)", "same unit as min", "highest value"},
    {"scale", kText, "linear", "linear, log", "how values are spread between min and max"},
    {"choices", kAny, "(none)", "", "instead of min and max: a list of values to pick from"},
}};
}  // namespace

FieldSampler::FieldSampler(const ConfigMap& spec, const std::string& name) {
  const ConfigMap m = spec.map(name);
  m.allow(kSampler);
  if (m.has("choices")) {
    choices_ = m.yaml_items("choices");
    return;
  }
  const std::string lo_text = m.text("min"), hi_text = m.text("max");
  const auto lo = parse_quantity(lo_text), hi = parse_quantity(hi_text);
  if (!lo) m.fail("min", "a number, a duration like '5m' or a percentage like '2%'");
  if (!hi || hi->unit != lo->unit) m.fail("max", "a value written in the same unit as min ('" + lo_text + "')");
  unit_ = lo->unit;
  lo_ = lo->value;
  hi_ = hi->value;
  // Whole numbers written without a point or exponent sample whole numbers.
  integer_ = unit_ == Quantity::Unit::kNumber && lo_text.find_first_of(".eE") == std::string::npos &&
             hi_text.find_first_of(".eE") == std::string::npos;
  if (!(hi_ > lo_)) m.fail("max", "a value above min");
  const std::string scale = m.text("scale", "linear");
  if (scale != "linear" && scale != "log") m.fail("scale", "linear or log");
  log_ = scale == "log";
  if (log_ && lo_ <= 0) m.fail("min", "a value above 0 for scale: log");
}

std::string FieldSampler::draw(Rng& rng) const {
  if (!choices_.empty()) return choices_[rng.below(choices_.size())];
  // Whole numbers: every value in [min, max] (log: [min, max + 1) on a log scale).
  const double top = integer_ ? hi_ + 1 : hi_;
  const double u = rng.uniform();
  const double x = log_ ? std::exp(std::log(lo_) + u * (std::log(top) - std::log(lo_))) : lo_ + u * (top - lo_);
  if (integer_) return std::to_string(static_cast<long long>(std::min(std::floor(x), hi_)));
  if (unit_ == Quantity::Unit::kDuration) return format_duration(std::max(1.0, std::round(x)));  // whole seconds
  // Three significant digits: as precise as a person would write a threshold.
  const double digits = std::pow(10, std::floor(std::log10(std::abs(x))) - 2);
  return format_quantity({unit_, x == 0 ? 0 : std::round(x / digits) * digits});
}

namespace {

std::string hex(uint64_t x) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

uint64_t fnv(uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return (h ^ 0xff) * 0x100000001b3ULL;  // a separator, so ("ab","c") != ("a","bc")
}

}  // namespace

const std::vector<std::string>& sweep_keys() {
  static const std::vector<std::string> keys = kSweep.keys();
  return keys;
}

// Points a sweep may hold, however written: each is a scenario built (about 0.5 ms) and
// kept (about 4 KB) before the first run, so 100,000 take a minute and 400 MB; a million
// would take 4 GB before any run.
constexpr uint64_t kMaxPoints = 100000;

// A count too large for an integer type, written whole while a double holds it exactly.
std::string count_text(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, x < 1e15 ? "%.0f" : "%.3g", x);
  return buf;
}

Sweep load_sweep(const std::string& path) {
  const ConfigMap m = ConfigMap::parse_file(path);
  m.allow(kSweep);
  Sweep sw;
  Manifest& mf = sw.manifest;
  mf.sweep_file = path;
  mf.sweep_text = m.dump();
  mf.name = m.text("name", std::filesystem::path(path).stem().string());
  mf.runs = m.count("runs", 200, 1, 100000000);
  mf.seed = m.count("seed", 1, 0, UINT64_MAX);
  const Variants base(m.file_path("scenario"),
                      m.has("policy") ? m.file_path("policy") : std::string());

  const int kinds = m.has("grid") + m.has("points") + m.has("random");
  if (kinds != 1) m.fail(kinds ? "points" : "grid", "exactly one of grid, points or random");

  // Each point: its values in field order, and where in the sweep file to blame.
  std::vector<std::vector<std::string>> values;
  std::vector<ConfigMap> blame;  // the mapping whose keys are the point's fields (one for a grid)
  // Points built first, so that a bad value is reported at once: for a grid, those that
  // vary one field from the first point (a value late in a long list is otherwise found
  // only after every point before it is built, up to a minute).
  std::vector<size_t> first;
  if (m.has("grid")) {
    const ConfigMap g = m.map("grid");
    sw.fields = g.keys();
    if (sw.fields.empty()) m.fail("grid", "at least one field with a list of values");
    // The product is checked before it is made: a few long lists multiply past memory.
    std::vector<std::vector<std::string>> lists;
    double product = 1;
    std::string factors;
    for (const std::string& f : sw.fields) {
      lists.push_back(g.yaml_items(f));
      product *= static_cast<double>(lists.back().size());
      factors += (factors.empty() ? "" : " x ") + std::to_string(lists.back().size());
    }
    if (product > kMaxPoints)
      m.reject("grid", "a sweep holds at most " + std::to_string(kMaxPoints) + " points; this grid makes " + factors +
                           " = " + count_text(product) + " (sample it with random: instead, or split it)");
    values.push_back({});
    for (const std::vector<std::string>& list : lists) {
      std::vector<std::vector<std::string>> next;
      for (const auto& prefix : values)
        for (const std::string& v : list) {
          next.push_back(prefix);
          next.back().push_back(v);
        }
      values = std::move(next);
    }
    // The first field varies slowest: item i of field k is point i * (the later lists' product).
    // (yaml_items refuses an empty list, so no size is 0.)
    size_t stride = values.size();
    for (const std::vector<std::string>& list : lists) {
      stride /= list.size();
      for (size_t i = 0; i < list.size(); ++i) first.push_back(i * stride);
    }
    blame.push_back(g);
  } else if (m.has("points")) {
    const std::vector<ConfigMap> list = m.maps("points");
    if (list.empty()) m.fail("points", "a non-empty list of mappings from fields to values");
    sw.fields = list[0].keys();
    for (const ConfigMap& p : list) {
      if (p.keys() != sw.fields)
        p.reject(p.keys().empty() ? "" : p.keys().front(),
                 "every point sets the same fields in the same order as the first (" +
                     [&] { std::string s; for (const auto& f : sw.fields) s += (s.empty() ? "" : ", ") + f; return s; }() + ")");
      values.push_back({});
      for (const std::string& f : sw.fields) values.back().push_back(p.yaml(f));
      blame.push_back(p);
    }
  } else {
    const ConfigMap r = m.map("random");
    r.allow(kRandom);
    const uint64_t samples = r.count("samples", 0, 1, kMaxPoints);
    const ConfigMap spec = r.map("fields");
    sw.fields = spec.keys();
    if (sw.fields.empty()) r.fail("fields", "at least one field");
    std::vector<FieldSampler> fields;
    for (const std::string& f : sw.fields) fields.emplace_back(spec, f);
    Rng rng(r.count("seed", mf.seed, 0, UINT64_MAX), 0, Stream::kSamples);
    for (uint64_t i = 0; i < samples; ++i) {
      values.push_back({});
      for (const FieldSampler& f : fields) values.back().push_back(f.draw(rng));
      blame.push_back(spec);
    }
  }

  uint64_t h = fnv(0xcbf29ce484222325ULL, CANARYSIM_VERSION);
  h = fnv(h, std::to_string(mf.seed) + "/" + std::to_string(mf.runs));
  // Labels name each field without its scenario./policy. prefix, unless two fields would
  // then read alike (scenario.x and policy.x): those keep the prefix.
  std::vector<std::string> names;
  for (const std::string& f : sw.fields) names.push_back(f.substr(f.find('.') + 1));
  for (size_t k = 0; k < names.size(); ++k)
    if (std::count(names.begin(), names.end(), names[k]) > 1 || names[k].empty()) names[k] = sw.fields[k];
  const auto make_point = [&](size_t i) {
    std::vector<ConfigMap::Override> overrides;
    std::string label;
    for (size_t k = 0; k < sw.fields.size(); ++k) {
      overrides.emplace_back(sw.fields[k], values[i][k]);
      label += (label.empty() ? "" : ", ") + names[k] + "=" + values[i][k];
    }
    SweepPoint point{label, values[i], {}};
    try {
      point.scenario = base.make(overrides);
    } catch (const InputError& e) {
      // Blame the field whose value fails on its own, else the first.
      size_t k = 0;
      std::string why = e.what();
      for (size_t j = 0; j < overrides.size(); ++j) {
        try {
          base.make({overrides[j]});
        } catch (const InputError& alone) {
          k = j, why = alone.what();
          break;
        }
      }
      blame[std::min(i, blame.size() - 1)].reject(sw.fields[k], "point " + std::to_string(i) + " (" + label + "): " + why);
    }
    return point;
  };
  for (const size_t i : first) make_point(i);
  for (size_t i = 0; i < values.size(); ++i) {
    SweepPoint point = make_point(i);
    h = fnv(fnv(h, point.scenario.source), point.scenario.policy->source);
    sw.points.push_back(std::move(point));
  }

  mf.scenario_text = base.scenario_text();
  mf.policy_text = base.policy_text();
  mf.points = sw.points.size();
  mf.fingerprint = hex(h);
  return sw;
}

std::vector<std::string> sweep_warnings(const Sweep& sw) {
  std::vector<ScenarioVariant> variants;
  for (const SweepPoint& p : sw.points) variants.push_back({p.label, &p.scenario});
  return grouped_warnings(variants, "points");
}

SweepReport run_sweep(const Sweep& sw, const std::string& db, const SweepOptions& o) {
  if (o.shards == 0 || o.shard == 0 || o.shard > o.shards)
    throw InputError("--shard " + std::to_string(o.shard) + "/" + std::to_string(o.shards) +
                     ": expected K/N with 1 <= K <= N");
  Manifest manifest = sw.manifest;
  manifest.shard = o.shard;
  manifest.shards = o.shards;
  manifest.command_line = o.command_line;

  std::unique_ptr<ResultStore> store;
  if (o.resume && file_exists(db)) {
    store = ResultStore::open(db);
    const Manifest& old = store->manifest();
    if (old.version != manifest.version)
      throw InputError(db + ": written by canarysim " + old.version + ", this is " + manifest.version +
                       "; results of two versions are not mixed");
    if (old.fingerprint != manifest.fingerprint)
      throw InputError(db + ": holds sweep '" + old.name + "' (fingerprint " + old.fingerprint + "), not " +
                       sw.manifest.sweep_file + " as it is now (" + manifest.fingerprint + ")");
    if (old.shard != o.shard || old.shards != o.shards)
      throw InputError(db + ": holds shard " + std::to_string(old.shard) + "/" + std::to_string(old.shards) +
                       ", not " + std::to_string(o.shard) + "/" + std::to_string(o.shards));
  } else {
    std::vector<PointRecord> records;
    for (const SweepPoint& p : sw.points)
      records.push_back({p.label, p.scenario.source, p.scenario.policy->source, p.values});
    store = ResultStore::create(db, manifest, sw.fields, records);
  }

  // The runs of this shard not yet in the store, in (point, run) order.
  SweepReport report;
  std::vector<std::pair<uint64_t, uint64_t>> todo;
  {
    const auto done = store->finished();
    size_t d = 0;
    for (uint64_t p = 0; p < sw.points.size(); ++p)
      for (uint64_t r = 0; r < sw.manifest.runs; ++r) {
        if (!in_shard(p, r, sw.manifest.runs, o.shard, o.shards)) continue;
        ++report.share;
        while (d < done.size() && done[d] < std::make_pair(p, r)) ++d;
        if (d < done.size() && done[d] == std::make_pair(p, r)) ++report.present;
        else todo.emplace_back(p, r);
      }
  }

  // Workers run; this thread commits what they finish, every commit_interval_s.
  const auto start = std::chrono::steady_clock::now();
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::condition_variable finished_cv;
  std::vector<std::pair<uint64_t, RunResult>> pending;
  unsigned running = 0;
  std::exception_ptr failure;
  auto work = [&] {
    try {
      std::unique_ptr<Simulator> sim;
      uint64_t sim_point = UINT64_MAX;
      for (size_t i; !interrupt_flag().load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < todo.size();) {
        const auto [p, r] = todo[i];
        const Scenario& s = sw.points[p].scenario;
        if (p != sim_point) sim = std::make_unique<Simulator>(s, *s.policy), sim_point = p;
        RunResult result = sim->run(sw.manifest.seed, r);
        std::lock_guard lock(mutex);
        pending.emplace_back(p, std::move(result));
      }
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!failure) failure = std::current_exception();
      next = todo.size();
    }
    std::lock_guard lock(mutex);
    --running;
    finished_cv.notify_all();
  };
  const unsigned n = static_cast<unsigned>(std::min<size_t>(clamp_threads(o.threads), std::max<size_t>(1, todo.size())));
  std::vector<std::thread> pool;
  running = n;
  start_threads(pool, n, work, [&] { next = todo.size(); });
  const auto interval = std::chrono::duration<double>(o.commit_interval_s);
  for (bool last = false; !last;) {
    std::vector<std::pair<uint64_t, RunResult>> batch;
    {
      std::unique_lock lock(mutex);
      finished_cv.wait_for(lock, interval, [&] { return running == 0; });
      last = running == 0;
      batch.swap(pending);
    }
    if (!batch.empty()) {
      try {
        store->insert(batch);
      } catch (...) {
        next = todo.size();  // stop the workers, then report
        for (std::thread& t : pool) t.join();
        throw;
      }
      report.ran += batch.size();
      if (o.progress) o.progress(report.ran, todo.size());
    }
  }
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  if (report.ran < todo.size() && interrupt_flag())
    throw Interrupted("interrupted: " + std::to_string(report.ran) + " of " + std::to_string(todo.size()) +
                      " runs stored in " + db + " (with " + std::to_string(report.present) +
                      " stored before); --resume runs the rest");
  report.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (o.shards == 1) report.summaries = store->write_summaries();
  return report;
}

}  // namespace canarysim
