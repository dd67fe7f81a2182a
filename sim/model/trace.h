// Request traces: when requests arrived and how many tokens they carried, recorded from a
// service, in the shapes public traces and request logs come in.
//
//   trace:
//     file: traces/requests.csv.gz   # .gz is read transparently
//     format: csv                    # or jsonl (one JSON object a line); default: the extension
//     schema: azure                  # azure | azure-2024 | mooncake | burstgpt (below)
//     columns: {time: TIMESTAMP, prompt_tokens: ContextTokens, output_tokens: GeneratedTokens,
//               cached_tokens: ..., user: ..., segment: ..., failed: ...}
//     time_unit: s                   # s | ms | us | ns | datetime ("2024-05-10 00:00:00.009930+00:00",
//                                    # a T or a space, fractions, Z or an offset)
//     out_of_order: 0s               # a time may go back this much (kept at the previous one)
//     zero_output: error             # or failed: 0 output tokens marks a failed request
//     time_scale: 1                  # multiplies the trace's times (0.5: twice as fast)
//     loop: true                     # replay again from the start when it ends
//
// Without time_unit or a schema, numeric times are read as seconds, or, when the first is
// at least 10^9, as a Unix time in the unit its size says (s, ms, us or ns); a warning
// says which. A user column naming more users than traffic.users is warned about too.
//
// Schemas (shorthands for format, columns, time_unit and zero_output):
//   azure       csv, TIMESTAMP / ContextTokens / GeneratedTokens, datetime (2023 traces)
//   azure-2024  the same, datetimes with zone offsets (the 2024 week-long traces)
//   mooncake    jsonl, timestamp / input_length / output_length, ms
//   burstgpt    csv, Timestamp / Request tokens / Response tokens, s, zero_output: failed
// Without a schema or columns, the columns are found by name (TIMESTAMP, timestamp, time,
// arrival_time; ContextTokens, prompt_tokens, input_tokens, input_length, Request tokens;
// GeneratedTokens, output_tokens, output_length, Response tokens, completion_tokens;
// cached_tokens), or as the last part of a nested member's path in JSON
// (usage.prompt_tokens; a warning names each), and the time unit from the first value
// (a datetime, a Unix time, else seconds). Other columns are ignored. JSON is one object
// a line, or an array of objects, on one line or over many.
// CSV fields are separated by commas, or by the tab, semicolon or bar the header uses;
// quotes, CRLF line ends and a UTF-8 byte order mark (spreadsheet exports) are read; a
// line longer than 16 MiB is an error. A file that is not text (Parquet, Arrow, an Excel
// workbook, bzip2, zstd or xz, UTF-16, anything with NUL bytes) is refused as what it is.
//
// Strict reading: every value is checked; an empty, non-numeric, negative, fractional
// (token counts) or overflowing field is an error naming file, line, column and value.
// What zero means: prompt_tokens 0 is an error (a request has a prompt); output_tokens 0
// is an error, or a failed request under zero_output: failed; cached_tokens 0 is no hit;
// a failed column's 1, true or yes is a failure, 0, false, no or empty a success (any
// other value is an error: a status text needs mapping first). A column a role reads
// named twice (in the header, or in one JSON object) is an error. A time
// earlier than the one before by more than out_of_order is an error.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace canarysim {

class ConfigMap;

struct TraceFormat {
  std::string format;     // "csv" or "jsonl"; "" from the file's extension
  std::string time_unit;  // "s", "ms", "us", "datetime"; "" from the first value
  std::map<std::string, std::string> columns;  // role (time, prompt_tokens, ...) -> column name
  double out_of_order_s = 0;
  bool zero_output_fails = false;
  // Reads the keys above from a `trace` section (not file, time_scale, loop).
  static TraceFormat parse(const ConfigMap& trace);
};

// A recorded request trace: arrival offsets from the first request, token counts, and
// the optional per-request columns.
struct Trace {
  std::string file;
  std::vector<double> arrival_s;
  std::vector<uint32_t> prompt_tokens, output_tokens;  // output >= 1 (a failure's 0 is kept as 1)
  std::vector<uint32_t> cached_tokens;  // empty when the trace has none
  std::vector<uint64_t> user;           // a hash of the user column; empty when none
  std::vector<uint32_t> segment;        // index into the scenario's segments; empty when none
  std::vector<uint8_t> failed;          // empty when no request failed
  double mean_gap_s = 0;
  std::string time_unit;       // as read: given, or inferred from the first value
  bool unit_inferred = false;  // no time_unit and no schema said it
  double epoch_first_s = 0;    // inferred as a Unix time: the first time, seconds (0: not so inferred)
  std::string epoch_text;      // and as the file writes it
  std::string first_text;      // the first time as written, when read as seconds by inference
  std::vector<std::string> found_nested;  // roles found by a nested member's last part: "prompt_tokens = usage.prompt_tokens"
  bool integer_times = true;   // every time a whole number (milliseconds often are)
  uint64_t distinct_users = 0; // in the user column (0: none)
  double duration_s() const { return arrival_s.empty() ? 0 : arrival_s.back(); }
  uint64_t failures() const;

  // Throws InputError with file and line; MissingFileError when the file is not there.
  // `segments`: the scenario's segment names, for a segment column.
  static Trace load(const std::string& path, const TraceFormat& format = {},
                    const std::vector<std::string>& segments = {});
};

}  // namespace canarysim
