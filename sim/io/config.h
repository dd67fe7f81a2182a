// Reading users' YAML files with checked types, units and ranges.
//
// Every problem with a user's input becomes an InputError whose message names the file,
// the line and column, the key (as a dotted path from the top of the file) and what was
// expected, for example
//   scenarios/x.yaml:7:11: traffic.rate: expected a rate like '200/s', got 'fast'
// The CLI prints it and exits with code 2; the Python module raises ValueError.
//
// Units, as users of Argo Rollouts and Flagger write them:
//   durations  80us, 250ms, 90s, 15m, 2h, 1d (a bare 0 is allowed)
//   rates      200/s, 12000/m, 720000/h
//   fractions  0.02 or 2%   (probabilities, and every other number in [0, 1])
//   weights    25 or 25%    (canary traffic shares, in percent)
//
// Any file may build on another: `extends: base.yaml` (relative to the file) reads the
// base, then this file over it: mappings merge key by key, anything else (lists
// included) is replaced whole; a base may extend another (16 deep at most; a cycle is
// refused with the chain). A message about a key the base wrote names the base's line
// "(extended by FILE)", and file paths the base wrote stay relative to the base.
// yaml-cpp stays inside config.cpp; this header is cheap to include.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace canarysim {

struct Section;

// Every duration a file gives is 0 or in [1us, 365d], every rate in (0, 10^6/s]: beyond
// them no study is meaningful, and arithmetic on them would overflow or never end.
constexpr double kMinDurationS = 1e-6, kMaxDurationS = 365 * 86400.0;
constexpr double kMaxRatePerS = 1e6;
// Multipliers (a regression's, a version's output_scale) are at most 10^4; token counts
// (a distribution's parameters, a trace's values, every draw) at most 10^7.
constexpr double kMaxMultiplier = 1e4;
constexpr double kMaxTokens = 1e7;

// Bad user input: the message is complete and meant for the user as it is.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file the input names does not exist (Python sees FileNotFoundError).
class MissingFileError : public InputError {
 public:
  using InputError::InputError;
};

// One YAML mapping of a user's file. Cheap to copy (shares the parsed document).
class ConfigMap {
 public:
  // Throws InputError when the file is missing, unreadable, not YAML or not a mapping.
  static ConfigMap parse_file(const std::string& path);
  // `name` stands for the file name in messages, e.g. "<string>".
  static ConfigMap parse_string(const std::string& text, const std::string& name);

  // Fails on the first key not in `keys`, suggesting the nearest known one.
  // The same mapping, whose allow() also accepts `keys` (keys a caller reads itself,
  // such as the `deployment` section every policy kind shares).
  ConfigMap permitting(std::vector<std::string> keys) const;
  void allow(std::initializer_list<std::string_view> keys) const;
  void allow(const std::vector<std::string>& keys) const;
  // The keys of the section's table (sim/io/schema.h); the getters of this object then
  // check every read against the table (std::logic_error on a difference: a bug here).
  void allow(const Section& section) const;
  bool has(std::string_view key) const;
  // The keys of this mapping, in file order.
  std::vector<std::string> keys() const;

  // Required values fail when the key is missing; the others return `fallback` then.
  double duration(std::string_view key) const;
  double duration(std::string_view key, double fallback) const;
  double rate(std::string_view key) const;
  double rate(std::string_view key, double fallback) const;
  double probability(std::string_view key) const;
  double probability(std::string_view key, double fallback) const;
  // A weight in percent, written 25 or 25%, in [0, 100]; returned as a fraction.
  double percent(std::string_view key) const;
  // A number in [lo, hi].
  double number(std::string_view key, double lo, double hi) const;
  double number(std::string_view key, double fallback, double lo, double hi) const;
  // A whole number in [lo, hi].
  uint64_t count(std::string_view key, uint64_t fallback, uint64_t lo, uint64_t hi) const;
  std::string text(std::string_view key) const;
  std::string text(std::string_view key, const std::string& fallback) const;
  bool flag(std::string_view key, bool fallback) const;
  // A non-empty list of numbers.
  std::vector<double> numbers(std::string_view key) const;
  // A list of text values (a single value counts as a list of one).
  std::vector<std::string> texts(std::string_view key) const;

  bool is_map(std::string_view key) const;
  ConfigMap map(std::string_view key) const;
  // A list of mappings (possibly empty when the key is absent).
  std::vector<ConfigMap> maps(std::string_view key) const;

  // Throws InputError located at `key` (or at this mapping when the key is absent).
  [[noreturn]] void fail(std::string_view key, const std::string& expected) const;
  // Throws InputError located at `key` with a message of another form than
  // "expected X, got Y", e.g. "unknown policy kind 'x' (did you mean 'y'?)".
  [[noreturn]] void reject(std::string_view key, const std::string& message) const;
  // `message` located at `key` ("file:line:col: path.key: message"), for warnings.
  std::string located(std::string_view key, const std::string& message) const;
  // Prints "warning: " and that line on stderr (a deprecated spelling, a doubtful value).
  void warn(std::string_view key, const std::string& message) const;
  // Throws MissingFileError located at `key`.
  [[noreturn]] void reject_missing(std::string_view key, const std::string& message) const;
  // Throws InputError located at element `index` of the list under `key`.
  [[noreturn]] void fail_item(std::string_view key, size_t index,
                              const std::string& expected) const;

  // The file this mapping came from, and its directory (for relative paths in it).
  const std::string& file() const;
  std::string directory() const;
  // The file named by the text under `key`, relative to directory(), normalised
  // ("scenarios/../policies/x.yaml" reads "policies/x.yaml"). Fails when `key` is missing.
  std::string file_path(std::string_view key) const;
  // The dotted path of this mapping in its file ("" at the top).
  const std::string& path() const;
  // The mapping as YAML text, for manifests and round trips.
  std::string dump() const;
  // The value under `key` as one line of YAML (flow style), and a list's items so.
  std::string yaml(std::string_view key) const;
  std::vector<std::string> yaml_items(std::string_view key) const;

  // A copy of this mapping with values replaced: each override is a path such as
  // `regressions[0].error_rate` or `canary.ttft.median` and a value as YAML text.
  // Missing mapping keys on the way are created; a list index must exist. Throws
  // InputError (without a location: the caller knows where the override came from)
  // when the path does not fit the document. The copy keeps file() and path().
  using Override = std::pair<std::string, std::string>;
  // The value at such a path as one line of YAML; nullopt when the document lacks it.
  std::optional<std::string> lookup(const std::string& path) const;
  ConfigMap with(const std::vector<Override>& overrides) const;

  struct Impl;

 private:
  explicit ConfigMap(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  // Against the bound section's table: `key` is in it, may be read as `type`, and (when
  // the table's default reads as a number) `fallback` is that default.
  void expect(std::string_view key, unsigned type) const;
  void expect_default(std::string_view key, double fallback, std::optional<double> (*parse)(std::string_view)) const;
  std::shared_ptr<const Impl> impl_;
  mutable const Section* section_ = nullptr;
};

// Files are refused before they are read when larger than this: a YAML file's parsed
// form takes about thirty times its size in memory.
constexpr uintmax_t kMaxYamlBytes = 16u << 20;
// Whether `path` names an existing file or folder; never throws (a name too long for
// the system, or a folder that cannot be searched, is "no").
bool file_exists(const std::string& path);
// Creates the folder `dir` (and its parents); InputError naming it when it cannot.
void make_folder(const std::string& dir);
// Throws InputError, located, at the first character YAML does not allow in a file: a
// control character other than tab, line feed and carriage return, or bytes that are not
// UTF-8 (yaml-cpp can loop forever on a NUL or a stray 0xff). Every YAML text is checked
// before it is parsed.
void check_yaml_text(std::string_view text, const std::string& name);
// The bytes of the file at `path`: MissingFileError when there is none, InputError when
// it cannot be read or is larger than `most` bytes (`what` it is, for the message).
std::string read_text_file(const std::string& path, uintmax_t most, const char* what);
// Throws InputError when the file at `path` exists and is larger than `most` bytes.
void check_file_size(const std::string& path, uintmax_t most, const char* what);

// Parsers for the units above, shared with the CLI. nullopt when `text` is malformed.
std::optional<double> parse_duration(std::string_view text);
std::optional<double> parse_rate(std::string_view text);
std::optional<double> parse_fraction(std::string_view text);
// Formats seconds the way they are written in files: 90s, 15m, 2h, 250ms.
std::string format_duration(double seconds);
// A count or rate for people: 1500 -> "1,500"; 12.5 -> "12.5"; 0.25 -> "0.25".
std::string format_amount(double x);
// The candidate nearest to `word` by edit distance, or "" when none is close: within
// `within` edits, or by default within a third of the word's length (at least 2).
std::string nearest(std::string_view word, const std::vector<std::string>& candidates, size_t within = 0);

}  // namespace canarysim
