// Reports people share: one self-contained HTML page (no network: styles inline, figures
// as inline SVG) and Markdown for CI job summaries. A study's page holds what was run
// (scenario and policy text, seed, runs, version, fidelity), the summary with its 95 %
// intervals, and the figures: detection-time CDF, blast-radius distribution, and the
// weight and the canary's TTFT over time for a typical and a worst run.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "sim/io/report.h"

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

}  // namespace canarysim
