// Plots as SVG files, so that the CLI's studies (tune, power) come with their figures
// without Python. Deliberately small: panels of scatter points and lines on linear or
// logarithmic axes, with ticks, labels and a legend. Notebooks use matplotlib instead.
#pragma once

#include <string>
#include <vector>

namespace canarysim {

struct PlotSeries {
  std::string name;                // in the legend ("" for none)
  std::vector<double> x, y;        // NaN points are skipped
  bool line = false, points = true;
  std::string colour = "#1f77b4";
  std::vector<double> y_low, y_high;  // optional error bars, same length as y
};

struct PlotPanel {
  std::string title, x_label, y_label;
  bool log_x = false;
  std::vector<PlotSeries> series;
  std::vector<double> y_lines;     // horizontal reference lines (a target, a budget)
};

// Text made safe inside SVG or HTML (elements and quoted attributes).
std::string xml_escape(const std::string& s);
// The panels side by side as one SVG document (to write, or to inline in HTML).
std::string svg_text(const std::vector<PlotPanel>& panels);
// Writes the panels side by side. Throws InputError when the file cannot be written.
void write_svg(const std::string& path, const std::vector<PlotPanel>& panels);

}  // namespace canarysim
