// Reports people share: one self-contained HTML page (no network, no script: styles
// inline, figures as inline SVG) and Markdown for CI job summaries. Every page holds what
// was run (the files' text, seed, runs, version), the figures with their 95 % intervals,
// and the plots of its kind:
//   a study (run --report)       detection-time and blast-radius CDFs; the weight and the
//                                canary's TTFT over time for a typical and a worst run
//   a comparison (compare --report)  every policy's CDFs on one figure, paired differences
//   a check (check --report)     each case's budgets and changes against the baseline, CDFs
//   a sweep store (report X.db)  every point with intervals; false rollbacks and missed
//                                regressions against detection time
//   a tune or power folder (report DIR; tune and power write DIR/report.html themselves)
//                                the summary, the Pareto or power curve, the tables
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "sim/io/report.h"
#include "sim/study/compare.h"

namespace canarysim {

// What a study's page shows besides the study: the texts, and two runs up close.
struct PageInputs {
  std::string scenario_text, policy_text, fidelity = "exact";
  std::vector<TracePoint> typical, worst;  // timelines (empty: no such figure)
  uint64_t typical_run = 0, worst_run = 0;
  std::string worst_why;                   // "largest blast radius", ...
};

void write_html(std::ostream& out, const Study& study, const ReportContext& context, const PageInputs& page);
// The summary as GitHub-flavoured Markdown (a CI job summary): what was run, the rates
// with intervals, and the distributions.
void write_markdown(std::ostream& out, const Study& study, const ReportContext& context);

// `policy_texts` in the order of the comparison's policies.
void write_comparison_html(std::ostream& out, const Comparison& comparison, const ReportContext& context,
                           const std::string& scenario_text, const std::vector<std::string>& policy_texts);
struct CheckOutcome;
void write_check_html(std::ostream& out, const CheckOutcome& outcome);
// What `path` holds: "sweep" (a results store), "tune" or "power" (the folders those
// commands write). Throws InputError (MissingFileError) when it is none of them.
std::string saved_results_kind(const std::string& path);
// The page of saved results (`canarysim report PATH`); throws InputError as above, or
// when a store cannot be opened.
void write_saved_report(std::ostream& out, const std::string& path);

}  // namespace canarysim
