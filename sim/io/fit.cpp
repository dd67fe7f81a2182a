#include "sim/io/fit.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>

#include "sim/io/config.h"

namespace canarysim {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Series {
  std::map<std::string, std::string> labels;
  std::vector<std::pair<double, double>> samples;  // (unix time, value), NaN skipped
};

struct Result {
  std::string file, type;  // type: matrix or vector
  std::vector<Series> series;
  size_t nan = 0;  // samples skipped
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string fmt(double x, const char* spec = "%.6g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, x);
  return buf;
}

// Seconds to the millisecond, as a duration a scenario reads back exactly: "300s", "0.5s".
std::string seconds_text(double s) {
  std::string t = fmt(s, "%.3f");
  while (t.back() == '0') t.pop_back();
  if (t.back() == '.') t.pop_back();
  return t + "s";
}

// One sample value as Prometheus writes it: a string holding a number, NaN or +-Inf.
bool sample_value(const YAML::Node& v, double& out) {
  if (!v.IsScalar()) throw InputError("a sample value must be a string like \"12.5\"");
  const std::string s = v.Scalar();
  if (s == "NaN") return false;
  if (s == "+Inf") out = kInf;
  else if (s == "-Inf") out = -kInf;
  else {
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') throw InputError("'" + s + "' is not a sample value");
  }
  return true;
}

Result read_result_nodes(const std::string& path);

// Every yaml-cpp surprise (a node of another type than the API's) becomes an InputError
// naming the file.
Result read_result(const std::string& path) {
  try {
    return read_result_nodes(path);
  } catch (const YAML::Exception& e) {
    throw InputError(path + ": not a Prometheus API response (" + e.msg + ")");
  }
}

Result read_result_nodes(const std::string& path) {
  if (!std::filesystem::exists(path)) throw MissingFileError(path + ": no such file");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw InputError(path + ":" + std::to_string(e.mark.line + 1) + ": not a Prometheus API response (" + e.msg + ")");
  }
  const std::string where = path + ": ";
  if (!root.IsMap() || !root["status"])
    throw InputError(where + "expected a Prometheus HTTP API response: {\"status\": \"success\", \"data\": {...}}");
  if (root["status"].as<std::string>("") != "success")
    throw InputError(where + "the query failed: " + root["error"].as<std::string>("(no error message)"));
  if (!root["data"]) throw InputError(where + "a response without data");
  Result r;
  r.file = path;
  r.type = root["data"]["resultType"].as<std::string>("");
  if (r.type != "matrix" && r.type != "vector")
    throw InputError(where + "resultType '" + r.type + "'; expected matrix (query_range) or vector (query)");
  const YAML::Node result = root["data"]["result"];
  if (!result || !result.IsSequence()) throw InputError(where + "data.result: expected a list of series");
  for (size_t i = 0; i < result.size(); ++i) {
    const std::string at = where + "data.result[" + std::to_string(i) + "]: ";
    Series s;
    if (!result[i].IsMap()) throw InputError(at + "expected a series: {\"metric\": {...}, \"values\": [...]}");
    if (result[i]["metric"] && result[i]["metric"].IsMap())
      for (const auto& kv : result[i]["metric"]) s.labels[kv.first.Scalar()] = kv.second.Scalar();
    auto add = [&](const YAML::Node& pair, size_t k) {
      if (!pair.IsSequence() || pair.size() != 2)
        throw InputError(at + "sample " + std::to_string(k) + ": expected [time, \"value\"]");
      double v = 0;
      try {
        if (!sample_value(pair[1], v)) {
          ++r.nan;
          return;
        }
      } catch (const InputError& e) {
        throw InputError(at + "sample " + std::to_string(k) + ": " + e.what());
      }
      char* end = nullptr;
      const std::string ts = pair[0].IsScalar() ? pair[0].Scalar() : "";
      const double t = std::strtod(ts.c_str(), &end);
      if (ts.empty() || *end != '\0' || !std::isfinite(t))
        throw InputError(at + "sample " + std::to_string(k) + ": '" + ts + "' is not a time (Unix seconds)");
      s.samples.emplace_back(t, v);
    };
    if (r.type == "matrix") {
      const YAML::Node values = result[i]["values"];
      if (!values || !values.IsSequence()) throw InputError(at + "expected values: [[time, \"value\"], ...]");
      for (size_t k = 0; k < values.size(); ++k) add(values[k], k);
    } else {
      if (!result[i]["value"]) throw InputError(at + "expected value: [time, \"value\"]");
      add(result[i]["value"], 0);
    }
    r.series.push_back(std::move(s));
  }
  if (r.series.empty()) throw InputError(where + "no series (an empty result: check the query's selector and range)");
  return r;
}

// What a file holds: from a flag, a histogram's `le` label and its metric name, or the
// file's name.
std::string role_of(const Result& r, const std::map<std::string, std::string>& assigned) {
  for (const auto& [role, file] : assigned)
    if (file == r.file) return role;
  const bool histogram = std::any_of(r.series.begin(), r.series.end(), [](const Series& s) { return s.labels.count("le"); });
  std::string name = lower(std::filesystem::path(r.file).filename().string());
  const auto it = r.series.front().labels.find("__name__");
  if (it != r.series.front().labels.end()) name = lower(it->second) + " " + name;
  auto has = [&](std::initializer_list<const char*> words) {
    return std::any_of(words.begin(), words.end(), [&](const char* w) { return name.find(w) != std::string::npos; });
  };
  if (histogram) {
    if (has({"first_token", "ttft"})) return "ttft";
    if (has({"inter_token", "time_per_output_token", "itl", "tpot"})) return "itl";
    if (has({"e2e", "latency", "duration"})) return "latency";
  } else {
    if (has({"error", "fail"})) return "errors";
    if (has({"rate", "request", "rps", "qps", "throughput"})) return "rate";
  }
  throw InputError(r.file + ": cannot tell what it holds (" + (histogram ? "histogram buckets" : "a series") +
                   " named '" + name + "'); name it with --rate, --ttft, --itl, --latency or --errors");
}

struct Buckets {
  std::vector<double> le, count;  // cumulative, +Inf last
  bool repaired = false;          // counts made monotone, as histogram_quantile does
  size_t steps_dropped = 0;       // matrix steps missing a bucket (NaN or stale), left out
};

Buckets buckets_of(const Result& r) {
  // Per step, every bucket's count; a step missing any bucket is left out whole, so that
  // the buckets stay counts of the same observations.
  std::map<double, std::map<double, double>> steps;  // time -> le -> count
  std::set<double> bounds;
  for (const Series& s : r.series) {
    const auto it = s.labels.find("le");
    if (it == s.labels.end())
      throw InputError(r.file + ": a series without an le label among histogram buckets; expected "
                                "sum by (le) (...) of a _bucket family");
    double le = 0;
    char* end = nullptr;
    le = it->second == "+Inf" ? kInf : std::strtod(it->second.c_str(), &end);
    if (it->second != "+Inf" && (!end || *end != '\0' || !(le >= 0)))
      throw InputError(r.file + ": le '" + it->second + "' is not a bucket bound");
    bounds.insert(le);
    for (const auto& [t, v] : s.samples) steps[t][le] += v;
  }
  Buckets b;
  std::map<double, double> by_le;
  for (const auto& [t, counts] : steps) {
    if (counts.size() != bounds.size()) {
      ++b.steps_dropped;
      continue;
    }
    for (const auto& [le, c] : counts) by_le[le] += c;
  }
  for (const auto& [le, c] : by_le) {
    b.le.push_back(le);
    double count = c;
    if (!b.count.empty() && count < b.count.back()) {
      count = b.count.back();
      b.repaired = true;
    }
    b.count.push_back(count);
  }
  if (bounds.empty() || !std::isinf(*bounds.rbegin()))
    throw InputError(r.file + ": no +Inf bucket; expected every bucket of the histogram (sum by (le) keeps them)");
  if (b.count.empty() || !(b.count.back() > 0))
    throw InputError(r.file + ": the histogram counted no observations over the range");
  return b;
}

// Prometheus's histogram_quantile on cumulative buckets: linear within the bucket, 0
// below the first bound, the highest finite bound in the +Inf bucket.
double histogram_quantile(double q, const Buckets& b) {
  const double rank = q * b.count.back();
  for (size_t i = 0; i < b.le.size(); ++i) {
    if (b.count[i] >= rank) {
      if (std::isinf(b.le[i])) return i > 0 ? b.le[i - 1] : 0;
      const double lo = i == 0 ? 0 : b.le[i - 1], below = i == 0 ? 0 : b.count[i - 1];
      const double in = b.count[i] - below;
      return in > 0 ? lo + (b.le[i] - lo) * (rank - below) / in : b.le[i];
    }
  }
  return b.le.size() > 1 ? b.le[b.le.size() - 2] : 0;
}

std::string histogram_yaml(const Buckets& b) {
  std::string le, count;
  for (size_t i = 0; i < b.le.size(); ++i) {
    le += (i ? ", " : "") + (std::isinf(b.le[i]) ? std::string("+Inf") : fmt(b.le[i]));
    count += (i ? ", " : "") + fmt(b.count[i], "%.10g");
  }
  return "{histogram: {le: [" + le + "], count: [" + count + "]}}";
}

std::string describe(const Result& r) {
  size_t samples = 0;
  for (const Series& s : r.series) samples += s.samples.size();
  std::string name;
  const auto it = r.series.front().labels.find("__name__");
  if (it != r.series.front().labels.end()) name = it->second + ", ";
  return std::filesystem::path(r.file).filename().string() + " (" + name + r.type + ", " + std::to_string(r.series.size()) +
         " series, " + std::to_string(samples) + " samples" +
         (r.nan ? ", " + std::to_string(r.nan) + " NaN skipped" : std::string()) + ")";
}

}  // namespace

std::string fit_prometheus(const FitInputs& in, const std::string& name) {
  std::vector<std::string> files = in.files;
  for (const auto& [role, file] : in.assigned) files.push_back(file);
  if (files.empty()) throw InputError("fit prometheus: no files; expected Prometheus API responses (docs/fit.md)");
  std::map<std::string, Result> by_role;
  for (const std::string& f : files) {
    Result r = read_result(f);
    const std::string role = role_of(r, in.assigned);
    if (by_role.count(role))
      throw InputError(f + ": a second " + role + " series (the first is " + by_role.at(role).file + ")");
    by_role.emplace(role, std::move(r));
  }

  std::string head = "# Fitted by `canarysim fit prometheus` from Prometheus API exports:\n";
  std::string traffic, baseline, notes;
  double horizon = 0;
  if (by_role.count("rate")) {
    const Result& r = by_role.at("rate");
    head += "#   rate: " + describe(r) + "\n";
    std::map<double, double> total;  // unix time -> requests/s, series summed
    for (const Series& s : r.series)
      for (const auto& [t, v] : s.samples) {
        if (!std::isfinite(v) || v < 0 || v > 1e6)
          throw InputError(r.file + ": a request rate of " + fmt(v) + " at " + fmt(t, "%.3f") +
                           "; expected requests per second from 0 to 1,000,000");
        total[t] += v;
      }
    if (total.empty()) throw InputError(r.file + ": every sample is NaN; no rate to fit");
    for (const auto& [t, v] : total)
      if (v <= 0)
        throw InputError(r.file + ": no requests at " + fmt(t, "%.3f") +
                         " (0/s); a schedule needs a positive rate in every piece: narrow the range to when the "
                         "service had traffic");
    const double t0 = total.begin()->first;
    if (total.size() == 1) {
      traffic = "  rate: " + fmt(total.begin()->second, "%.6g") + "/s\n";
    } else {
      std::vector<double> gaps;
      for (auto it = std::next(total.begin()); it != total.end(); ++it) {
        gaps.push_back(it->first - std::prev(it)->first);
        if (gaps.back() < 1e-3)
          throw InputError(r.file + ": samples " + fmt(gaps.back()) + " s apart at " + fmt(it->first, "%.3f") +
                           "; expected a range query's steps (at least 1 ms)");
      }
      std::nth_element(gaps.begin(), gaps.begin() + static_cast<long>(gaps.size() / 2), gaps.end());
      const double step = gaps[gaps.size() / 2];
      horizon = total.rbegin()->first - t0 + step;
      horizon = std::ceil(horizon * 1000) / 1000;  // written to the millisecond
      if (horizon > 365 * 86400.0)
        throw InputError(r.file + ": the samples span " + format_duration(horizon) +
                         "; expected a range of at most 365 days (a scenario's longest horizon)");
      traffic = "  schedule:   # requests/s at each step of the range, from " + fmt(step, "%g") + " s steps\n";
      double last = -1;
      for (const auto& [t, v] : total) {
        if (v == last) continue;  // an unchanged rate needs no new piece
        traffic += "    - {at: " + seconds_text(t - t0) + ", rate: " + fmt(v, "%.6g") + "/s}\n";
        last = v;
      }
    }
  }
  auto histogram = [&](const char* role, const char* key, const char* what) {
    if (!by_role.count(role)) return;
    const Result& r = by_role.at(role);
    const Buckets b = buckets_of(r);
    head += std::string("#   ") + role + ": " + describe(r) + ", " + fmt(b.count.back(), "%.0f") + " observations\n";
    std::string q;
    for (double p : {0.5, 0.9, 0.99})
      q += std::string(q.empty() ? "" : ", ") + "p" + fmt(100 * p, "%g") + " " + format_duration(histogram_quantile(p, b));
    // Observations beyond the last finite bound are drawn at it: said here.
    const size_t n = b.le.size();
    if (n > 1 && b.count[n - 1] > b.count[n - 2])
      q += "; " + fmt(b.count[n - 1] - b.count[n - 2], "%.0f") + " observations above " +
           format_duration(b.le[n - 2]) + " (the +Inf bucket) are drawn at " + format_duration(b.le[n - 2]);
    const std::string line = std::string(what) + " as histogram_quantile reads the export: " + q +
                             (b.repaired ? " (counts made monotone, as histogram_quantile does)" : "") +
                             (b.steps_dropped ? "; " + std::to_string(b.steps_dropped) + " step(s) missing a bucket left out" : "");
    if (key) baseline += "  # " + line + "\n  " + key + ": " + histogram_yaml(b) + "\n";
    else notes += "# " + line + "\n";
  };
  histogram("ttft", "ttft", "time to first token");
  histogram("itl", "inter_token",
            "inter-token latency (each gap between tokens, drawn here as each request's mean: the spread of "
            "a request's mean is narrower)");
  histogram("latency", nullptr,
            "end-to-end latency, for comparison (canarysim computes it from time to first token and "
            "inter-token latency)");
  if (by_role.count("errors")) {
    const Result& r = by_role.at("errors");
    head += "#   errors: " + describe(r) + "\n";
    double sum = 0;
    size_t n = 0;
    for (const Series& s : r.series)
      for (const auto& [t, v] : s.samples) {
        if (!(v >= 0 && v <= 1))
          throw InputError(r.file + ": an error ratio of " + fmt(v) + " at " + fmt(t, "%.3f") +
                           "; expected a ratio in [0, 1] (divide errors by requests; not a percentage)");
        sum += v;
        ++n;
      }
    if (n == 0) throw InputError(r.file + ": every sample is NaN; no error ratio to fit");
    baseline += "  # the mean of " + std::to_string(n) + " samples of the error ratio\n  error_rate: " +
                fmt(100 * sum / static_cast<double>(n), "%.4g") + "%\n";
  }
  std::string out = head + notes + "name: " + name + "\n";
  if (horizon > 0) out += "horizon: " + seconds_text(horizon) + "\n";
  if (!traffic.empty()) out += "traffic:\n" + traffic;
  if (!baseline.empty()) out += "baseline:\n" + baseline;
  out += "canary: {}   # the release under study: what differs from the baseline\n";
  return out;
}

}  // namespace canarysim
