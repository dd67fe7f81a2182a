#include "sim/io/report.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "sim/io/config.h"

namespace canarysim {

namespace {

std::string num(double x) { return json_number(x); }

// Human units: milliseconds below a second, seconds up to two minutes, then minutes,
// then hours.
std::string human_time(double s) {
  if (std::isnan(s)) return "-";
  char buf[32];
  if (s > 0 && s < 1) std::snprintf(buf, sizeof buf, "%.0fms", s * 1000);
  else if (s < 120) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 7200) std::snprintf(buf, sizeof buf, "%.1fm", s / 60);
  else std::snprintf(buf, sizeof buf, "%.2fh", s / 3600);
  return buf;
}
std::string human_count(double x) {
  if (std::isnan(x)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", x);
  return buf;
}
// A CSV field in quotes, with quotes doubled (RFC 4180).
std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", x * 100);
  return buf;
}

}  // namespace

void write_comparison(std::ostream& out, const Comparison& c, const ReportContext& ctx, uint64_t runs,
                      const std::string& format) {
  const std::vector<std::string>& names = c.policies;
  auto difference_value = [](double x) { return std::isnan(x) ? std::string("-") : json_number(x); };
  if (format == "csv") {
    out << "policy,against,metric,pairs,mean_difference,mean_difference_low,mean_difference_high\n";
    for (size_t k = 1; k < c.differences.size(); ++k)
      for (const PairedDifference& d : c.differences[k])
        out << csv_quote(names[k]) << ',' << csv_quote(names[0]) << ',' << d.metric << ',' << d.pairs << ','
            << csv_number(d.mean) << ',' << csv_number(d.low) << ',' << csv_number(d.high) << '\n';
    return;
  }
  if (format == "json") {
    out << "{\n  \"canarysim_version\": " << json_string(CANARYSIM_VERSION) << ",\n  \"scenario\": "
        << json_string(ctx.scenario) << ",\n  \"runs\": " << runs << ",\n  \"seed\": " << ctx.seed
        << ",\n  \"policies\": [";
    for (size_t k = 0; k < c.studies.size(); ++k) {
      const Summary& s = c.studies[k].summary;
      out << (k ? ",\n" : "\n") << "    {\"policy\": " << json_string(names[k]) << ",";
      const std::vector<std::string> fields = summary_field_names();
      const std::vector<double> values = summary_field_values(s);
      for (size_t i = 0; i < fields.size(); ++i) out << " " << json_string(fields[i]) << ": " << num(values[i]) << ",";
      out << " \"differences\": [";
      if (k > 0)
        for (size_t i = 0; i < c.differences[k].size(); ++i) {
          const PairedDifference& d = c.differences[k][i];
          out << (i ? ", " : "") << "{\"metric\": " << json_string(d.metric) << ", \"pairs\": " << d.pairs
              << ", \"mean_difference\": " << num(d.mean) << ", \"mean_difference_low\": " << num(d.low)
              << ", \"mean_difference_high\": " << num(d.high) << "}";
        }
      out << "]}";
    }
    out << "\n  ]\n}\n";
    return;
  }
  if (format == "markdown") {  // a CI job summary
    out << "### canarysim compare: " << ctx.scenario << ", " << runs << " runs, seed " << ctx.seed
        << ", common random numbers\n\n| policy | rollbacks | false rollbacks | missed | detection p50 | blast radius "
           "(requests, mean) | blast radius (users, mean) | rollout p50 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (size_t k = 0; k < c.studies.size(); ++k) {
      const Summary& s = c.studies[k].summary;
      out << "| " << names[k] << " | " << s.rolled_back << " | " << s.false_rollback.count << " | "
          << s.missed_regression.count << " | " << human_time(s.detection_time_s.p50) << " | "
          << human_count(s.blast_radius_requests.mean) << " | " << human_count(s.blast_radius_users.mean) << " | "
          << human_time(s.rollout_duration_s.p50) << " |\n";
    }
    for (size_t k = 1; k < c.differences.size(); ++k) {
      out << "\n" << names[k] << " minus " << names[0] << ", paired by run:\n\n| figure | mean | 95 % interval | pairs |\n"
          << "|---|---:|---|---:|\n";
      auto short_value = [](double x) {
        char b[32];
        std::snprintf(b, sizeof b, "%.4g", x);
        return std::isnan(x) ? std::string("-") : std::string(b);
      };
      for (const PairedDifference& d : c.differences[k])
        out << "| " << d.metric << " | " << short_value(d.mean) << " | [" << short_value(d.low) << ", "
            << short_value(d.high) << "] | " << d.pairs << " |\n";
    }
    return;
  }
  char buf[320];
  std::snprintf(buf, sizeof buf, "canarysim %s: scenario %s, %llu runs, seed %llu, common random numbers\n\n",
                CANARYSIM_VERSION, ctx.scenario.c_str(), static_cast<unsigned long long>(runs),
                static_cast<unsigned long long>(ctx.seed));
  out << buf;
  std::snprintf(buf, sizeof buf, "%-40s %9s %6s %7s %11s %11s %11s %11s\n", "policy", "rollbacks", "false", "missed",
                "detect p50", "blast reqs", "blast users", "rollout p50");
  out << buf;
  for (size_t k = 0; k < c.studies.size(); ++k) {
    const Summary& s = c.studies[k].summary;
    std::snprintf(buf, sizeof buf, "%-40s %9llu %6llu %7llu %11s %11s %11s %11s\n", names[k].c_str(),
                  static_cast<unsigned long long>(s.rolled_back), static_cast<unsigned long long>(s.false_rollback.count),
                  static_cast<unsigned long long>(s.missed_regression.count), human_time(s.detection_time_s.p50).c_str(),
                  human_count(s.blast_radius_requests.mean).c_str(), human_count(s.blast_radius_users.mean).c_str(),
                  human_time(s.rollout_duration_s.p50).c_str());
    out << buf;
  }
  for (size_t k = 1; k < c.differences.size(); ++k) {
    out << "\n" << names[k] << " minus " << names[0] << ", paired by run (mean, 95% interval):\n";
    for (const PairedDifference& d : c.differences[k]) {
      std::snprintf(buf, sizeof buf, "  %-24s %12s  [%s, %s]  (%llu pairs)\n", d.metric.c_str(),
                    difference_value(d.mean).c_str(), difference_value(d.low).c_str(), difference_value(d.high).c_str(),
                    static_cast<unsigned long long>(d.pairs));
      out << buf;
    }
  }
}

std::string segments_json(const ReportContext& ctx, const Summary& s) {
  std::string out = "[";
  for (size_t k = 0; k < ctx.segments.size(); ++k) {
    const double req = k < s.segment_blast_requests_mean.size() ? s.segment_blast_requests_mean[k] : 0;
    const double users = k < s.segment_blast_users_mean.size() ? s.segment_blast_users_mean[k] : 0;
    out += std::string(k ? ", " : "") + "{\"name\": " + json_string(ctx.segments[k]) +
           ", \"blast_radius_requests_mean\": " + num(req) +
           ", \"blast_radius_users_mean\": " + num(users) + "}";
  }
  return out + "]";
}

std::string csv_quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string short_duration(double s) {
  if (std::isnan(s)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, s >= 120 ? "%.1fm" : "%.0fs", s >= 120 ? s / 60 : s);
  return buf;
}

std::string format_metric(SummaryMetric::Unit unit, double v) {
  if (std::isnan(v)) return "-";
  char buf[48];
  if (unit == SummaryMetric::Unit::kRate) std::snprintf(buf, sizeof buf, "%.2f%%", 100 * v);
  else if (unit == SummaryMetric::Unit::kSeconds) return short_duration(v);
  else std::snprintf(buf, sizeof buf, std::abs(v) >= 100 ? "%.0f" : "%.3g", v);
  return buf;
}

std::string csv_number(double x) { return std::isnan(x) ? std::string() : json_number(x); }

std::string json_number(double x) {
  if (std::isnan(x)) return "null";
  if (std::isinf(x)) return x > 0 ? "1e999" : "-1e999";  // parsers read these as infinities
  char buf[32];
  // The shortest text that reads back as exactly x (0.05, not 0.050000000000000003).
  const auto end = std::to_chars(buf, buf + sizeof buf, x).ptr;
  return std::string(buf, end);
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

void write_table(std::ostream& out, const Study& study, const ReportContext& ctx) {
  const Summary& s = study.summary;
  out << "canarysim " << CANARYSIM_VERSION << ": scenario " << ctx.scenario << ", policy "
      << ctx.policy << ", " << s.runs << " runs, seed " << ctx.seed << "\n\n";
  out << "outcomes             promoted " << s.promoted << ", rolled back " << s.rolled_back
      << ", unfinished " << s.unfinished << "\n";
  auto rate_line = [&](const char* name, const Rate& r, const char* what) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%-20s %7s  95%% CI [%s, %s]  (%llu of %llu runs %s)\n", name,
                  percent(r.rate).c_str(), percent(r.low).c_str(), percent(r.high).c_str(),
                  static_cast<unsigned long long>(r.count),
                  static_cast<unsigned long long>(r.of), what);
    out << buf;
  };
  rate_line("false rollback rate", s.false_rollback, "rolled back with no regression active");
  rate_line("missed regression", s.missed_regression, "promoted with a regression active");
  if (s.rolled_back_before_evidence.count > 0)
    rate_line("before evidence", s.rolled_back_before_evidence, "rolled back before data could show the regression");
  out << "\n";
  char buf[200];
  std::snprintf(buf, sizeof buf, "%-26s %6s %10s %10s %10s %10s\n", "", "runs", "mean", "p50",
                "p90", "p99");
  out << buf;
  auto row = [&](const char* name, const Stats& st, bool is_time) {
    auto f = [&](double x) { return is_time ? human_time(x) : human_count(x); };
    std::snprintf(buf, sizeof buf, "%-26s %6llu %10s %10s %10s %10s\n", name,
                  static_cast<unsigned long long>(st.count), f(st.mean).c_str(),
                  f(st.p50).c_str(), f(st.p90).c_str(), f(st.p99).c_str());
    out << buf;
  };
  row("detection time", s.detection_time_s, true);
  row("time to mitigate", s.time_to_mitigate_s, true);
  row("blast radius (requests)", s.blast_radius_requests, false);
  row("blast radius (users)", s.blast_radius_users, false);
  row("rollout duration", s.rollout_duration_s, true);
  row("failed requests", s.failed_requests, false);
  if (s.canary_failed_requests.mean > 0) row("  of which on the canary", s.canary_failed_requests, false);
  if (s.timed_out_requests.mean > 0) row("  of which timed out", s.timed_out_requests, false);
  if (s.rejected_requests.mean > 0) row("  of which rejected", s.rejected_requests, false);
  if (s.preemptions.mean > 0) row("KV-cache preemptions", s.preemptions, false);
  if (s.cost.mean > 0 || s.canary_replica_hours.mean > 0) {
    std::snprintf(buf, sizeof buf, "%-26s %6llu %10.2f %10.2f %10.2f %10.2f\n", "cost per run",
                  static_cast<unsigned long long>(s.cost.count), s.cost.mean, s.cost.p50,
                  s.cost.p90, s.cost.p99);
    out << buf;
    std::snprintf(buf, sizeof buf, "%-26s %6llu %10.2f %10.2f %10.2f %10.2f\n",
                  "canary replica-hours", static_cast<unsigned long long>(s.canary_replica_hours.count),
                  s.canary_replica_hours.mean, s.canary_replica_hours.p50,
                  s.canary_replica_hours.p90, s.canary_replica_hours.p99);
    out << buf;
  }
  if (s.gpu_hours.mean > 0) {
    std::snprintf(buf, sizeof buf, "%-26s %6llu %10.2f %10.2f %10.2f %10.2f\n", "GPU-hours",
                  static_cast<unsigned long long>(s.gpu_hours.count), s.gpu_hours.mean, s.gpu_hours.p50,
                  s.gpu_hours.p90, s.gpu_hours.p99);
    out << buf;
  }
  if (ctx.segments.size() > 1 && !s.segment_blast_requests_mean.empty()) {
    out << "\nblast radius by segment (mean over runs with a regression active)\n";
    for (size_t k = 0; k < ctx.segments.size() && k < s.segment_blast_requests_mean.size(); ++k) {
      std::snprintf(buf, sizeof buf, "  %-24s %10.0f requests %10.0f users\n",
                    ctx.segments[k].c_str(), s.segment_blast_requests_mean[k],
                    s.segment_blast_users_mean[k]);
      out << buf;
    }
  }
  std::snprintf(buf, sizeof buf, "\n%llu runs in %.2f s on %u thread%s: %.1f M events/s\n",
                static_cast<unsigned long long>(s.runs), s.wall_s, s.threads, s.threads == 1 ? "" : "s",
                s.events_per_s / 1e6);
  out << buf;
  if (ctx.convergence)
    out << (ctx.convergence->moved() ? "warning: fidelity check: " : "fidelity check: ") << convergence_text(*ctx.convergence)
        << "\n";
}

namespace {
// A figure of the check as the study's table shows it: times as short_duration().
std::string figure_text(const Convergence::Figure& f, double v) {
  if (f.rate) return format_amount(std::round(1000 * v) / 10) + " %";
  if (f.seconds) return short_duration(v);
  return format_amount(std::round(v));
}
}  // namespace

std::string convergence_text(const Convergence& c) {
  const std::string text = std::to_string(c.finer_runs) +
                           (c.finer_sample == 1 ? " exact runs" : " runs at 1 in " + std::to_string(c.finer_sample));
  std::string moved_list;
  for (const Convergence::Figure& f : c.figures)
    if (f.moved)
      moved_list += (moved_list.empty() ? "" : ", ") + f.name + " " + figure_text(f, f.value) + " -> " +
                    figure_text(f, f.finer);
  if (moved_list.empty()) {
    // The closest call (the largest difference for the limit it had to pass), so that a
    // reader sees how near the rule's edge the check came.
    const Convergence::Figure* closest = nullptr;
    for (const Convergence::Figure& f : c.figures)
      if (f.limit > 0 && std::abs(f.value - f.finer) > 0 &&
          (!closest || std::abs(f.value - f.finer) / f.limit > std::abs(closest->value - closest->finer) / closest->limit))
        closest = &f;
    std::string close;
    if (closest) {
      // Against the limit that held it: the standard errors, or the floor.
      const Convergence::Figure& f = *closest;
      const double d = std::abs(f.value - f.finer);
      char buf[64];
      if (f.limit > f.sigmas * f.se)
        std::snprintf(buf, sizeof buf, f.rate ? " (%.1f points; the limit is %.0f)" : " (%.1f %%; the limit is %.0f %%)",
                      f.rate ? 100 * d : 100 * d / std::max(std::abs(f.value), std::abs(f.finer)),
                      f.rate ? 100 * Convergence::kRatePoints : 100 * Convergence::kMeanShare);
      else
        std::snprintf(buf, sizeof buf, " (%.1f standard errors; the limit is %.1f)", d / f.se, f.sigmas);
      close = "; the closest: " + f.name + " " + figure_text(f, f.value) + " -> " + figure_text(f, f.finer) + buf;
    }
    return text + " agree with the study at 1 in " + std::to_string(c.sample) + " on " +
           std::to_string(c.figures.size()) + " figures (outcomes, detection, blast radius, failures, cost)" + close;
  }
  // What to run instead: the check's own fidelity, 4x the replicas, or exact.
  const std::string k = std::to_string(c.finer_replicas);
  const std::string advice = c.finer_sample == 1 ? "run exact (fidelity: exact)"
                                                 : "simulate more of the fleet (--fidelity scaled:" + k +
                                                       ", or fidelity: {mode: scaled, replicas: " + k + "}) or run exact";
  return "the figures moved when 4x the users were simulated (" + text + ", against the study's " +
         std::to_string(c.runs) + " runs at 1 in " + std::to_string(c.sample) + "): " + moved_list +
         ". The scaled figures are not converged: " + advice;
}

std::string convergence_json(const Convergence& c) {
  std::string j = "{\"sample\": " + std::to_string(c.sample) + ", \"finer_sample\": " + std::to_string(c.finer_sample) +
                  ", \"runs\": " + std::to_string(c.runs) + ", \"finer_runs\": " + std::to_string(c.finer_runs) +
                  ", \"wall_s\": " + json_number(c.wall_s) + ", \"moved\": " + (c.moved() ? "true" : "false") +
                  ", \"figures\": [";
  for (size_t i = 0; i < c.figures.size(); ++i) {
    const Convergence::Figure& f = c.figures[i];
    j += std::string(i ? ", " : "") + "{\"name\": " + json_string(f.name) + ", \"value\": " + json_number(f.value) +
         ", \"finer\": " + json_number(f.finer) + ", \"se\": " + json_number(f.se) + ", \"sigmas\": " + json_number(f.sigmas) +
         ", \"moved\": " + (f.moved ? "true" : "false") + "}";
  }
  return j + "], \"describe\": " + json_string(convergence_text(c)) + "}";
}

void write_json(std::ostream& out, const Study& study, const ReportContext& ctx,
                bool with_runs) {
  const Summary& s = study.summary;
  out << "{\n  \"canarysim_version\": " << json_string(CANARYSIM_VERSION)
      << ",\n  \"scenario\": " << json_string(ctx.scenario)
      << ",\n  \"policy\": " << json_string(ctx.policy) << ",\n  \"seed\": " << ctx.seed
      << ",\n  \"summary\": {";
  // The figures by their names in the one table (study.h), as the store and Python name them.
  const std::vector<std::string> names = summary_field_names();
  const std::vector<double> values = summary_field_values(s);
  for (size_t i = 0; i < names.size(); ++i)
    out << (i % 4 == 0 ? "\n    " : " ") << json_string(names[i]) << ": " << num(values[i]) << ",";
  out << "\n    \"segments\": " << segments_json(ctx, s)
      << ",\n    \"events\": " << s.events << ", \"wall_s\": " << num(s.wall_s)
      << ", \"events_per_s\": " << num(s.events_per_s) << ", \"threads\": " << s.threads
      << "\n  }";
  if (ctx.convergence) out << ",\n  \"fidelity_check\": " << convergence_json(*ctx.convergence);
  if (with_runs) {
    out << ",\n  \"run_results\": [";
    for (size_t i = 0; i < study.runs.size(); ++i) {
      const RunResult& r = study.runs[i];
      out << (i ? ",\n" : "\n") << "    {\"run\": " << r.run << ", \"outcome\": \""
          << outcome_name(r.outcome) << "\", \"regression_active\": "
          << (r.regression_active ? "true" : "false")
          << ", \"decision_time_s\": " << num(r.decision_time_s)
          << ", \"detection_time_s\": " << num(r.detection_time_s)
          << ", \"before_evidence\": " << (r.before_evidence ? "true" : "false")
          << ", \"time_to_mitigate_s\": " << num(r.time_to_mitigate_s)
          << ", \"blast_radius_requests\": " << r.blast_radius_requests
          << ", \"blast_radius_users\": " << r.blast_radius_users
          << ", \"rollout_duration_s\": " << num(r.rollout_duration_s)
          << ", \"requests\": " << r.requests << ", \"failed_requests\": " << r.failed_requests;
      for (const RunCount& c : kRunCounts) out << ", \"" << c.name << "\": " << r.*(c.field);
      out << ", \"canary_requests\": " << r.canary_requests
          << ", \"events\": " << r.events
          << ", \"baseline_replica_seconds\": " << num(r.baseline_replica_seconds)
          << ", \"canary_replica_seconds\": " << num(r.canary_replica_seconds)
          << ", \"baseline_tokens\": " << r.baseline_tokens
          << ", \"canary_tokens\": " << r.canary_tokens
          << ", \"baseline_cost\": " << num(r.baseline_cost)
          << ", \"canary_cost\": " << num(r.canary_cost)
          << ", \"gpu_hours\": " << num(r.gpu_hours)
          << ", \"reason\": " << json_string(r.reason) << "}";
    }
    out << "\n  ]";
  }
  out << "\n}\n";
}

void write_csv(std::ostream& out, const Study& study) {
  out << "run,outcome,regression_active,decision_time_s,detection_time_s,before_evidence,time_to_mitigate_s,"
         "blast_radius_requests,blast_radius_users,rollout_duration_s,requests,failed_requests,canary_requests,"
         "events,baseline_replica_seconds,canary_replica_seconds,baseline_tokens,canary_tokens,"
         "baseline_cost,canary_cost,gpu_hours";
  for (const RunCount& c : kRunCounts) out << ',' << c.name;
  out << ",reason\n";
  for (const RunResult& r : study.runs) {
    out << r.run << ',' << outcome_name(r.outcome) << ',' << (r.regression_active ? 1 : 0) << ','
        << csv_number(r.decision_time_s) << ',' << csv_number(r.detection_time_s) << ','
        << (r.before_evidence ? 1 : 0) << ',' << csv_number(r.time_to_mitigate_s) << ',' << r.blast_radius_requests << ','
        << r.blast_radius_users << ',' << csv_number(r.rollout_duration_s) << ',' << r.requests << ','
        << r.failed_requests << ',' << r.canary_requests << ',' << r.events << ',' << num(r.baseline_replica_seconds) << ','
        << num(r.canary_replica_seconds) << ',' << r.baseline_tokens << ',' << r.canary_tokens
        << ',' << num(r.baseline_cost) << ',' << num(r.canary_cost) << ',' << num(r.gpu_hours);
    for (const RunCount& c : kRunCounts) out << ',' << r.*(c.field);
    out << ',' << csv_quote(r.reason) << '\n';
  }
}

void write_timeline_table(std::ostream& out, const std::vector<TracePoint>& trace) {
  char buf[320];
  std::snprintf(buf, sizeof buf, "%8s %7s  %-10s %6s %8s %8s %8s %6s %5s | %6s %8s %8s %5s  %s\n",
                "time", "weight", "action", "c.req", "c.err", "c.ttft50", "c.ttft99", "c.rep",
                "c.q", "b.req", "b.ttft50", "b.ttft99", "b.rep", "reason");
  out << buf;
  auto ms = [](double s) { return std::isnan(s) ? std::string("-") : human_time(s); };
  for (const TracePoint& p : trace) {
    std::snprintf(buf, sizeof buf,
                  "%8s %6.1f%%  %-10s %6llu %8s %8s %8s %6u %5llu | %6llu %8s %8s %5u  %s\n",
                  human_time(p.time_s).c_str(), p.weight * 100, p.action.c_str(),
                  static_cast<unsigned long long>(p.canary.requests),
                  std::isnan(p.canary.error_rate) ? "-" : percent(p.canary.error_rate).c_str(),
                  ms(p.canary.ttft_p50_s).c_str(), ms(p.canary.ttft_p99_s).c_str(),
                  p.canary.replicas, static_cast<unsigned long long>(p.canary.queued),
                  static_cast<unsigned long long>(p.baseline.requests),
                  ms(p.baseline.ttft_p50_s).c_str(), ms(p.baseline.ttft_p99_s).c_str(),
                  p.baseline.replicas, p.reason.c_str());
    out << buf;
  }
}

void write_timeline_csv(std::ostream& out, const std::vector<TracePoint>& trace) {
  out << "time_s,weight,action,reason";
  for (const char* v : {"canary", "baseline"}) {
    for (const char* f : {"requests", "error_rate", "ttft_p50_s", "ttft_p99_s", "itl_p50_s",
                          "latency_p99_s", "quality_mean", "replicas", "queued"})
      out << ',' << v << '_' << f;
  }
  out << '\n';
  for (const TracePoint& p : trace) {
    out << num(p.time_s) << ',' << num(p.weight) << ',' << p.action << ',' << csv_quote(p.reason);
    for (const SliSnapshot* s : {&p.canary, &p.baseline}) {
      out << ',' << s->requests << ',' << csv_number(s->error_rate) << ',' << csv_number(s->ttft_p50_s) << ','
          << csv_number(s->ttft_p99_s) << ',' << csv_number(s->itl_p50_s) << ',' << csv_number(s->latency_p99_s)
          << ',' << csv_number(s->quality_mean) << ',' << s->replicas << ',' << s->queued;
    }
    out << '\n';
  }
}

}  // namespace canarysim
