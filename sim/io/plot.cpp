#include "sim/io/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "sim/io/config.h"

namespace canarysim {

namespace {

constexpr double kWidth = 520, kHeight = 380, kLeft = 70, kRight = 20, kTop = 40, kBottom = 55;


std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// "Nice" linear ticks: steps of 1, 2 or 5 times a power of ten.
std::vector<double> ticks(double lo, double hi) {
  const double raw = (hi - lo) / 6;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return t;
}

struct Axis {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  bool log = false;
  void take(double v) {
    if (std::isnan(v) || (log && v <= 0)) return;
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
  void finish() {
    if (!std::isfinite(lo)) lo = log ? 1 : 0, hi = log ? 10 : 1;
    if (log) {
      lo = std::pow(10, std::floor(std::log10(lo)));
      hi = std::pow(10, std::ceil(std::log10(hi)));
      if (hi <= lo) hi = lo * 10;
    } else {
      const double pad = hi > lo ? (hi - lo) * 0.05 : std::max(1.0, std::abs(lo) * 0.1);
      lo -= pad, hi += pad;
    }
  }
  double unit(double v) const {
    return log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
  }
  std::vector<double> tick_values() const {
    if (!log) return ticks(lo, hi);
    std::vector<double> t;
    for (double v = lo; v <= hi * 1.0001; v *= 10) t.push_back(v);
    return t;
  }
};

void panel_svg(std::ostream& out, const PlotPanel& p, double x0) {
  Axis ax, ay;
  ax.log = p.log_x;
  for (const PlotSeries& s : p.series) {
    for (double v : s.x) ax.take(v);
    for (double v : s.y) ay.take(v);
    for (double v : s.y_low) ay.take(v);
    for (double v : s.y_high) ay.take(v);
  }
  for (double v : p.y_lines) ay.take(v);
  ax.finish();
  ay.finish();
  const double w = kWidth - kLeft - kRight, h = kHeight - kTop - kBottom;
  auto X = [&](double v) { return x0 + kLeft + ax.unit(v) * w; };
  auto Y = [&](double v) { return kTop + (1 - ay.unit(v)) * h; };
  out << "<text x='" << x0 + kWidth / 2 << "' y='22' text-anchor='middle' font-size='14'>" << xml_escape(p.title)
      << "</text>\n";
  out << "<rect x='" << x0 + kLeft << "' y='" << kTop << "' width='" << w << "' height='" << h
      << "' fill='none' stroke='#333'/>\n";
  for (double t : ax.tick_values()) {
    out << "<line x1='" << X(t) << "' x2='" << X(t) << "' y1='" << kTop << "' y2='" << kTop + h
        << "' stroke='#ddd'/><text x='" << X(t) << "' y='" << kTop + h + 16
        << "' text-anchor='middle' font-size='11'>" << fmt(t) << "</text>\n";
  }
  for (double t : ay.tick_values()) {
    out << "<line x1='" << x0 + kLeft << "' x2='" << x0 + kLeft + w << "' y1='" << Y(t) << "' y2='" << Y(t)
        << "' stroke='#ddd'/><text x='" << x0 + kLeft - 6 << "' y='" << Y(t) + 4
        << "' text-anchor='end' font-size='11'>" << fmt(t) << "</text>\n";
  }
  for (double v : p.y_lines)
    out << "<line x1='" << x0 + kLeft << "' x2='" << x0 + kLeft + w << "' y1='" << Y(v) << "' y2='" << Y(v)
        << "' stroke='#d62728' stroke-dasharray='5,4'/>\n";
  out << "<text x='" << x0 + kLeft + w / 2 << "' y='" << kHeight - 12 << "' text-anchor='middle' font-size='12'>"
      << xml_escape(p.x_label) << "</text>\n";
  out << "<text transform='translate(" << x0 + 16 << "," << kTop + h / 2
      << ") rotate(-90)' text-anchor='middle' font-size='12'>" << xml_escape(p.y_label) << "</text>\n";
  double legend_y = kTop + 14;
  for (const PlotSeries& s : p.series) {
    auto ok = [&](size_t i) {
      return !std::isnan(s.x[i]) && !std::isnan(s.y[i]) && (!ax.log || s.x[i] > 0);
    };
    if (s.line) {
      std::string d;
      for (size_t i = 0; i < s.x.size(); ++i)
        if (ok(i)) d += (d.empty() ? "M" : " L") + fmt(X(s.x[i])) + "," + fmt(Y(s.y[i]));
      if (!d.empty()) out << "<path d='" << d << "' fill='none' stroke='" << s.colour << "' stroke-width='1.5'/>\n";
    }
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!ok(i)) continue;
      if (i < s.y_low.size() && !std::isnan(s.y_low[i]) && !std::isnan(s.y_high[i]))
        out << "<line x1='" << X(s.x[i]) << "' x2='" << X(s.x[i]) << "' y1='" << Y(s.y_low[i]) << "' y2='"
            << Y(s.y_high[i]) << "' stroke='" << s.colour << "'/>\n";
      if (s.points)
        out << "<circle cx='" << X(s.x[i]) << "' cy='" << Y(s.y[i]) << "' r='3.5' fill='" << s.colour
            << "' fill-opacity='0.8'/>\n";
    }
    if (!s.name.empty()) {
      out << "<circle cx='" << x0 + kLeft + w - 150 << "' cy='" << legend_y - 4 << "' r='4' fill='" << s.colour
          << "'/><text x='" << x0 + kLeft + w - 140 << "' y='" << legend_y << "' font-size='11'>" << xml_escape(s.name)
          << "</text>\n";
      legend_y += 16;
    }
  }
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_text(const std::vector<PlotPanel>& panels) {
  std::ostringstream out;
  out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << kWidth * panels.size() << "' height='" << kHeight
      << "' font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n";
  for (size_t i = 0; i < panels.size(); ++i) panel_svg(out, panels[i], kWidth * i);
  out << "</svg>\n";
  return out.str();
}

void write_svg(const std::string& path, const std::vector<PlotPanel>& panels) {
  std::ofstream file(path);
  if (!file) throw InputError(path + ": cannot be written");
  file << svg_text(panels);
}

}  // namespace canarysim
