#include "sim/model/trace.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string_view>

#include "sim/io/config.h"
#include "sim/io/schema.h"

namespace canarysim {

namespace {

constexpr const char* kRoles[] = {"time", "prompt_tokens", "output_tokens", "cached_tokens", "user", "segment", "failed"};

using namespace schema;
const Section kTraceColumns{"scenario", "traffic.trace.columns", "The trace's column for each role.", {
    {"time", kText, "(none)", "", "arrival time"},
    {"prompt_tokens", kText, "(none)", "", "prompt length"},
    {"output_tokens", kText, "(none)", "", "output length"},
    {"cached_tokens", kText, "(none)", "", "prompt tokens in the prefix cache"},
    {"user", kText, "(none)", "", "user id (for stickiness and blast radius in users)"},
    {"segment", kText, "(none)", "", "segment name"},
    {"failed", kText, "(none)", "", "the request failed (0/1, true/false)"},
}};


struct Schema {
  const char *name, *format, *time, *prompt, *output, *unit;
  bool zero_output_fails;
};
constexpr Schema kSchemas[] = {
    {"azure", "csv", "TIMESTAMP", "ContextTokens", "GeneratedTokens", "datetime", false},
    {"azure-2024", "csv", "TIMESTAMP", "ContextTokens", "GeneratedTokens", "datetime", false},
    {"mooncake", "jsonl", "timestamp", "input_length", "output_length", "ms", false},
    {"burstgpt", "csv", "Timestamp", "Request tokens", "Response tokens", "s", true},
};

// Column names found without a schema, by role.
// Seconds in one of a numeric time_unit.
double seconds_per(const std::string& unit) {
  return unit == "ms" ? 1e-3 : unit == "us" ? 1e-6 : unit == "ns" ? 1e-9 : 1;
}

// "a, b, c": names as messages list them.
std::string comma_list(const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return list;
}

const std::vector<std::string>& default_names(const std::string& role) {
  static const std::map<std::string, std::vector<std::string>> names = {
      {"time", {"TIMESTAMP", "timestamp", "Timestamp", "time", "arrival_time"}},
      {"prompt_tokens",
       {"ContextTokens", "prompt_tokens", "input_tokens", "context_tokens", "input_length", "Request tokens"}},
      {"output_tokens",
       {"GeneratedTokens", "output_tokens", "generated_tokens", "output_length", "Response tokens", "completion_tokens"}},
      {"cached_tokens", {"cached_tokens", "CachedTokens"}},
  };
  static const std::vector<std::string> none;
  const auto it = names.find(role);
  return it == names.end() ? none : it->second;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Seconds since 1970 (UTC) of "YYYY-MM-DD HH:MM:SS[.fraction][Z|+HH:MM|-HHMM]", with a
// space or a T between date and time.
bool parse_datetime(std::string_view s, double& out) {
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
    return false;
  const char* b = s.data();
  auto num = [](const char* p, const char* q, int& v) { return std::from_chars(p, q, v).ptr == q; };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  if (!num(b, b + 4, y) || !num(b + 5, b + 7, mo) || !num(b + 8, b + 10, d) || !num(b + 11, b + 13, h) ||
      !num(b + 14, b + 16, mi))
    return false;
  // Seconds and fraction, then the zone.
  size_t end = 17;
  while (end < s.size() && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '.')) ++end;
  double sec = 0;
  if (std::from_chars(b + 17, b + end, sec).ptr != b + end || !(sec >= 0 && sec < 61)) return false;
  double offset = 0;
  std::string_view zone = s.substr(end);
  if (zone == "Z" || zone == "z") {
    zone = {};
  } else if (!zone.empty()) {
    if (zone[0] != '+' && zone[0] != '-') return false;
    const int sign = zone[0] == '-' ? -1 : 1;
    std::string digits;
    for (char c : zone.substr(1))
      if (c != ':') digits += c;
    int zh = 0, zm = 0;
    if (digits.size() != 4 || !num(digits.data(), digits.data() + 2, zh) || !num(digits.data() + 2, digits.data() + 4, zm) ||
        zh > 23 || zm > 59)
      return false;
    offset = sign * (zh * 3600 + zm * 60);
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59) return false;
  out = static_cast<double>(days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))) * 86400 +
        h * 3600 + mi * 60 + sec - offset;
  return true;
}

// Splits a CSV line as Python's csv module reads one: a field that starts with '"' (after
// spaces) is quoted up to the lone '"' that closes it ('""' inside stands for one), and
// the separator inside it is text; a '"' anywhere else is a character ('5" screen').
// Fields go to `out` without their outer spaces and quotes. False when the line ends
// inside a quoted field: the record goes on to the next line.
bool split_csv(std::string_view line, char separator, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  bool at_start = true, quoted = false;
  for (size_t i = 0; i <= line.size(); ++i) {
    const char c = i < line.size() ? line[i] : separator;
    if (quoted) {
      if (i == line.size()) return false;
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') ++i;
        else quoted = false;
      }
    } else if (c == separator) {
      std::string_view f = line.substr(start, i - start);
      while (!f.empty() && (f.front() == ' ' || f.front() == '"')) f.remove_prefix(1);
      while (!f.empty() && (f.back() == ' ' || f.back() == '"' || f.back() == '\r')) f.remove_suffix(1);
      out.push_back(f);
      start = i + 1;
      at_start = true;
    } else if (at_start && c != ' ') {
      quoted = c == '"';
      at_start = false;
    }
  }
  return true;
}

// The header's field separator: a comma when it has one (outside quotes), else the
// tab, semicolon or bar it has most of (tab-separated exports, European spreadsheets).
char csv_separator(std::string_view header) {
  const char candidates[] = {',', '\t', ';', '|'};
  size_t counts[std::size(candidates)] = {};
  bool quoted = false;
  for (char c : header) {
    if (c == '"') quoted = !quoted;
    for (size_t k = 0; k < std::size(candidates); ++k) counts[k] += !quoted && c == candidates[k];
  }
  if (counts[0] > 0) return ',';
  const size_t best = static_cast<size_t>(std::max_element(counts + 1, std::end(counts)) - counts);
  return counts[best] > 0 ? candidates[best] : ',';
}

// Follows a JSON value's brackets a character at a time, strings and their escapes
// skipped: step() is true at the character that closes the value the first opened.
struct JsonNesting {
  int depth = 0;
  bool in_string = false, escaped = false;
  bool step(char c) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && --depth == 0) {
      return true;
    }
    return false;
  }
};

// The members of one JSON object, scalars as their text (strings unquoted). A nested
// object's members are named by their path ("usage.prompt_tokens": API logs nest token
// counts); an array's values are not read, and its name goes to `arrays` (for messages).
// False when the text is not one such object.
bool parse_json_object(std::string_view s, std::vector<std::pair<std::string, std::string>>& out,
                       std::vector<std::string>& arrays) {
  out.clear();
  arrays.clear();
  size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  auto string = [&](std::string& v) {
    if (i >= s.size() || s[i] != '"') return false;
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] == '\\') {
        if (++i >= s.size()) return false;
        v += s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : s[i];
      } else {
        v += s[i];
      }
    }
    if (i >= s.size()) return false;
    ++i;
    return true;
  };
  auto skip_array = [&] {
    JsonNesting nesting;
    while (i < s.size())
      if (nesting.step(s[i++])) return true;
    return false;
  };
  // The members of the object at i, each name after `prefix`; nesting is bounded (a
  // trace's objects are shallow, and recursion must not follow a hostile file down).
  std::function<bool(const std::string&, int)> object = [&](const std::string& prefix, int depth) {
    if (depth > 16 || i >= s.size() || s[i] != '{') return false;
    ++i;
    ws();
    if (i < s.size() && s[i] == '}') {
      ++i;
      return true;
    }
    for (;;) {
      ws();
      std::string key, value;
      if (!string(key)) return false;
      ws();
      if (i >= s.size() || s[i] != ':') return false;
      ++i;
      ws();
      if (i >= s.size()) return false;
      if (s[i] == '"') {
        if (!string(value)) return false;
        out.emplace_back(prefix.empty() ? std::move(key) : prefix + key, std::move(value));
      } else if (s[i] == '{') {
        if (!object(prefix + key + ".", depth + 1)) return false;
      } else if (s[i] == '[') {
        if (!skip_array()) return false;
        arrays.push_back(prefix + key);
      } else {
        const size_t start = i;
        while (i < s.size() && s[i] != ',' && s[i] != '}' && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        value = std::string(s.substr(start, i - start));
        if (value.empty()) return false;
        out.emplace_back(prefix.empty() ? std::move(key) : prefix + key, std::move(value));
      }
      ws();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == '}') {
        ++i;
        return true;
      }
      return false;
    }
  };
  ws();
  if (!object("", 0)) return false;
  ws();
  return i == s.size();
}

// How one JSON object holds a whole table, as pandas' to_json() lays it out, for a message
// ("" when it does not look like one): by column, each keyed by row (orient='columns',
// the default: "TIMESTAMP.0"), by row label (orient='index': "0.TIMESTAMP"), or as
// columns and data arrays (orient='split' or 'table').
std::string table_layout(const std::vector<std::string>& keys, const std::vector<std::string>& arrays,
                         std::string_view text) {
  auto whole = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  };
  size_t by_column = 0, by_row = 0;
  for (const std::string& k : keys) {
    const size_t dot = k.find('.');
    if (dot == std::string::npos) continue;
    by_column += whole(std::string_view(k).substr(dot + 1));
    by_row += whole(std::string_view(k).substr(0, dot));
  }
  if (keys.size() >= 2 && by_column == keys.size()) return "by column, each keyed by row (pandas' orient='columns', its default)";
  if (keys.size() >= 2 && by_row == keys.size()) return "keyed by row label (pandas' orient='index')";
  // Columns as arrays, one of them a column the reader looks for by name.
  const auto named = [](const std::string& a) {
    for (const char* role : {"time", "prompt_tokens", "output_tokens"}) {
      const auto& names = default_names(role);
      if (std::find(names.begin(), names.end(), a) != names.end()) return true;
    }
    return false;
  };
  if (arrays.size() >= 2 && std::any_of(arrays.begin(), arrays.end(), named))
    return "by column, each column an array of its values (a dict of lists, as DataFrame.to_dict('list') gives)";
  const bool data = text.find("\"data\"") != std::string_view::npos;
  if (data && (text.find("\"columns\"") != std::string_view::npos || text.find("\"schema\"") != std::string_view::npos))
    return "as columns and data arrays (pandas' orient='split' or 'table')";
  return "";
}

// Lines of a file, gzip-compressed or not.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {}
  ~LineReader() {
    if (file_) gzclose(file_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  bool ok() const { return file_ != nullptr; }
  // The next line, without its end (\n or \r\n) and, on the first, without a UTF-8 byte
  // order mark (spreadsheet exports start with one). A line longer than kMaxLine is an
  // error: no trace row is, and reading on would hold the whole file.
  static constexpr size_t kMaxLine = 16 << 20;
  bool next(std::string& line) {
    line.clear();
    char buf[65536];
    while (gzgets(file_, buf, sizeof buf)) {
      line += buf;
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return took(line);
      }
      if (line.size() > kMaxLine)
        throw InputError(path_ + ":" + std::to_string(lines_ + 1) + ": a line longer than 16 MiB; a trace row is a few hundred bytes");
    }
    int err = 0;
    gzerror(file_, &err);
    if (err != Z_OK && err != Z_STREAM_END)
      throw InputError(path_ + ":" + std::to_string(lines_ + 1) + ": corrupt compressed data");
    return !line.empty() && took(line);
  }

 private:
  // Counts a line returned, and takes the byte order mark off the first.
  bool took(std::string& line) {
    if (lines_++ == 0 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    return true;
  }

  std::string path_;
  size_t lines_ = 0;  // returned so far
  gzFile file_;
};

// Completes the CSV record begun in `line` (counted in `lines`) and splits it into
// `fields`: when a quoted field holds line breaks (RFC 4180; exported logs quote prompt
// text), the lines up to where it closes are joined to it by '\n' and counted.
void read_csv_record(LineReader& in, char separator, std::string& line, size_t& lines, const std::string& path,
                     std::vector<std::string_view>& fields) {
  const size_t start = lines;
  std::string more;
  while (!split_csv(line, separator, fields)) {
    if (!in.next(more))
      throw InputError(path + ":" + std::to_string(start) + ": a quoted field that never closes (a field that starts with '\"' ends with one)");
    ++lines;
    line += '\n';
    line += more;
    if (line.size() > LineReader::kMaxLine)
      throw InputError(path + ":" + std::to_string(start) + ": a quoted field over 16 MiB long (lines " + std::to_string(start) +
                       " to " + std::to_string(lines) + "); a '\"' that starts a field opens one");
  }
}

// The JSON objects of a file, one at a time, in the shapes traces come in: one a line
// (JSON Lines), or the elements of one top-level array, on one line or pretty-printed
// over many. Each object's text is returned with the line it starts on; its size is
// bounded as a line's is.
class JsonObjects {
 public:
  JsonObjects(LineReader& in, const std::string& path) : in_(in), path_(path) {}
  bool next(std::string& object, size_t& line) {
    object.clear();
    JsonNesting nesting;
    for (;;) {
      if (at_ >= text_.size()) {
        if (!in_.next(text_)) {
          if (nesting.depth > 0) throw InputError(path_ + ":" + std::to_string(line) + ": a JSON object that never ends");
          if (in_array_ && !closed_) throw InputError(path_ + ":" + std::to_string(line_) + ": a JSON array that never ends (no ']')");
          return false;
        }
        ++line_;
        at_ = 0;
        if (nesting.depth > 0) {
          object += ' ';
        } else if (!in_array_) {
          // JSON Lines, the common shape: a line that is one object is taken whole (the
          // parser then checks that it is exactly one).
          const size_t first = text_.find_first_not_of(" \t"), last = text_.find_last_not_of(" \t");
          if (first != std::string::npos && text_[first] == '{' && text_[last] == '}') {
            object.assign(text_, first, last - first + 1);
            line = line_;
            at_ = text_.size();
            started_ = true;
            return true;
          }
        }
        continue;  // the line may be empty
      }
      const char c = text_[at_++];
      if (nesting.depth == 0) {
        if (std::isspace(static_cast<unsigned char>(c))) continue;
        if (c != '{' || closed_) {  // between objects
          if (c == '[' && !started_) in_array_ = true;
          else if (c == ',' && in_array_ && !closed_ && started_) {}
          else if (c == ']' && in_array_ && !closed_) closed_ = true;
          else if (c == '[' && in_array_)
            throw InputError(path_ + ":" + std::to_string(line_) + ": an array of arrays, whose values have no column names "
                             "(pandas' to_json(orient='values')); write a JSON object a row (orient='records', lines=True) or CSV");
          else
            throw InputError(path_ + ":" + std::to_string(line_) + ": expected a JSON object (JSON Lines, or an array of objects), got '" +
                             std::string(1, c) + "'");
          started_ = true;
          continue;
        }
        line = line_;  // an object begins
      }
      // In the object: the rest of it on this line, taken whole.
      const size_t from = at_ - 1;
      bool closed = nesting.step(c);
      while (!closed && at_ < text_.size()) closed = nesting.step(text_[at_++]);
      object.append(text_, from, at_ - from);
      if (object.size() > LineReader::kMaxLine)
        throw InputError(path_ + ":" + std::to_string(line) + ": a JSON object longer than 16 MiB; a trace row is a few hundred bytes (a whole table in one object, "
                         "as pandas' to_json() writes by default, is not read: write orient='records', lines=True)");
      if (closed) {
        started_ = true;
        return true;
      }
    }
  }

 private:
  LineReader& in_;
  std::string path_, text_;
  size_t at_ = 0, line_ = 0;
  bool started_ = false, in_array_ = false, closed_ = false;
};

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// What a file that is not text is and what to do with it, from its first bytes (gzip
// already undone), or "" for text. Read as CSV, it would fail on a header of garbage.
std::string not_text(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return "";
  char buf[4096];
  const int got = gzread(f, buf, sizeof buf);
  gzclose(f);
  if (got <= 0) return "";
  const std::string_view head(buf, static_cast<size_t>(got));
  const char* convert = "write it as CSV first (pandas: pd.read_parquet(f) or pd.read_excel(f), then .to_csv(index=False))";
  const char* unpack = "decompress it first (gzip is read as it is)";
  const struct {
    std::string_view magic;
    const char *kind, *then;
  } kinds[] = {{"PAR1", "a Parquet file", convert},
               {"PK\x03\x04", "a ZIP archive (or an Excel workbook)", convert},
               {"ARROW1", "an Arrow file", convert},
               {"\x89HDF", "an HDF5 file", convert},
               {"SQLite format 3", "an SQLite database", convert},
               {"BZh", "bzip2-compressed", unpack},
               {"\x28\xB5\x2F\xFD", "zstd-compressed", unpack},
               {"\xFD" "7zXZ", "xz-compressed", unpack},
               {"\xFF\xFE", "UTF-16 text (a spreadsheet's \"Unicode text\")", "save it as UTF-8 (CSV UTF-8)"},
               {"\xFE\xFF", "UTF-16 text", "save it as UTF-8"}};
  for (const auto& k : kinds)
    if (head.substr(0, k.magic.size()) == k.magic)
      return std::string(k.kind) + ", which is not read: a trace is CSV or JSON lines (UTF-8); " + k.then;
  if (head.find('\0') != std::string_view::npos)
    return "binary data (it holds NUL bytes), which is not read: a trace is CSV or JSON lines (UTF-8), "
           "gzip-compressed or not";
  return "";
}

}  // namespace

TraceFormat TraceFormat::parse(const ConfigMap& tr) {
  TraceFormat f;
  if (tr.has("schema")) {
    const std::string name = tr.text("schema");
    const Schema* schema = nullptr;
    std::vector<std::string> names;
    for (const Schema& s : kSchemas) {
      names.emplace_back(s.name);
      if (name == s.name) schema = &s;
    }
    if (!schema) tr.fail("schema", "one of " + comma_list(names));
    f.format = schema->format;
    f.time_unit = schema->unit;
    f.columns = {{"time", schema->time}, {"prompt_tokens", schema->prompt}, {"output_tokens", schema->output}};
    f.zero_output_fails = schema->zero_output_fails;
  }
  if (tr.has("format")) {
    f.format = tr.text("format");
    if (f.format != "csv" && f.format != "jsonl") tr.fail("format", "csv or jsonl");
  }
  if (tr.has("columns")) {
    const ConfigMap c = tr.map("columns");
    c.allow(kTraceColumns);
    for (const char* role : kRoles)
      if (c.has(role)) f.columns[role] = c.text(role);
  }
  if (tr.has("time_unit")) {
    f.time_unit = tr.text("time_unit");
    if (f.time_unit != "s" && f.time_unit != "ms" && f.time_unit != "us" && f.time_unit != "ns" && f.time_unit != "datetime")
      tr.fail("time_unit", "s, ms, us, ns or datetime");
  }
  f.out_of_order_s = tr.duration("out_of_order", 0);
  if (tr.has("zero_output")) {
    const std::string z = tr.text("zero_output");
    if (z != "error" && z != "failed") tr.fail("zero_output", "error or failed");
    f.zero_output_fails = z == "failed";
  }
  return f;
}

uint64_t Trace::failures() const {
  return static_cast<uint64_t>(std::count(failed.begin(), failed.end(), uint8_t{1}));
}

Trace Trace::load(const std::string& path, const TraceFormat& format, const std::vector<std::string>& segments) {
  if (!std::filesystem::exists(path)) throw MissingFileError(path + ": no such file");
  LineReader in(path);
  if (!in.ok()) throw InputError(path + ": cannot be read");
  if (const std::string what = not_text(path); !what.empty()) throw InputError(path + ": " + what);
  std::string fmt = format.format;
  if (fmt.empty()) {
    std::string name = path;
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) name.resize(name.size() - 3);
    const std::string ext = std::filesystem::path(name).extension().string();
    fmt = ext == ".jsonl" || ext == ".ndjson" || ext == ".json" ? "jsonl" : "csv";
  }
  const bool jsonl = fmt == "jsonl";

  Trace t;
  t.file = path;
  std::string line;
  size_t n = 0;      // the line the row starts on
  size_t lines = 0;  // lines read (a CSV record may span several)
  std::vector<std::string> header;
  char separator = ',';
  std::vector<std::string_view> fields;  // of a CSV record
  if (!jsonl) {
    if (!in.next(line)) throw InputError(path + ":1: empty trace; expected a CSV header");
    n = lines = 1;
    separator = csv_separator(line);  // the header's first line's
    read_csv_record(in, separator, line, lines, path, fields);
    for (std::string_view v : fields) header.emplace_back(v);
  }
  // The column of each role: named by the format, or found by name. Required: time and
  // both token counts.
  std::map<std::string, std::string> column;
  // What an object or header holds, for messages: its members, and those that are arrays.
  auto holds = [](const std::vector<std::string>& available, const std::vector<std::string>& arrays) {
    std::vector<std::string> all = available;
    for (const std::string& a : arrays) all.push_back(a + " (an array)");
    return all.empty() ? std::string("nothing") : comma_list(all);
  };
  // A role given to a member whose value is an array (after "file:line: ").
  auto an_array = [](const std::string& name, const std::string& role) {
    return "'" + name + "' is an array in this object (the " + role + " column); expected one value";
  };
  auto resolve = [&](const std::vector<std::string>& available, const std::vector<std::string>& arrays) {
    for (const char* role : kRoles) {
      const auto named = format.columns.find(role);
      if (named != format.columns.end()) {
        if (std::find(arrays.begin(), arrays.end(), named->second) != arrays.end())
          throw InputError(path + ":" + std::to_string(std::max<size_t>(n, 1)) + ": " + an_array(named->second, role));
        if (std::find(available.begin(), available.end(), named->second) == available.end()) {
          throw InputError(path + ":" + std::to_string(std::max<size_t>(n, 1)) + ": no column '" + named->second +
                           "' (the " + role + " column); the " + (jsonl ? "object" : "file") +
                           " has: " + holds(available, arrays));
        }
        column[role] = named->second;
        continue;
      }
      for (const std::string& name : default_names(role))
        if (std::find(available.begin(), available.end(), name) != available.end()) {
          column[role] = name;
          break;
        }
      if (!column.count(role)) {
        // Nested: a member whose path ends in one of the names ("usage.prompt_tokens").
        std::vector<std::string> nested;
        for (const std::string& a : available) {
          const size_t dot = a.rfind('.');
          const auto& names = default_names(role);
          if (dot != std::string::npos && std::find(names.begin(), names.end(), a.substr(dot + 1)) != names.end())
            nested.push_back(a);
        }
        if (nested.size() > 1)
          throw InputError(path + ":" + std::to_string(std::max<size_t>(n, 1)) + ": several members could be the " + role +
                           " column: " + comma_list(nested) + "; name one in columns");
        if (nested.size() == 1) {
          column[role] = nested.front();
          t.found_nested.push_back(std::string(role) + " = " + nested.front());
        }
      }
      const std::string r = role;
      // A column named twice (a spreadsheet's, a hand-joined file's) cannot be told apart.
      if (column.count(role) && std::count(available.begin(), available.end(), column[role]) > 1)
        throw InputError(path + ":" + std::to_string(std::max<size_t>(n, 1)) + ": the " + r + " column '" + column[role] +
                         "' is named twice in the " + (jsonl ? "object" : "header") + "; the reader cannot tell which to read");
      if (!column.count(role) && (r == "time" || r == "prompt_tokens" || r == "output_tokens")) {
        throw InputError(path + ":" + std::to_string(std::max<size_t>(n, 1)) + ": no " + r +
                         " column; expected one of: " + comma_list(default_names(role)) + " (or name it in columns); the " +
                         (jsonl ? "object has: " : "header has: ") + holds(available, arrays));
      }
    }
  };
  if (!jsonl) resolve(header, {});

  std::string unit = format.time_unit;
  double first = 0, last = -std::numeric_limits<double>::infinity();
  std::vector<std::pair<std::string, std::string>> members;
  std::vector<std::string> arrays;  // of the object: members whose value is an array
  bool any_failed = false;
  JsonObjects objects(in, path);
  auto next_row = [&] {  // a line, or a JSON object and the line it starts on
    if (jsonl) return objects.next(line, n);
    if (!in.next(line)) return false;
    n = ++lines;
    read_csv_record(in, separator, line, lines, path, fields);
    return true;
  };
  while (next_row()) {
    if (line.empty() || line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string at = path + ":" + std::to_string(n) + ": ";
    // The value of a role on this line, and the column's name for messages.
    std::function<std::string_view(const std::string&)> get;
    if (jsonl) {
      if (!parse_json_object(line, members, arrays))
        throw InputError(at + "a JSON object that does not parse (a member's name or value is malformed, or it nests over 16 deep)");
      if (column.empty()) {
        std::vector<std::string> keys;
        for (const auto& [k, v] : members) keys.push_back(k);
        try {
          resolve(keys, arrays);
        } catch (const InputError&) {
          // A whole table in one object is a layout, not a row: say which.
          if (const std::string layout = table_layout(keys, arrays, line); !layout.empty())
            throw InputError(at + "one JSON object holding the whole table " + layout + "; the reader takes an object a row: "
                             "write it with to_json(path, orient='records', lines=True), or as CSV");
          throw;
        }
      }
      get = [&](const std::string& role) -> std::string_view {
        const std::string& name = column.at(role);
        const std::string* found = nullptr;
        for (const auto& [k, v] : members)
          if (k == name) {
            if (found) throw InputError(at + "'" + name + "' twice in this object (the " + role + " column); the reader cannot tell which to read");
            found = &v;
          }
        if (found) return *found;
        if (std::find(arrays.begin(), arrays.end(), name) != arrays.end())
          throw InputError(at + an_array(name, role));
        throw InputError(at + "no '" + name + "' in this object (the " + role + " column)");
      };
    } else {
      if (fields.size() != header.size())
        throw InputError(at + "expected " + std::to_string(header.size()) + " fields, got " + std::to_string(fields.size()));
      get = [&](const std::string& role) -> std::string_view {
        const std::string& name = column.at(role);
        return fields[static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin())];
      };
    }
    auto bad = [&](const std::string& role, std::string_view value, const std::string& expected) {
      // A decimal comma (0,5: a European spreadsheet's export) is said as such.
      const size_t comma = value.find(',');
      const bool decimal_comma = comma != std::string_view::npos && comma > 0 && comma + 1 < value.size() &&
                                 value.find_first_not_of("0123456789,") == std::string_view::npos &&
                                 value.find(',', comma + 1) == std::string_view::npos;
      throw InputError(at + column.at(role) + ": expected " + expected + ", got '" + std::string(value) + "'" +
                       (decimal_comma ? " (a decimal comma: write numbers with a point, 0.5)" : ""));
    };
    // Time.
    const std::string_view tv = get("time");
    if (unit.empty()) {
      double probe = 0;
      unit = parse_datetime(tv, probe) ? "datetime" : "s";
      // A number too large for seconds since the trace began is a Unix time; its size
      // says its unit (now: 1.7e9 s, 1.7e12 ms, 1.7e15 us, 1.7e18 ns; the bounds lie
      // between, so no plausible date of one unit reads as another).
      if (unit == "s" && std::from_chars(tv.data(), tv.data() + tv.size(), probe).ec == std::errc() && probe >= 1e9) {
        unit = probe < 1e11 ? "s" : probe < 1e14 ? "ms" : probe < 1e17 ? "us" : "ns";
        t.epoch_first_s = probe * seconds_per(unit);
        t.epoch_text = std::string(tv);
      } else if (unit == "s") {
        t.first_text = std::string(tv);
      }
    }
    double time = 0;
    if (unit == "datetime") {
      if (!parse_datetime(tv, time)) bad("time", tv, "a datetime like '2024-05-10 00:00:00.009930+00:00' (time_unit: datetime)");
    } else {
      t.integer_times = t.integer_times && tv.find_first_of(".eE") == std::string_view::npos;
      const auto [end, ec] = std::from_chars(tv.data(), tv.data() + tv.size(), time);
      if (ec != std::errc() || end != tv.data() + tv.size() || !std::isfinite(time) || time < 0)
        bad("time", tv, "a time of at least 0 in " + unit + " (time_unit: " + unit + ")");
      time *= seconds_per(unit);
    }
    if (time < last - format.out_of_order_s - 1e-9)
      bad("time", tv, "rows in time order (out_of_order allows " + format_duration(format.out_of_order_s) +
                          "; this row is " + format_duration(last - time) + " before the one above)");
    time = std::max(time, last);
    // Token counts: whole numbers in [0, 10^7]; what zero means is the column's.
    auto tokens = [&](const std::string& role) {
      const std::string_view v = get(role);
      uint64_t x = 0;
      const char* b = v.data();
      const char* e = b + v.size();
      const auto [p, ec] = std::from_chars(b, e, x);
      if (ec == std::errc::result_out_of_range) bad(role, v, "a whole number of tokens up to 10000000");
      // A whole number; "52.0" is one too (JSON writers emit it).
      const bool whole = !v.empty() && ec == std::errc() &&
                         (p == e || (*p == '.' && p + 1 < e && std::all_of(p + 1, e, [](char c) { return c == '0'; })));
      if (!whole) bad(role, v, "a whole number of tokens");
      if (x > static_cast<uint64_t>(kMaxTokens)) bad(role, v, "a whole number of tokens up to 10000000");
      return static_cast<uint32_t>(x);
    };
    const uint32_t prompt = tokens("prompt_tokens");
    if (prompt == 0) bad("prompt_tokens", "0", "a prompt of at least 1 token");
    const uint32_t output = tokens("output_tokens");
    bool failed = false;
    if (output == 0) {
      if (!format.zero_output_fails)
        bad("output_tokens", "0", "at least 1 output token (or zero_output: failed, when 0 marks a failed request)");
      failed = true;
    }
    if (column.count("failed")) {
      std::string v(get("failed"));
      std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
      const bool yes = v == "1" || v == "true" || v == "yes";
      if (!yes && !(v.empty() || v == "0" || v == "false" || v == "no"))
        bad("failed", get("failed"), "a failure flag: 1, true or yes; 0, false, no or empty");
      failed |= yes;
    }
    if (column.count("cached_tokens")) {
      const uint32_t cached = tokens("cached_tokens");
      if (cached > prompt)
        bad("cached_tokens", std::to_string(cached), "at most the prompt's " + std::to_string(prompt) + " tokens");
      t.cached_tokens.push_back(cached);
    }
    if (column.count("user")) {
      const std::string_view v = get("user");
      if (v.empty()) bad("user", v, "a user id");
      t.user.push_back(fnv1a(v));
    }
    if (column.count("segment")) {
      const std::string_view v = get("segment");
      const auto it = std::find(segments.begin(), segments.end(), std::string(v));
      if (it == segments.end()) {
        bad("segment", v, "one of the scenario's segments: " + comma_list(segments));
      }
      t.segment.push_back(static_cast<uint32_t>(it - segments.begin()));
    }
    if (t.arrival_s.empty()) first = time;
    last = time;
    t.arrival_s.push_back(time - first);
    t.prompt_tokens.push_back(prompt);
    t.output_tokens.push_back(std::max<uint32_t>(1, output));
    t.failed.push_back(failed);
    any_failed |= failed;
  }
  if (t.arrival_s.empty()) throw InputError(path + ":" + std::to_string(n + 1) + ": empty trace; expected at least one row");
  if (!any_failed) t.failed.clear();
  t.time_unit = unit;
  t.unit_inferred = format.time_unit.empty();
  std::vector<uint64_t> users = t.user;
  std::sort(users.begin(), users.end());
  t.distinct_users = static_cast<uint64_t>(std::unique(users.begin(), users.end()) - users.begin());
  t.mean_gap_s = t.arrival_s.size() > 1 ? t.duration_s() / static_cast<double>(t.arrival_s.size() - 1) : 0;
  return t;
}

}  // namespace canarysim
