#include "sim/model/calibrate.h"

#include <Eigen/Dense>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "sim/io/config.h"

namespace canarysim {

std::vector<ProfileRow> load_profile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw MissingFileError(path + ": no such file");
  std::string line;
  if (!std::getline(in, line)) throw InputError(path + ":1: empty file; expected a CSV header");
  auto split = [](const std::string& l) {
    std::vector<std::string> out;
    std::stringstream ss(l);
    for (std::string f; std::getline(ss, f, ',');) {
      if (!f.empty() && f.back() == '\r') f.pop_back();
      out.push_back(f);
    }
    return out;
  };
  const auto header = split(line);
  auto column = [&](const char* name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    throw InputError(path + ":1: no column '" + name +
                     "'; expected the Splitwise schema (model, hardware, tensor_parallel, "
                     "prompt_size, batch_size, prompt_time, token_time)");
  };
  const size_t model = column("model"), hardware = column("hardware"),
               tp = column("tensor_parallel"), prompt = column("prompt_size"),
               batch = column("batch_size"), prompt_time = column("prompt_time"),
               token_time = column("token_time");
  std::vector<ProfileRow> rows;
  for (size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const auto f = split(line);
    if (f.size() != header.size()) {
      throw InputError(path + ":" + std::to_string(n) + ": expected " +
                       std::to_string(header.size()) + " fields, got " + std::to_string(f.size()));
    }
    // Ranges any real profile fits: GPUs per replica, tokens, sequences, milliseconds.
    auto number = [&](size_t col, double hi, bool whole = false) {
      double v = 0;
      const std::string& s = f[col];
      if (std::from_chars(s.data(), s.data() + s.size(), v).ptr != s.data() + s.size() || !(v > 0) ||
          !(v <= hi) || (whole && v != std::floor(v))) {
        char range[64];
        std::snprintf(range, sizeof range, "%s in (0, %g]", whole ? "a whole number" : "a number", hi);
        throw InputError(path + ":" + std::to_string(n) + ": " + header[col] + ": expected " + range + ", got '" +
                         s + "'");
      }
      return v;
    };
    ProfileRow r;
    r.model = f[model];
    r.hardware = f[hardware];
    r.tensor_parallel = static_cast<int>(number(tp, 1024, true));
    r.prompt_size = number(prompt, 1e7);
    r.batch_size = number(batch, 1e6);
    r.prompt_time_s = number(prompt_time, 1e8) / 1000;
    r.token_time_s = number(token_time, 1e8) / 1000;
    rows.push_back(r);
  }
  if (rows.empty()) throw InputError(path + ":2: no rows; expected at least one measurement");
  return rows;
}

std::vector<ProfileFit> fit_profiles(const std::vector<ProfileRow>& rows) {
  using Key = std::tuple<std::string, std::string, int>;
  std::vector<Key> order;
  std::map<Key, std::vector<const ProfileRow*>> groups;
  for (const ProfileRow& r : rows) {
    const Key k{r.model, r.hardware, r.tensor_parallel};
    if (!groups.count(k)) order.push_back(k);
    groups[k].push_back(&r);
  }
  std::vector<ProfileFit> fits;
  for (const Key& k : order) {
    const auto& g = groups[k];
    // Two observations per row, each row of A and y divided by the observed time.
    const auto n = static_cast<Eigen::Index>(2 * g.size());
    Eigen::MatrixXd a(n, 3);
    Eigen::VectorXd y(n);
    for (size_t i = 0; i < g.size(); ++i) {
      const ProfileRow& r = *g[i];
      const auto p = static_cast<Eigen::Index>(2 * i), d = p + 1;
      a.row(p) << 1, r.prompt_size * r.batch_size, 0;
      y(p) = r.prompt_time_s;
      a.row(d) << 1, 0, r.batch_size;
      y(d) = r.token_time_s;
    }
    const Eigen::VectorXd w = y.cwiseInverse();
    const Eigen::MatrixXd wa = w.asDiagonal() * a;
    const auto qr = wa.colPivHouseholderQr();
    const Eigen::Vector3d b = qr.solve(w.asDiagonal() * y);
    if (qr.rank() < 3 || !b.allFinite()) {
      throw InputError(std::get<0>(k) + " on " + std::get<1>(k) + " (tensor_parallel " +
                       std::to_string(std::get<2>(k)) + "): its " + std::to_string(g.size()) +
                       " rows do not determine the three coefficients; expected rows with at least two "
                       "batch sizes and two prompt sizes");
    }
    const Eigen::VectorXd rel = ((a * b - y).array() / y.array()).matrix();
    ProfileFit f;
    std::tie(f.model, f.hardware, f.tensor_parallel) = k;
    f.b0_s = b(0);
    f.b1_s = b(1);
    f.b2_s = b(2);
    f.rows = g.size();
    f.rms_relative_error = std::sqrt(rel.squaredNorm() / static_cast<double>(n));
    f.max_relative_error = rel.cwiseAbs().maxCoeff();
    double sp = 0, sd = 0;
    for (Eigen::Index i = 0; i < n; i += 2) sp += rel(i) * rel(i), sd += rel(i + 1) * rel(i + 1);
    f.prefill_rms_relative_error = std::sqrt(sp / static_cast<double>(g.size()));
    f.decode_rms_relative_error = std::sqrt(sd / static_cast<double>(g.size()));
    fits.push_back(f);
  }
  return fits;
}

std::string profile_yaml(const ProfileFit& f, const std::string& source) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "# Iteration-time coefficients fitted by `canarysim calibrate` (relative least\n"
                "# squares over %zu measured rows of %s).\n"
                "model: %s\nhardware: %s\ntensor_parallel: %d\n"
                "iteration:\n  base: %.6gms\n  per_prefill_token: %.6gms\n"
                "  per_decoding_sequence: %.6gms\n"
                "fit: {rms_relative_error: %.4f, decode_rms_relative_error: %.4f, "
                "prefill_rms_relative_error: %.4f, max_relative_error: %.4f}\n"
                "source: %s\n",
                f.rows, source.c_str(), f.model.c_str(), f.hardware.c_str(), f.tensor_parallel,
                f.b0_s * 1000, f.b1_s * 1000, f.b2_s * 1000, f.rms_relative_error,
                f.decode_rms_relative_error, f.prefill_rms_relative_error, f.max_relative_error,
                source.c_str());
  return buf;
}

}  // namespace canarysim
