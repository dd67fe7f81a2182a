#include "sim/io/config.h"
#include "sim/io/schema.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

namespace canarysim {

// The files a document merged by `extends` came from: the file itself first, then its
// bases, each with its own tree (the merged tree shares their nodes).
struct Source {
  std::string file;
  YAML::Node root;
};
using Sources = std::vector<Source>;

struct ConfigMap::Impl {
  YAML::Node node;   // always a mapping
  std::string file;  // as the user named it
  std::string path;  // dotted path of `node` from the top of the file
  std::vector<std::string> also_allowed;  // see permitting()
  std::shared_ptr<const Sources> sources;  // set when the document extends another
  // Set by with() on a document that extends another (`overridden` non-null): the top of
  // the document before its overrides (whose nodes are the sources' own, so origin() finds
  // them; with() works on a copy, whose nodes are new), and the paths the overrides
  // replaced (their values were written by no file: relative to this one).
  YAML::Node original;
  std::shared_ptr<const std::vector<std::string>> overridden;

  // The file a node of the document was written in: a base's when `extends` brought it.
  const std::string& origin(const YAML::Node& n) const;
  // "file:line:column" of a node, naming the base and the file that extends it when the
  // node came from a base; `mark` is where (the node's own, or its mapping's).
  std::string at(const YAML::Node& n, const YAML::Mark& mark) const;
  Impl child(const YAML::Node& n, std::string child_path) const {
    return Impl{n, file, std::move(child_path), {}, sources, original, overridden};
  }
  // The file that wrote the value at `full_path` (from the top of the document).
  const std::string& origin_of(const std::string& full_path) const;
};

namespace {

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string where(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

bool contains(const YAML::Node& tree, const YAML::Node& n) {
  if (tree.is(n)) return true;
  if (tree.IsMap()) {
    for (const auto& kv : tree)
      if (contains(kv.first, n) || contains(kv.second, n)) return true;
  } else if (tree.IsSequence()) {
    for (const auto& item : tree)
      if (contains(item, n)) return true;
  }
  return false;
}

}  // namespace

const std::string& ConfigMap::Impl::origin(const YAML::Node& n) const {
  if (sources)  // only on the way to an error message, or a file path: a search is fine
    for (size_t i = 1; i < sources->size(); ++i)
      if (contains((*sources)[i].root, n) && !contains((*sources)[0].root, n)) return (*sources)[i].file;
  return file;
}

std::string ConfigMap::Impl::at(const YAML::Node& n, const YAML::Mark& mark) const {
  const std::string& f = origin(n);
  return where(f, mark) + (f == file ? "" : " (extended by " + file + ")");
}

namespace {

// How a value is shown in "got ..." parts of messages: a long one by its start and size,
// so that a hostile file cannot make the message as large as itself.
std::string shown(const YAML::Node& n) {
  constexpr size_t kShown = 120;
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      if (n.Scalar().size() > kShown)
        return "'" + n.Scalar().substr(0, kShown) + "...' (" + std::to_string(n.Scalar().size()) + " characters)";
      return "'" + n.Scalar() + "'";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

std::optional<double> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Splits "250ms" into 250 and "ms".
std::optional<std::pair<double, std::string_view>> split_unit(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) ||
                             text[i] == '.' || text[i] == '-' || text[i] == '+' ||
                             text[i] == 'e' || text[i] == 'E')) {
    // An 'e' is an exponent only when followed by a digit or sign ("1e3s"), not "s".
    if ((text[i] == 'e' || text[i] == 'E') &&
        (i + 1 >= text.size() || !(std::isdigit(static_cast<unsigned char>(text[i + 1])) ||
                                   text[i + 1] == '-' || text[i + 1] == '+')))
      break;
    ++i;
  }
  const auto number = parse_number(text.substr(0, i));
  if (!number) return std::nullopt;
  return std::make_pair(*number, text.substr(i));
}

}  // namespace

std::optional<double> parse_duration(std::string_view text) {
  if (text == "0") return 0.0;
  // One number and unit ("90s", "1.5h"), or several from the largest unit down, as Go,
  // Prometheus and Argo write them ("1h30m", "2m30s", "1d12h").
  double total = 0;
  int last_rank = 7;
  for (bool first = true; first || !text.empty(); first = false) {
    if (!first && (text.front() == '-' || text.front() == '+')) return std::nullopt;
    const auto parts = split_unit(text);
    if (!parts) return std::nullopt;
    const auto [value, rest] = *parts;
    size_t n = 0;
    while (n < rest.size() && std::isalpha(static_cast<unsigned char>(rest[n]))) ++n;
    const std::string_view unit = rest.substr(0, n);
    struct Unit {
      std::string_view name;
      double seconds;
      int rank;  // units must come largest first
    };
    static constexpr Unit kUnits[] = {{"us", 1e-6, 1}, {"ms", 1e-3, 2}, {"s", 1, 3}, {"m", 60, 4},
                                      {"min", 60, 4}, {"h", 3600, 5}, {"d", 86400, 6}};
    const Unit* u = std::find_if(std::begin(kUnits), std::end(kUnits), [&](const Unit& k) { return k.name == unit; });
    if (u == std::end(kUnits)) return std::nullopt;
    if (u->rank >= last_rank) return std::nullopt;  // "30m1h", "1m1m"
    last_rank = u->rank;
    total += value * u->seconds;
    text = rest.substr(n);
  }
  return total;
}

std::optional<double> parse_rate(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto value = parse_number(text.substr(0, slash));
  const std::string_view unit = text.substr(slash + 1);
  if (!value) return std::nullopt;
  if (unit == "s" || unit == "sec") return *value;
  if (unit == "m" || unit == "min") return *value / 60;
  if (unit == "h") return *value / 3600;
  return std::nullopt;
}

std::optional<double> parse_fraction(std::string_view text) {
  if (!text.empty() && text.back() == '%') {
    const auto v = parse_number(text.substr(0, text.size() - 1));
    if (!v) return std::nullopt;
    return *v / 100;
  }
  return parse_number(text);
}

std::string format_duration(double s) {
  std::ostringstream out;
  if (s == 0) return "0s";
  if (s < 0.001) out << s * 1e6 << "us";
  else if (s < 1) out << s * 1000 << "ms";
  else if (s < 120 || std::fmod(s, 60) != 0) out << s << "s";
  else if (s < 7200 || std::fmod(s, 3600) != 0) out << s / 60 << "m";
  else out << s / 3600 << "h";
  return out.str();
}

std::string nearest(std::string_view word, const std::vector<std::string>& candidates, size_t within) {
  std::string best;
  size_t best_distance = (within ? within : std::max<size_t>(2, word.size() / 3)) + 1;
  for (const std::string& c : candidates) {
    // Levenshtein distance, one row at a time.
    std::vector<size_t> row(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (word[i - 1] != c[j - 1])});
        diagonal = up;
      }
    }
    if (row[c.size()] < best_distance) {
      best_distance = row[c.size()];
      best = c;
    }
  }
  return best;
}

ConfigMap ConfigMap::parse_file(const std::string& path) {
  return parse_string(read_text_file(path, kMaxYamlBytes, "a YAML file"), path);
}

std::string read_text_file(const std::string& path, uintmax_t most, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!file_exists(path)) throw MissingFileError(path + ": no such file");
    throw InputError(path + ": cannot be read");
  }
  check_file_size(path, most, what);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec) && !ec;
}

void make_folder(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError(dir + ": cannot create this folder: " + ec.message());
}

void check_yaml_text(std::string_view text, const std::string& name) {
  size_t line = 1, column = 1;
  auto refuse = [&](const std::string& what) {
    throw InputError(name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": invalid YAML: " + what +
                     " (a binary file, or text in another encoding than UTF-8?)");
  };
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    char code[8];
    std::snprintf(code, sizeof code, "0x%02x", c);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
        refuse(std::string("control character ") + code);
      if (c == '\n') ++line, column = 1;
      else ++column;
      ++i;
      continue;
    }
    // UTF-8: the lead byte gives the length; no overlong forms, surrogates or values
    // above U+10FFFF.
    const size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n == 0 || i + n > text.size()) refuse(std::string("byte ") + code + " that is not UTF-8");
    uint32_t cp = c & (0xff >> (n + 1));
    for (size_t k = 1; k < n; ++k) {
      const auto t = static_cast<unsigned char>(text[i + k]);
      if ((t & 0xc0) != 0x80) refuse(std::string("byte ") + code + " that is not UTF-8");
      cp = (cp << 6) | (t & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      refuse(std::string("byte ") + code + " that is not UTF-8");
    i += n;
    ++column;
  }
}

void check_file_size(const std::string& path, uintmax_t most, const char* what) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > most) {
    throw InputError(path + ": " + std::to_string(size) + " bytes; expected " + what + " of at most " +
                     std::to_string(most >> 20) + " MiB (docs/input-contract.md)");
  }
}

namespace {

constexpr int kMaxExtends = 16;

// Deep merge: mappings merged key by key (the extending file's values win), anything else
// (lists included) replaced whole. Keys and values keep their nodes, so their marks.
YAML::Node merged(const YAML::Node& base, const YAML::Node& over) {
  YAML::Node out(YAML::NodeType::Map);
  for (const auto& kv : base) {
    const YAML::Node mine = over[kv.first.Scalar()];
    if (!mine) out.force_insert(kv.first, kv.second);
    else if (mine.IsMap() && kv.second.IsMap()) out.force_insert(kv.first, merged(kv.second, mine));
  }
  for (const auto& kv : over) {
    const YAML::Node theirs = base[kv.first.Scalar()];
    if (!(theirs && theirs.IsMap() && kv.second.IsMap())) out.force_insert(kv.first, kv.second);
  }
  return out;
}

}  // namespace

// `extends: base.yaml` at the top of a document: the base (relative to the document,
// itself possibly extending another) merged under it. `chain` holds the files on the
// way here, for cycles and messages.
static YAML::Node resolve_extends(YAML::Node root, const std::string& name, std::vector<std::string>& chain,
                                  Sources& sources) {
  sources.push_back({name, root});
  const YAML::Node ext = root["extends"];
  if (!ext) return root;
  const std::string at = where(name, ext.Mark()) + ": extends";
  if (!ext.IsScalar() || ext.Scalar().empty())
    throw InputError(at + ": expected the path of a YAML file to build on, got " + shown(ext));
  if (name.empty() || name.front() == '<')
    throw InputError(at + ": expected a document read from a file (a base is found relative to it)");
  const std::string base = (std::filesystem::path(name).parent_path() / ext.Scalar()).lexically_normal().string();
  std::error_code ec;
  const std::string key = std::filesystem::weakly_canonical(base, ec).string();
  chain.push_back(name);
  const std::string me = std::filesystem::weakly_canonical(name, ec).string();
  if (chain.size() > kMaxExtends) throw InputError(at + ": more than " + std::to_string(kMaxExtends) + " files deep");
  for (const std::string& f : chain)
    if (std::filesystem::weakly_canonical(f, ec).string() == key || key == me) {
      std::string cycle;
      for (const std::string& g : chain) cycle += g + " -> ";
      throw InputError(at + ": a cycle: " + cycle + base);
    }
  std::ifstream in(base);
  if (!in) throw MissingFileError(at + ": no such file " + base + " (relative to " + name + ")");
  check_file_size(base, kMaxYamlBytes, "a YAML file");
  std::stringstream text;
  text << in.rdbuf();
  check_yaml_text(text.str(), base);
  YAML::Node parent;
  try {
    parent = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    throw InputError(where(base, e.mark) + ": invalid YAML: " + e.msg + " (extended by " + name + ")");
  }
  if (!parent.IsMap())
    throw InputError(where(base, parent.Mark()) + ": expected a mapping of keys to values (extended by " + name + ")");
  // A new Node, not `parent = ...`: assigning to a yaml-cpp Node rebinds the node it
  // refers to, which `sources` holds as the base's own tree.
  const YAML::Node resolved = resolve_extends(parent, base, chain, sources);
  YAML::Node own(YAML::NodeType::Map);
  for (const auto& kv : root)
    if (kv.first.Scalar() != "extends") own.force_insert(kv.first, kv.second);
  return merged(resolved, own);
}

ConfigMap ConfigMap::parse_string(const std::string& text, const std::string& name) {
  check_yaml_text(text, name);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own message for it is "bad file"
    throw InputError(where(name, e.mark) + ": invalid YAML: nested deeper than yaml-cpp reads (2,000 levels)");
  } catch (const YAML::Exception& e) {
    throw InputError(where(name, e.mark) + ": invalid YAML: " + e.msg);
  }
  if (!root.IsMap()) {
    throw InputError(where(name, root.Mark()) + ": expected a mapping of keys to values, got " +
                     shown(root));
  }
  if (!root["extends"]) return ConfigMap(std::make_shared<Impl>(Impl{root, name, "", {}, nullptr, {}, nullptr}));
  auto sources = std::make_shared<Sources>();
  std::vector<std::string> chain;
  const YAML::Node doc = resolve_extends(root, name, chain, *sources);
  return ConfigMap(std::make_shared<Impl>(Impl{doc, name, "", {}, sources, {}, nullptr}));
}

void ConfigMap::fail(std::string_view key, const std::string& expected) const {
  const YAML::Node value = impl_->node[std::string(key)];
  if (!value) {
    throw InputError(impl_->at(impl_->node, impl_->node.Mark()) + ": " + join(impl_->path, key) +
                     ": missing; expected " + expected);
  }
  throw InputError(impl_->at(value, value.Mark()) + ": " + join(impl_->path, key) +
                   ": expected " + expected + ", got " + shown(value));
}

void ConfigMap::reject(std::string_view key, const std::string& message) const {
  throw InputError(located(key, message));
}

std::string ConfigMap::located(std::string_view key, const std::string& message) const {
  const YAML::Node value = impl_->node[std::string(key)];
  const YAML::Node at = value ? value : impl_->node;
  return impl_->at(at, at.Mark()) + ": " + join(impl_->path, key) + ": " + message;
}

void ConfigMap::warn(std::string_view key, const std::string& message) const {
  // Once each: a file read twice (checked, then run) warns once.
  static std::mutex mutex;
  static std::set<std::string> said;
  const std::string line = located(key, message);
  std::lock_guard<std::mutex> lock(mutex);
  if (said.insert(line).second) std::fprintf(stderr, "warning: %s\n", line.c_str());
}

void ConfigMap::reject_missing(std::string_view key, const std::string& message) const {
  try {
    reject(key, message);
  } catch (const InputError& e) {
    throw MissingFileError(e.what());
  }
}

void ConfigMap::fail_item(std::string_view key, size_t index, const std::string& expected) const {
  const YAML::Node list = impl_->node[std::string(key)];
  // A single value that stands for a list of one (texts()) is its own item 0.
  if (!list || !list.IsSequence() || index >= list.size()) fail(key, expected);
  const YAML::Node item = list[index];
  throw InputError(impl_->at(item, item.Mark()) + ": " + join(impl_->path, key) + "[" +
                   std::to_string(index) + "]: expected " + expected + ", got " + shown(item));
}

void ConfigMap::allow(std::initializer_list<std::string_view> keys) const {
  allow(std::vector<std::string>(keys.begin(), keys.end()));
}

ConfigMap ConfigMap::permitting(std::vector<std::string> keys) const {
  auto impl = std::make_shared<Impl>(*impl_);
  impl->also_allowed.insert(impl->also_allowed.end(), keys.begin(), keys.end());
  return ConfigMap(impl);
}

void ConfigMap::allow(const Section& section) const {
  allow(section.keys());
  section_ = &section;
}

void ConfigMap::expect(std::string_view key, unsigned type) const {
  if (!section_) return;
  const SchemaField* f = section_->find(key);
  const auto& shared = impl_->also_allowed;  // a section of its own (permitting())
  if (!f && std::find(shared.begin(), shared.end(), key) != shared.end()) return;
  if (!f)
    throw std::logic_error("schema: " + std::string(section_->path) + "." + std::string(key) +
                           " is read but not in its table");
  if (!(f->type & (type | schema::kAny)))
    throw std::logic_error("schema: " + std::string(section_->path) + "." + std::string(key) + " is read as " +
                           schema_type_name(type) + "; its table says " + schema_type_name(f->type));
}

void ConfigMap::expect_default(std::string_view key, double fallback,
                               std::optional<double> (*parse)(std::string_view)) const {
  if (!section_ || !section_->fixed_defaults) return;
  const SchemaField* f = section_->find(key);
  if (!f || f->fallback.empty() || f->fallback == kOptional) return;
  const std::optional<double> table = parse(f->fallback);
  if (table && std::abs(*table - fallback) > 1e-9 * std::max(1.0, std::abs(fallback)))
    throw std::logic_error("schema: " + std::string(section_->path) + "." + std::string(key) + " defaults to " +
                           std::to_string(fallback) + "; its table says " + std::string(f->fallback));
}

void ConfigMap::allow(const std::vector<std::string>& only) const {
  std::vector<std::string> known = only;
  known.insert(known.end(), impl_->also_allowed.begin(), impl_->also_allowed.end());
  std::vector<std::string> seen;
  for (const auto& kv : impl_->node) {
    const std::string key = kv.first.Scalar();
    const std::string at = impl_->at(kv.first, kv.first.Mark()) + ": " + join(impl_->path, key);
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      throw InputError(at + ": duplicate key");
    seen.push_back(key);
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = at + ": unknown key";
    const std::string guess = nearest(key, known);
    if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw InputError(message + "; expected one of: " + list);
  }
}

std::vector<std::string> ConfigMap::keys() const {
  // YAML forbids a key twice in a mapping, but yaml-cpp keeps both and a lookup finds the
  // first: a grid listing a field twice would run the first list twice, silently.
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& kv : impl_->node) {
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second)
      throw InputError(impl_->at(kv.first, kv.first.Mark()) + ": " + join(impl_->path, key) + ": duplicate key");
    out.push_back(key);
  }
  return out;
}

bool ConfigMap::has(std::string_view key) const {
  const YAML::Node v = impl_->node[std::string(key)];
  return v && !v.IsNull();
}

namespace {
constexpr const char* kDurationForm = "a duration like '250ms', '90s', '15m' or '2h'";
constexpr const char* kRateForm = "a rate like '200/s', '12000/m' or '50000/h'";
}  // namespace

double ConfigMap::duration(std::string_view key) const {
  expect(key, schema::kDuration);
  const YAML::Node v = impl_->node[std::string(key)];
  if (!v || !v.IsScalar()) fail(key, kDurationForm);
  const auto d = parse_duration(v.Scalar());
  if (!d) fail(key, kDurationForm);
  if (*d < 0) fail(key, std::string("a non-negative duration"));
  // Microseconds to a year: what any rollout study needs (docs/input-contract.md).
  if ((*d > 0 && *d < kMinDurationS * (1 - 1e-9)) || *d > kMaxDurationS)
    fail(key, "a duration of 0 or from 1us to 365d");
  return *d;
}
double ConfigMap::duration(std::string_view key, double fallback) const {
  expect(key, schema::kDuration);
  expect_default(key, fallback, parse_duration);
  return has(key) ? duration(key) : fallback;
}

double ConfigMap::rate(std::string_view key) const {
  expect(key, schema::kRate);
  const YAML::Node v = impl_->node[std::string(key)];
  if (!v || !v.IsScalar()) fail(key, kRateForm);
  const auto r = parse_rate(v.Scalar());
  if (!r) fail(key, kRateForm);
  if (*r <= 0 || *r > kMaxRatePerS) fail(key, "a positive rate of at most 1000000/s");
  return *r;
}
double ConfigMap::rate(std::string_view key, double fallback) const {
  expect(key, schema::kRate);
  expect_default(key, fallback, parse_rate);
  return has(key) ? rate(key) : fallback;
}

double ConfigMap::probability(std::string_view key) const {
  expect(key, schema::kFraction);
  const YAML::Node v = impl_->node[std::string(key)];
  const char* form = "a probability in [0, 1], like 0.02 or 2%";
  if (!v || !v.IsScalar()) fail(key, form);
  const auto p = parse_fraction(v.Scalar());
  if (!p || *p < 0 || *p > 1) fail(key, form);
  return *p;
}
double ConfigMap::probability(std::string_view key, double fallback) const {
  expect(key, schema::kFraction);
  expect_default(key, fallback, parse_fraction);
  return has(key) ? probability(key) : fallback;
}

double ConfigMap::percent(std::string_view key) const {
  expect(key, schema::kPercent);
  const YAML::Node v = impl_->node[std::string(key)];
  const char* form = "a weight in percent, in [0, 100], like 25 or 25%";
  if (!v || !v.IsScalar()) fail(key, form);
  std::string_view text = v.Scalar();
  if (!text.empty() && text.back() == '%') text.remove_suffix(1);
  const auto x = parse_number(text);
  if (!x || *x < 0 || *x > 100) fail(key, form);
  return *x / 100;
}

double ConfigMap::number(std::string_view key, double lo, double hi) const {
  expect(key, schema::kNumber | schema::kFraction);
  const YAML::Node v = impl_->node[std::string(key)];
  // A number within [0, 1] is a fraction, and every fraction may be written in percent.
  const bool fraction = lo >= 0 && hi <= 1;
  std::ostringstream form;
  form << "a number";
  if (hi == INFINITY && lo == 0) form << " >= 0";
  else if (hi == INFINITY) form << " >= " << lo;
  else form << " in [" << lo << ", " << hi << "]";
  if (fraction) form << ", like 0.25 or 25%";
  if (!v || !v.IsScalar()) fail(key, form.str());
  const auto x = fraction ? parse_fraction(v.Scalar()) : parse_number(v.Scalar());
  if (!x || *x < lo || *x > hi) fail(key, form.str());
  return *x;
}
double ConfigMap::number(std::string_view key, double fallback, double lo, double hi) const {
  expect(key, schema::kNumber | schema::kFraction);
  expect_default(key, fallback, parse_fraction);
  return has(key) ? number(key, lo, hi) : fallback;
}

uint64_t ConfigMap::count(std::string_view key, uint64_t fallback, uint64_t lo,
                          uint64_t hi) const {
  expect(key, schema::kCount);
  expect_default(key, static_cast<double>(fallback), parse_number);
  if (!has(key)) return fallback;
  const YAML::Node v = impl_->node[std::string(key)];
  const std::string form =
      "a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (!v.IsScalar()) fail(key, form);
  const std::string& s = v.Scalar();
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) fail(key, form);
  errno = 0;
  const unsigned long long n = std::strtoull(s.c_str(), nullptr, 10);
  if (errno == ERANGE || n < lo || n > hi) fail(key, form);
  return n;
}

std::string ConfigMap::text(std::string_view key) const {
  expect(key, schema::kText | schema::kFile);
  const YAML::Node v = impl_->node[std::string(key)];
  if (!v || !v.IsScalar() || v.Scalar().empty()) fail(key, "a text value");
  return v.Scalar();
}
std::string ConfigMap::text(std::string_view key, const std::string& fallback) const {
  expect(key, schema::kText | schema::kFile);
  return has(key) ? text(key) : fallback;
}

bool ConfigMap::flag(std::string_view key, bool fallback) const {
  expect(key, schema::kFlag);
  expect_default(key, fallback ? 1 : 0, [](std::string_view t) { return t == "true" ? std::optional<double>(1) : t == "false" ? std::optional<double>(0) : std::nullopt; });
  if (!has(key)) return fallback;
  const YAML::Node v = impl_->node[std::string(key)];
  const std::string s = v.IsScalar() ? v.Scalar() : "";
  if (s == "true") return true;
  if (s == "false") return false;
  fail(key, "true or false");
}

std::vector<double> ConfigMap::numbers(std::string_view key) const {
  expect(key, schema::kNumbers);
  const YAML::Node v = impl_->node[std::string(key)];
  if (!v || !v.IsSequence() || v.size() == 0) fail(key, "a non-empty list of numbers");
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const auto x = v[i].IsScalar() ? parse_number(v[i].Scalar()) : std::nullopt;
    if (!x) fail_item(key, i, "a number");
    out.push_back(*x);
  }
  return out;
}

std::vector<std::string> ConfigMap::texts(std::string_view key) const {
  expect(key, schema::kTexts | schema::kText);
  const YAML::Node v = impl_->node[std::string(key)];
  std::vector<std::string> out;
  if (!v || v.IsNull()) return out;
  if (v.IsScalar()) return {v.Scalar()};
  if (!v.IsSequence()) fail(key, "a list of names");
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].IsScalar() || v[i].Scalar().empty()) fail_item(key, i, "a name");
    out.push_back(v[i].Scalar());
  }
  return out;
}

bool ConfigMap::is_map(std::string_view key) const {
  const YAML::Node v = impl_->node[std::string(key)];
  return v && v.IsMap();  // a missing key's node throws on IsMap()
}

ConfigMap ConfigMap::map(std::string_view key) const {
  expect(key, schema::kMap);
  const YAML::Node v = impl_->node[std::string(key)];
  if (!v || !v.IsMap()) fail(key, "a mapping of keys to values");
  return ConfigMap(std::make_shared<Impl>(impl_->child(v, join(impl_->path, key))));
}

std::vector<ConfigMap> ConfigMap::maps(std::string_view key) const {
  expect(key, schema::kList);
  std::vector<ConfigMap> out;
  if (!has(key)) return out;
  const YAML::Node v = impl_->node[std::string(key)];
  if (!v.IsSequence()) fail(key, "a list of mappings");
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].IsMap()) fail_item(key, i, "a mapping of keys to values");
    out.push_back(ConfigMap(
        std::make_shared<Impl>(impl_->child(v[i], join(impl_->path, key) + "[" + std::to_string(i) + "]"))));
  }
  return out;
}

const std::string& ConfigMap::file() const { return impl_->file; }
const std::string& ConfigMap::path() const { return impl_->path; }

std::string ConfigMap::directory() const {
  if (impl_->file.empty() || impl_->file.front() == '<') return ".";
  const auto parent = std::filesystem::path(impl_->file).parent_path();
  return parent.empty() ? "." : parent.string();
}

std::string ConfigMap::file_path(std::string_view key) const {
  // Relative to the file that wrote it (a base's path is the base's, under `extends`).
  std::string dir = directory();
  if (impl_->sources) {
    const std::string& f = impl_->overridden ? impl_->origin_of(join(impl_->path, key))
                                             : impl_->origin(impl_->node[std::string(key)]);
    const auto parent = std::filesystem::path(f).parent_path();
    if (f != impl_->file && !f.empty() && f.front() != '<') dir = parent.empty() ? "." : parent.string();
  }
  return (std::filesystem::path(dir) / text(key)).lexically_normal().string();
}

std::string ConfigMap::dump() const {
  YAML::Emitter out;
  out << impl_->node;
  return out.c_str();
}

namespace {

std::string flow(const YAML::Node& n) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << n;
  return out.c_str();
}

// Splits "a.b[2].c" into {"a", "b", "[2]", "c"}; empty when malformed.
std::vector<std::string> path_parts(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '.' || c == '[') {
      if (!cur.empty()) parts.push_back(cur);
      else if (c == '.' && (parts.empty() || parts.back().front() != '[')) return {};
      cur.clear();
      if (c == '[') {
        const size_t close = path.find(']', i);
        if (close == std::string::npos || close == i + 1) return {};
        const std::string index = path.substr(i + 1, close - i - 1);
        if (index.size() > 9 || index.find_first_not_of("0123456789") != std::string::npos) return {};
        parts.push_back("[" + index + "]");
        i = close;
      }
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  else if (!path.empty() && path.back() == '.') return {};
  return parts;
}

}  // namespace

const std::string& ConfigMap::Impl::origin_of(const std::string& full_path) const {
  for (const std::string& o : *overridden)  // an override's value, or inside one
    if (full_path == o || (full_path.rfind(o, 0) == 0 && (full_path[o.size()] == '.' || full_path[o.size()] == '[')))
      return file;
  YAML::Node here = original;
  for (const std::string& part : path_parts(full_path)) {
    YAML::Node next;
    if (part.front() == '[') {
      const size_t index = std::stoul(part.substr(1, part.size() - 2));
      if (!here.IsSequence() || index >= here.size()) return file;
      next = here[index];
    } else {
      if (!here.IsMap() || !here[part]) return file;
      next = here[part];
    }
    here.reset(next);
  }
  return origin(here);
}

std::string ConfigMap::yaml(std::string_view key) const {
  const YAML::Node v = impl_->node[std::string(key)];
  if (!v) fail(key, "a value");
  return flow(v);
}

std::vector<std::string> ConfigMap::yaml_items(std::string_view key) const {
  const YAML::Node v = impl_->node[std::string(key)];
  if (!v || !v.IsSequence() || v.size() == 0) fail(key, "a non-empty list of values");
  std::vector<std::string> out;
  for (const YAML::Node& item : v) out.push_back(flow(item));
  return out;
}

std::optional<std::string> ConfigMap::lookup(const std::string& path) const {
  YAML::Node here = impl_->node;
  const std::vector<std::string> parts = path_parts(path);
  if (parts.empty()) return std::nullopt;
  for (const std::string& part : parts) {
    YAML::Node next;
    if (part.front() == '[') {
      const size_t index = std::stoul(part.substr(1, part.size() - 2));
      if (!here.IsSequence() || index >= here.size()) return std::nullopt;
      next = here[index];
    } else {
      if (!here.IsMap() || !here[part]) return std::nullopt;
      next = here[part];
    }
    here.reset(next);
  }
  return flow(here);
}

ConfigMap ConfigMap::with(const std::vector<Override>& overrides) const {
  YAML::Node root = YAML::Clone(impl_->node);
  auto overridden = std::make_shared<std::vector<std::string>>();
  if (impl_->overridden) *overridden = *impl_->overridden;
  for (const auto& [path, value] : overrides) {
    const std::vector<std::string> parts = path_parts(path);
    if (parts.empty() || parts.front().front() == '[')
      throw InputError("'" + path + "' is not a path like 'steps', 'regressions[0].error_rate' or 'regressions.0.error_rate'");
    constexpr size_t kMaxParts = 64;  // no document nests deeper
    if (parts.size() > kMaxParts)
      throw InputError("'" + path.substr(0, 80) + (path.size() > 80 ? "...'" : "'") + " has " +
                       std::to_string(parts.size()) + " parts; a path has at most " + std::to_string(kMaxParts));
    YAML::Node parsed;
    try {
      parsed = YAML::Load(value);
    } catch (const YAML::ParserException& e) {
      throw InputError("value " + value + " is not YAML: " + e.msg);
    }
    // yaml-cpp's nodes are handles into the document: assigning to here[key] edits it.
    YAML::Node here = root;
    std::string so_far;
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string& part = parts[i];
      const bool last = i + 1 == parts.size();
      const std::string at = so_far + (so_far.empty() || part.front() == '[' ? "" : ".") + part;
      YAML::Node next;
      // An item as regressions[0] or, as Python paths write it, regressions.0.
      const bool dotted_index = here.IsSequence() && part.size() <= 9 && part.find_first_not_of("0123456789") == std::string::npos;
      if (part.front() == '[' || dotted_index) {
        const size_t index = std::stoul(dotted_index ? part : part.substr(1, part.size() - 2));
        if (!here.IsSequence() || index >= here.size())
          throw InputError(at + ": no such list item (" +
                           (here.IsSequence() ? "the list has " + std::to_string(here.size()) : "not a list") + ")");
        if (last) here[index] = parsed;
        next = here[index];
      } else {
        if (!here.IsMap()) throw InputError(at + ": " + (so_far.empty() ? "the document" : so_far) + " is not a mapping");
        if (last) here[part] = parsed;
        else if (!here[part] || here[part].IsNull()) here[part] = YAML::Node(YAML::NodeType::Map);
        next = here[part];
      }
      here.reset(next);
      so_far = (dotted_index ? so_far + "[" + part + "]" : at);
    }
    overridden->push_back(join(impl_->path, so_far));
  }
  Impl copy{root, impl_->file, impl_->path, {}, impl_->sources, impl_->original, impl_->overridden};
  // The nodes origin() knows are the document's as read; a copy's are new. Known at the
  // top of a document that extends another (a mapping inside knows no path to the top).
  if (impl_->sources && (impl_->overridden || impl_->path.empty())) {
    if (!impl_->overridden) copy.original = impl_->node;
    copy.overridden = std::move(overridden);
  }
  return ConfigMap(std::make_shared<Impl>(std::move(copy)));
}

std::string format_amount(double x) {
  char buf[64];
  if (!(std::abs(x) >= 100)) {
    std::snprintf(buf, sizeof buf, "%.3g", x);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.0f", std::abs(x));
  std::string digits = buf, out = x < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace canarysim
