// canarysim._core: the C++ engine for Python. Glue only: conversions, the GIL, and the
// bridge that lets a Python object act as a policy. The public API is python/canarysim.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "policies/checks.h"
#include "policies/interop/export.h"
#include "policies/interop/import.h"
#include "policies/policy.h"
#include "sim/study/compare.h"
#include "sim/io/config.h"
#include "sim/io/progress.h"
#include "sim/io/report.h"
#include "sim/study/convergence.h"
#include "sim/study/limits.h"
#include "sim/model/run.h"
#include "sim/model/scenario.h"
#include "sim/study/store.h"
#include "sim/study/study.h"
#include "sim/study/sweep.h"
#include "sim/study/power.h"
#include "sim/study/tune.h"

namespace py = pybind11;
using namespace canarysim;

namespace {

// ---------------------------------------------------------------------------------
// Policies written in Python.

// Runs decide() of a per-run copy of the user's object, holding the GIL only for the call.
class PyPolicy final : public Policy {
 public:
  PyPolicy(py::object obj, double initial) : obj_(std::move(obj)), initial_(initial) {}
  ~PyPolicy() override {
    py::gil_scoped_acquire gil;
    obj_ = py::object();
  }
  double initial_weight() const override { return initial_; }
  Decision decide(const Observation& obs) override {
    py::gil_scoped_acquire gil;
    try {
      return obj_.attr("decide")(&obs).cast<Decision>();
    } catch (py::error_already_set& e) {
      // The exception and the frames inside the policy, without the C++ caller's noise.
      py::object tb = py::module_::import("traceback");
      const auto frames = py::str("").attr("join")(tb.attr("format_tb")(e.trace())).cast<std::string>();
      const std::string what = py::str(py::module_::import("traceback")
                                           .attr("format_exception_only")(e.type(), e.value())
                                           .attr("__getitem__")(-1))
                                   .cast<std::string>();
      throw std::runtime_error("Python policy failed in decide(): " + what + frames);
    } catch (const py::cast_error&) {
      throw std::runtime_error(
          "Python policy's decide() must return a canarysim.Decision (Decision.hold(), "
          "Decision.set_weight(w, reason), Decision.promote(reason) or "
          "Decision.rollback(reason, drain_s))");
    }
  }

 private:
  py::object obj_;
  double initial_;
};

class PyPolicyConfig final : public PolicyConfig {
 public:
  explicit PyPolicyConfig(py::object prototype) : prototype_(std::move(prototype)) {
    interval_ = prototype_.attr("interval").cast<double>();
    lookback_ = prototype_.attr("lookback").cast<double>();
    initial_ = prototype_.attr("initial_weight").cast<double>();
    name_ = py::str(prototype_.attr("__class__").attr("__name__"));
    if (!(interval_ > 0)) throw InputError(name_ + ".interval: expected a positive number of seconds");
    if (!(lookback_ > 0)) throw InputError(name_ + ".lookback: expected a positive number of seconds");
    if (!(initial_ >= 0 && initial_ <= 1))
      throw InputError(name_ + ".initial_weight: expected a weight in [0, 1]");
    source = "# Python policy " + name_;
  }
  ~PyPolicyConfig() override {
    py::gil_scoped_acquire gil;
    prototype_ = py::object();
  }
  std::string kind() const override { return "python:" + name_; }
  double interval_s() const override { return interval_; }
  double max_lookback_s() const override { return lookback_; }
  std::unique_ptr<Policy> make() const override {
    py::gil_scoped_acquire gil;  // each run gets a fresh copy: policies keep per-run state
    py::object copy = py::module_::import("copy").attr("deepcopy")(prototype_);
    return std::make_unique<PyPolicy>(std::move(copy), initial_);
  }

 private:
  py::object prototype_;
  double interval_ = 60, lookback_ = 60, initial_ = 0.01;
  std::string name_;
};

// A policy argument: a handle from load_policy/parse_policy, or a Python Policy object.
std::shared_ptr<const PolicyConfig> to_policy(const py::object& p) {
  if (py::isinstance<PolicyConfig>(p)) return p.cast<std::shared_ptr<const PolicyConfig>>();
  return std::make_shared<PyPolicyConfig>(p);
}

// ---------------------------------------------------------------------------------
// Results as columns of numpy arrays (pandas builds frames from them without copying).

template <class T, class F>
py::array_t<T> column(const std::vector<RunResult>& runs, F f) {
  py::array_t<T> a(static_cast<py::ssize_t>(runs.size()));
  auto m = a.template mutable_unchecked<1>();
  for (size_t i = 0; i < runs.size(); ++i) m(static_cast<py::ssize_t>(i)) = f(runs[i]);
  return a;
}

py::dict run_columns(const std::vector<RunResult>& runs) {
  py::dict d;
  d["run"] = column<int64_t>(runs, [](const RunResult& r) { return static_cast<int64_t>(r.run); });
  d["outcome_code"] = column<int8_t>(runs, [](const RunResult& r) { return static_cast<int8_t>(r.outcome); });
  d["regression_active"] = column<bool>(runs, [](const RunResult& r) { return r.regression_active; });
  d["decision_time_s"] = column<double>(runs, [](const RunResult& r) { return r.decision_time_s; });
  d["detection_time_s"] = column<double>(runs, [](const RunResult& r) { return r.detection_time_s; });
  d["time_to_mitigate_s"] = column<double>(runs, [](const RunResult& r) { return r.time_to_mitigate_s; });
  d["before_evidence"] = column<bool>(runs, [](const RunResult& r) { return r.before_evidence; });
  d["failed_requests"] = column<int64_t>(runs, [](const RunResult& r) { return static_cast<int64_t>(r.failed_requests); });
  d["blast_radius_requests"] = column<int64_t>(runs, [](const RunResult& r) { return static_cast<int64_t>(r.blast_radius_requests); });
  d["blast_radius_users"] = column<int64_t>(runs, [](const RunResult& r) { return static_cast<int64_t>(r.blast_radius_users); });
  d["rollout_duration_s"] = column<double>(runs, [](const RunResult& r) { return r.rollout_duration_s; });
  d["requests"] = column<int64_t>(runs, [](const RunResult& r) { return static_cast<int64_t>(r.requests); });
  d["canary_requests"] = column<int64_t>(runs, [](const RunResult& r) { return static_cast<int64_t>(r.canary_requests); });
  d["events"] = column<int64_t>(runs, [](const RunResult& r) { return static_cast<int64_t>(r.events); });
  d["baseline_replica_seconds"] = column<double>(runs, [](const RunResult& r) { return r.baseline_replica_seconds; });
  d["canary_replica_seconds"] = column<double>(runs, [](const RunResult& r) { return r.canary_replica_seconds; });
  d["baseline_tokens"] = column<int64_t>(runs, [](const RunResult& r) { return static_cast<int64_t>(r.baseline_tokens); });
  d["canary_tokens"] = column<int64_t>(runs, [](const RunResult& r) { return static_cast<int64_t>(r.canary_tokens); });
  d["baseline_cost"] = column<double>(runs, [](const RunResult& r) { return r.baseline_cost; });
  d["canary_cost"] = column<double>(runs, [](const RunResult& r) { return r.canary_cost; });
  d["gpu_hours"] = column<double>(runs, [](const RunResult& r) { return r.gpu_hours; });
  for (const RunCount& c : kRunCounts)
    d[c.name] = column<int64_t>(runs, [field = c.field](const RunResult& r) { return static_cast<int64_t>(r.*field); });
  return d;
}

// The summary by the one table's names (study.h), as `run --format json` has it: counts
// as ints, the rest as floats (NaN where a figure does not apply).
py::dict summary_dict(const Summary& s) {
  static const std::set<std::string> counts = [] {
    std::set<std::string> c = {"runs", "promoted", "rolled_back", "unfinished"};
    for (const SummaryRate& r : summary_rates()) c.insert(r.count);
    for (const SummaryStats& st : summary_stats()) c.insert(std::string(st.name) + "_count");
    return c;
  }();
  py::dict d;
  const std::vector<std::string> names = summary_field_names();
  const std::vector<double> values = summary_field_values(s);
  for (size_t i = 0; i < names.size(); ++i) {
    if (counts.count(names[i])) d[names[i].c_str()] = static_cast<uint64_t>(values[i]);
    else d[names[i].c_str()] = values[i];
  }
  d["segment_blast_requests_mean"] = s.segment_blast_requests_mean;
  d["segment_blast_users_mean"] = s.segment_blast_users_mean;
  d["events"] = s.events;
  d["wall_s"] = s.wall_s;
  d["events_per_s"] = s.events_per_s;
  d["threads"] = s.threads;
  return d;
}

// What a study of `scenario` (with its policy) says before it runs, as the CLI's warning
// lines: study_warnings() and, under scaled fidelity, what shrink() doubts. Python raises
// each as a ScenarioWarning (canarysim/_api.py).
std::vector<std::string> located(const Scenario& scenario, std::vector<std::string> lines) {
  if (!scenario.file.empty())
    for (std::string& line : lines) line = scenario.file + ": " + line;
  return lines;
}
std::vector<std::string> unlocated_doubts(const Scenario& scenario) {
  std::vector<std::string> out = study_warnings(scenario, *scenario.policy);
  if (scenario.fidelity.scaled) shrink(scenario, *scenario.policy, &out);
  return out;
}
std::vector<std::string> doubts(const Scenario& scenario) { return located(scenario, unlocated_doubts(scenario)); }

// A scaled study's convergence check (sim/study/convergence.h) as a dict, the keys of
// run --format json's "fidelity_check"; None when the study gets none. Runs without the
// GIL; the caller's progress shows its runs.
py::object convergence_of(const Scenario& scenario, const Study& study, StudyOptions o) {
  if (!wants_convergence_check(scenario, study)) return py::none();
  Convergence c;
  {
    py::gil_scoped_release release;
    c = check_convergence(scenario, study, o, scenario.fidelity.check_runs);
  }
  if (c.interrupted) return py::none();
  return py::module_::import("json").attr("loads")(convergence_json(c));  // one writer: run --format json's
}

py::dict study_dict(const Study& study) {
  py::dict d;
  d["columns"] = run_columns(study.runs);
  std::vector<std::string> reasons;
  reasons.reserve(study.runs.size());
  for (const RunResult& r : study.runs) reasons.push_back(r.reason);
  d["reasons"] = reasons;
  d["summary"] = summary_dict(study.summary);
  d["hash"] = results_hash(study.runs);
  return d;
}

Scenario with_policy(const Scenario& s, const py::object& policy) {
  Scenario out = s;
  if (!policy.is_none()) out.policy = to_policy(policy);
  if (!out.policy) {
    throw InputError((s.file.empty() ? std::string("<scenario>") : s.file) +
                     ": policy: missing; expected a policy in the scenario or a policy argument");
  }
  return out;
}

// Progress for Python callers, and their interrupt. A line on sys.stderr, redrawn with \r
// (terminals and Jupyter both honour it), at most once a second once the job has run 2 s;
// none with progress=False. A pending KeyboardInterrupt (Ctrl-C, a notebook's interrupt)
// stops the study: no new runs, those running finish, then finish() raises it.
// The callback takes the GIL only twice a second.
class PyProgress {
 public:
  PyProgress(bool enabled, std::string unit = "runs") : enabled_(enabled), unit_(std::move(unit)) {}
  std::function<void(uint64_t, uint64_t)> callback() {
    return [this](uint64_t done, uint64_t total) { tick(done, total); };
  }
  void interrupted() { interrupted_ = true; }
  // After the job, with the GIL held.
  void finish() {
    if (printed_) py::module_::import("sys").attr("stderr").attr("write")("\n");
    if (interrupted_) {
      interrupt_flag() = false;
      PyErr_SetNone(PyExc_KeyboardInterrupt);
      throw py::error_already_set();
    }
  }

 private:
  // Called by one thread at a time (the study's progress lock).
  void tick(uint64_t done, uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    // Signals are seen on the main thread only (PyErr_CheckSignals), which runs its share
    // of the runs: it looks on its own clock, so that other threads' ticks cannot use up
    // its turns (an interrupt then went unseen for seconds).
    if (std::this_thread::get_id() == main_ && now - last_signal_ >= std::chrono::milliseconds(250)) {
      last_signal_ = now;
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        PyErr_Clear();
        interrupted_ = true;
        interrupt_flag() = true;
        return;
      }
    }
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    if (!enabled_ || elapsed < 2 || now - shown_ < std::chrono::seconds(1)) return;
    shown_ = now;
    py::gil_scoped_acquire gil;
    const double rate = static_cast<double>(done) / elapsed;
    char line[160];
    std::snprintf(line, sizeof line, "\r%llu/%llu %s, %.3g %s/s, ETA %s   ", static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(total), unit_.c_str(), rate, unit_.c_str(),
                  rough_duration(rate > 0 ? static_cast<double>(total - done) / rate : 0).c_str());
    py::object err = py::module_::import("sys").attr("stderr");
    err.attr("write")(line);
    err.attr("flush")();
    printed_ = true;
  }

  bool enabled_;
  std::string unit_;
  bool interrupted_ = false, printed_ = false;
  std::thread::id main_ = std::this_thread::get_id();  // made on the thread Python calls from
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_signal_ = start_,
                                        shown_ = start_;
};

StudyOptions options(uint64_t runs, uint64_t seed, unsigned threads) {
  if (runs == 0) throw InputError("runs: expected at least 1");
  StudyOptions o;
  o.runs = runs;
  o.seed = seed;
  o.threads = threads;
  return o;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "canarysim's C++ engine. Use the canarysim package, not this module.";
  m.attr("__version__") = CANARYSIM_VERSION;

  // Bad input: FileNotFoundError for a missing file, ValueError otherwise, with the
  // message the CLI prints.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const MissingFileError& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } catch (const InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  py::class_<Scenario>(m, "Scenario", "A parsed, validated scenario (immutable).")
      .def_readonly("name", &Scenario::name)
      .def_readonly("file", &Scenario::file)
      .def_readonly("horizon_s", &Scenario::horizon_s)
      .def_property_readonly("policy_kind",
                             [](const Scenario& s) { return s.policy ? s.policy->kind() : std::string(); })
      .def_property_readonly("segments", [](const Scenario& s) {
        std::vector<std::string> names;
        for (const Segment& seg : s.traffic.segments) names.push_back(seg.name);
        return names;
      });

  m.def("load_scenario", &load_scenario, py::arg("path"), "Load and validate a scenario file.");
  m.def(
      "parse_scenario",
      [](const std::string& text, const std::string& name) {
        return parse_scenario(ConfigMap::parse_string(text, name));
      },
      py::arg("text"), py::arg("name"),
      "Parse a scenario from YAML text; `name` stands for the file (relative paths resolve "
      "from its directory).");
  py::class_<PolicyConfig, std::shared_ptr<PolicyConfig>>(m, "PolicyConfig",
                                                           "A parsed, validated policy file.")
      .def_property_readonly("kind", &PolicyConfig::kind)
      .def_property_readonly("interval_s", &PolicyConfig::interval_s)
      .def_readonly("source", &PolicyConfig::source);
  m.def(
      "load_policy",
      [](const std::string& path) {
        return std::const_pointer_cast<PolicyConfig>(load_policy_file(path));
      },
      py::arg("path"), "Load and validate a policy file.");
  m.def(
      "parse_policy",
      [](const std::string& text, const std::string& name) {
        return std::const_pointer_cast<PolicyConfig>(parse_policy(ConfigMap::parse_string(text, name)));
      },
      py::arg("text"), py::arg("name"), "Parse and validate a policy from YAML text.");
  m.def("validate_file", &validate_file, py::arg("path"), "Check a scenario or policy file.");
  m.def("policy_kinds", &policy_kinds, "The registered policy kinds.");
  m.def("renamed_metric", &renamed_metric, py::arg("name"),
        "The current name for a metric spelled as canarysim 0.1 did, or '' when it is none.");
  m.def(
      "import_policy",
      [](const std::string& tool, const std::vector<std::string>& inputs, const std::string& name,
         const std::string& latency, bool strict, const std::string& lifetime, const std::string& interval,
         double weight, double match_weight) {
        const ImportOptions o{.lifetime = lifetime, .interval = interval, .weight_percent = weight, .name = name,
                              .latency = latency, .strict = strict, .match_weight = match_weight};
        const Imported i = import_policy(tool, inputs, o);
        py::dict out;
        out["yaml"] = i.yaml;
        out["rules"] = i.rules;
        out["warnings"] = i.warnings;
        return out;
      },
      py::arg("tool"), py::arg("inputs"), py::arg("name") = "", py::arg("latency") = "e2e", py::arg("strict") = false,
      py::arg("lifetime") = "1h", py::arg("interval") = "15m", py::arg("weight") = 10.0, py::arg("match_weight") = 10.0,
      "canarysim import: a tool's configuration files as a canarysim policy (yaml, rules, warnings).");
  m.def(
      "export_policy",
      [](const std::string& tool, const std::string& policy_path, const std::string& mapping, const std::string& name) {
        const Exported e = export_policy(tool, policy_path, mapping, name);
        py::dict out;
        out["files"] = e.files;
        out["warnings"] = e.warnings;
        return out;
      },
      py::arg("tool"), py::arg("policy_path"), py::arg("mapping") = "", py::arg("name") = "llm-serving",
      "canarysim export-policy: an argo or flagger policy file as the tool's files (files, warnings).");
  m.def("summary_stats", [] {
    std::vector<std::string> out;
    for (const SummaryStats& st : summary_stats()) out.push_back(st.name);
    return out;
  }, "The summary's distributions, by name (each has _count, _mean, _p50, _p90, _p99).");
  m.def(
      "set_max_events_per_run", [](double events) {
        if (!(events > 0)) throw InputError("max_events_per_run: expected a positive number of events");
        work_limits().max_events_per_run = events;
      },
      py::arg("events"),
      "The work budget of one run (default 2e8, about two minutes of a core): studies whose runs are "
      "estimated above it are refused before they start (docs/input-contract.md).");

  py::class_<Decision>(m, "Decision", "What a policy decides at an analysis tick.")
      .def_static("hold", &Decision::hold, py::arg("reason") = "", "Keep the current weight.")
      .def_static("set_weight", &Decision::set_weight, py::arg("weight"), py::arg("reason") = "",
                  "Set the canary weight (a fraction in [0, 1]).")
      .def_static("promote", &Decision::promote, py::arg("reason") = "", "Promote the canary.")
      .def_static("rollback", &Decision::rollback, py::arg("reason") = "", py::arg("drain_s") = 0.0,
                  "Roll back, draining the canary weight to 0 over drain_s seconds.")
      .def_property_readonly("action", [](const Decision& d) { return std::string(action_name(d.action)); })
      .def_readonly("weight", &Decision::weight)
      .def_readonly("drain_s", &Decision::drain_s)
      .def_readonly("reason", &Decision::reason)
      .def("__repr__", [](const Decision& d) {
        return "Decision." + std::string(action_name(d.action)) + "(weight=" + std::to_string(d.weight) +
               ", reason=" + py::repr(py::str(d.reason)).cast<std::string>() + ")";
      });

  py::class_<WindowStats>(m, "WindowStats",
                          "What monitoring delivered for one version over a time range.")
      .def_readonly("start_s", &WindowStats::from)
      .def_readonly("end_s", &WindowStats::to)
      .def_readonly("requests", &WindowStats::requests)
      .def_readonly("errors", &WindowStats::errors)
      .def_readonly("hallucinations", &WindowStats::hallucinations)
      .def_readonly("graded", &WindowStats::graded)
      .def_property_readonly("error_rate", &WindowStats::error_rate)
      .def(
          "metric",
          [](const WindowStats& w, const std::string& name) -> py::object {
            const auto metric = Metric::parse(name);
            if (!metric) throw InputError("metric: unknown metric name '" + name + "'");
            const auto v = metric->value(w);
            return v ? py::cast(*v) : py::none();
          },
          py::arg("name"),
          "A metric by its canarysim name (error_rate, ttft_p99, quality_mean, ...), or None "
          "without data.");

  py::class_<Observation>(m, "Observation",
                          "What a policy sees at a tick. Valid only during decide().")
      .def_property_readonly("now", &Observation::now)
      .def_property_readonly("weight", &Observation::weight)
      .def("canary", &Observation::canary, py::arg("lookback_s"),
           "The canary's metrics over the last lookback_s seconds of delivered data.")
      .def("baseline", &Observation::baseline, py::arg("lookback_s"),
           "The baseline's metrics over the last lookback_s seconds of delivered data.");

  m.def(
      "run",
      [](const Scenario& s, const py::object& policy, uint64_t runs, uint64_t seed, unsigned threads, bool progress) {
        const Scenario scenario = with_policy(s, policy);
        Study study;
        PyProgress shown(progress);
        StudyOptions o = options(runs, seed, threads);
        o.progress = shown.callback();
        {
          py::gil_scoped_release release;  // the C++ study runs without the GIL
          study = run_study(scenario, o);
        }
        const py::object check = convergence_of(scenario, study, o);
        shown.finish();
        py::dict d = study_dict(study);
        d["policy_kind"] = scenario.policy->kind();
        d["fidelity_check"] = check;
        d["warnings"] = doubts(scenario);
        return d;
      },
      py::arg("scenario"), py::arg("policy") = py::none(), py::arg("runs") = 1000,
      py::arg("seed") = 1, py::arg("threads") = 0, py::arg("progress") = true,
      "Run a study; returns columns and a summary.");

  m.def(
      "compare",
      [](const Scenario& s, const std::vector<py::object>& policies, const std::vector<std::string>& names,
         uint64_t runs, uint64_t seed, unsigned threads, bool progress) {
        std::vector<std::shared_ptr<const PolicyConfig>> configs;
        for (const py::object& p : policies) {
          // None stands for the scenario's own policy.
          configs.push_back(p.is_none() ? with_policy(s, p).policy : to_policy(p));
        }
        if (configs.empty()) throw InputError("policies: expected at least one policy");
        Comparison c;
        PyProgress shown(progress);
        StudyOptions o = options(runs, seed, threads);
        o.progress = shown.callback();
        try {
          py::gil_scoped_release release;
          c = compare_policies(s, configs, names, o);
        } catch (const Interrupted&) {
          shown.interrupted();
        }
        std::vector<py::object> checks;
        std::vector<std::vector<std::string>> each_doubts;
        for (size_t k = 0; k < c.studies.size(); ++k) {
          Scenario each = s;
          each.policy = configs[k];
          checks.push_back(convergence_of(each, c.studies[k], o));
          each_doubts.push_back(unlocated_doubts(each));
        }
        // As the CLI says them: a line the policies share once, the others with the policy.
        const std::vector<std::string> warnings = located(s, merge_warnings(each_doubts, names));
        shown.finish();
        py::list studies, diffs;
        for (size_t k = 0; k < c.studies.size(); ++k) {
          py::dict d = study_dict(c.studies[k]);
          d["fidelity_check"] = checks[k];
          studies.append(d);
        }
        for (const auto& per : c.differences) {
          py::list rows;
          for (const PairedDifference& d : per)
            rows.append(py::make_tuple(d.metric, d.pairs, d.mean, d.low, d.high));
          diffs.append(rows);
        }
        py::dict out;
        out["studies"] = studies;
        out["differences"] = diffs;
        out["warnings"] = warnings;
        return out;
      },
      py::arg("scenario"), py::arg("policies"), py::arg("names"), py::arg("runs") = 1000,
      py::arg("seed") = 1, py::arg("threads") = 0, py::arg("progress") = true,
      "Run several policies on the same runs; returns their studies and paired differences.");

  m.def(
      "run_sweep",
      [](const std::string& path, const std::string& db, uint64_t shard, uint64_t shards, bool resume,
         unsigned threads, const std::string& command_line, bool progress) {
        SweepReport r;
        PyProgress shown(progress);
        try {
          py::gil_scoped_release release;
          const Sweep sweep = load_sweep(path);
          SweepOptions o;
          o.shard = shard;
          o.shards = shards;
          o.resume = resume;
          o.threads = threads;
          o.command_line = command_line;
          o.progress = shown.callback();
          r = run_sweep(sweep, db, o);
        } catch (const Interrupted&) {  // the store keeps what was finished
          shown.interrupted();
        }
        shown.finish();
        py::dict d;
        d["share"] = r.share;
        d["present"] = r.present;
        d["ran"] = r.ran;
        d["wall_s"] = r.wall_s;
        return d;
      },
      py::arg("path"), py::arg("db"), py::arg("shard") = 1, py::arg("shards") = 1, py::arg("resume") = false,
      py::arg("threads") = 0, py::arg("command_line") = "canarysim.sweep", py::arg("progress") = true,
      "Run a sweep (or shard K of N) into the results store at db.");
  m.def(
      "sweep_warnings",
      [](const std::string& path) {
        const Sweep sweep = load_sweep(path);
        std::vector<std::string> out;
        for (const std::string& w : sweep_warnings(sweep)) out.push_back(path + ": " + w);
        return out;
      },
      py::arg("path"), "What the sweep's points' studies doubt, grouped (the CLI's warning lines).");
  m.def(
      "merge_stores",
      [](const std::string& out, const std::vector<std::string>& shards, const std::string& command_line) {
        py::gil_scoped_release release;
        merge_stores(out, shards, command_line);
      },
      py::arg("out"), py::arg("shards"), py::arg("command_line") = "canarysim.sweep",
      "Merge the shard stores of one sweep into out.");

  // Tune and power hand over their tables as the CSV text their files hold: one writer,
  // read by pandas on the Python side.
  m.def(
      "run_power",
      [](const std::string& path, unsigned threads, const std::string& out, bool progress) {
        PowerResult p;
        PyProgress shown(progress, "sizes");
        try {
          py::gil_scoped_release release;
          PowerOptions o;
          o.threads = threads;
          o.progress = shown.callback();
          p = run_power(path, o);
          if (!out.empty()) write_power_files(p, out);
        } catch (const Interrupted&) {
          shown.interrupted();
        }
        shown.finish();
        py::dict d;
        d["name"] = p.name;
        d["field"] = p.field;
        d["target"] = p.target;
        d["threshold"] = p.threshold < 0 ? py::object(py::none()) : py::object(py::int_(p.threshold));
        d["csv"] = power_csv(p);
        d["report"] = power_report(p);
        d["warnings"] = p.warnings;
        return d;
      },
      py::arg("path"), py::arg("threads") = 0, py::arg("out") = "", py::arg("progress") = true,
      "Run a power study; returns its table as CSV, the threshold's row and the report.");
  m.def(
      "run_tune",
      [](const std::string& path, unsigned threads, const std::string& out, bool progress) {
        TuneResult t;
        PyProgress shown(progress);
        try {
          py::gil_scoped_release release;
          TuneOptions o;
          o.threads = threads;
          o.progress = shown.callback();
          t = run_tune(path, o);
          if (!out.empty()) write_tune_files(t, out);
        } catch (const Interrupted&) {
          shown.interrupted();
        }
        shown.finish();
        py::dict d;
        d["name"] = t.name;
        d["parameters"] = t.parameters;
        d["metrics"] = t.metric_names;
        d["limits"] = t.limits;
        d["best"] = t.best;
        d["found"] = t.found;
        d["csv"] = tune_csv(t, /*pareto_only=*/false);
        d["report"] = tune_report(t);
        d["warnings"] = t.warnings;
        return d;
      },
      py::arg("path"), py::arg("threads") = 0, py::arg("out") = "", py::arg("progress") = true,
      "Run a tuning study; returns every candidate as CSV, the chosen one and the report.");

  m.def(
      "timeline",
      [](const Scenario& s, const py::object& policy, uint64_t run, uint64_t seed) {
        const Scenario scenario = with_policy(s, policy);
        std::vector<TracePoint> trace;
        RunResult result;
        {
          py::gil_scoped_release release;
          Simulator sim(scenario, *scenario.policy);
          result = sim.run(seed, run, &trace);
        }
        py::dict cols;
        auto col = [&](const char* name, auto f) {
          py::list l;
          for (const TracePoint& p : trace) l.append(f(p));
          cols[name] = l;
        };
        col("time_s", [](const TracePoint& p) { return p.time_s; });
        col("weight", [](const TracePoint& p) { return p.weight; });
        col("action", [](const TracePoint& p) { return p.action; });
        col("reason", [](const TracePoint& p) { return p.reason; });
        for (int v = 0; v < 2; ++v) {
          const std::string pre = v ? "baseline_" : "canary_";
          auto snap = [v](const TracePoint& p) -> const SliSnapshot& { return v ? p.baseline : p.canary; };
          col((pre + "requests").c_str(), [&](const TracePoint& p) { return snap(p).requests; });
          col((pre + "error_rate").c_str(), [&](const TracePoint& p) { return snap(p).error_rate; });
          col((pre + "ttft_p50_s").c_str(), [&](const TracePoint& p) { return snap(p).ttft_p50_s; });
          col((pre + "ttft_p99_s").c_str(), [&](const TracePoint& p) { return snap(p).ttft_p99_s; });
          col((pre + "itl_p50_s").c_str(), [&](const TracePoint& p) { return snap(p).itl_p50_s; });
          col((pre + "latency_p99_s").c_str(), [&](const TracePoint& p) { return snap(p).latency_p99_s; });
          col((pre + "quality_mean").c_str(), [&](const TracePoint& p) { return snap(p).quality_mean; });
          col((pre + "replicas").c_str(), [&](const TracePoint& p) { return snap(p).replicas; });
          col((pre + "queued").c_str(), [&](const TracePoint& p) { return snap(p).queued; });
        }
        py::dict out;
        out["columns"] = cols;
        out["outcome"] = outcome_name(result.outcome);
        out["reason"] = result.reason;
        out["warnings"] = doubts(scenario);
        return out;
      },
      py::arg("scenario"), py::arg("policy") = py::none(), py::arg("run") = 0, py::arg("seed") = 1,
      "Record one run's timeline.");
}
