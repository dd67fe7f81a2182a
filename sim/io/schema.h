// The schema of users' files: for every section of every file kind, one table of its
// keys (type, default, range, meaning). The reader of a section passes its table to
// ConfigMap::allow, so the table is the list of keys the reader accepts; the typed
// getters then check each read against the table (a duration read from a key the table
// calls a rate, a key read that the table lacks, or a default that differs from the
// table's, is a std::logic_error: a programming error the tests find). `canarysim
// reference` prints every table as docs/reference.md, and a test fails when that file
// is stale. So the reference cannot drift from the reader.
//
// A table is defined in the .cpp file of its reader, as a static Section, which registers
// itself:
//   const Section kBursts{"scenario", "traffic.bursts", "Short surges of arrivals.",
//       {{"factor", schema::kNumber, "", "[1, 1000]", "the rate multiplier during a burst"}, ...}};
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace canarysim {

namespace schema {
// How a key may be read (a key that takes several forms has several bits).
enum Type : unsigned {
  kDuration = 1u << 0,   // 90s, 15m, 2h
  kRate = 1u << 1,       // 200/s
  kFraction = 1u << 2,   // 0.02 or 2 %
  kPercent = 1u << 3,    // a weight: 25 or 25 %
  kNumber = 1u << 4,
  kCount = 1u << 5,      // a whole number
  kText = 1u << 6,
  kFlag = 1u << 7,       // true or false
  kNumbers = 1u << 8,    // a list of numbers
  kTexts = 1u << 9,      // a list of texts (or one)
  kMap = 1u << 10,       // a mapping: its own section
  kList = 1u << 11,      // a list of mappings: its own section
  kFile = 1u << 12,      // a file, relative to this one
  kAny = 1u << 13,       // any YAML value (a metric name checked elsewhere, an override)
};
}  // namespace schema

struct SchemaField {
  std::string_view key;
  unsigned type;              // schema::Type bits
  std::string_view fallback;  // the default as written in files; "" when required
  std::string_view range;     // "" when any value of the type
  std::string_view meaning;
};

// The fallback of a key that may be absent without a default ("" means required).
constexpr std::string_view kOptional = "(none)";

struct Section {
  // Registers the section for schema_sections(); sections are static objects.
  // `fixed_defaults` false: the reader's defaults depend on other input (the canary's are
  // the baseline's), so reads are not checked against the table's defaults.
  Section(std::string_view file_kind, std::string path, std::string_view meaning,
          std::vector<SchemaField> fields, bool fixed_defaults = true);
  ~Section();  // leaves schema_sections()
  Section(const Section&) = delete;
  Section& operator=(const Section&) = delete;

  std::string_view file_kind;  // scenario, policy, sweep, tune, power, check suite, ...
  std::string path;            // where in the file: "traffic.diurnal", "kind: stepped"
  std::string_view meaning;
  std::vector<SchemaField> fields;
  bool fixed_defaults = true;

  std::vector<std::string> keys() const;
  // nullptr when the key is not in the table.
  const SchemaField* find(std::string_view key) const;
};

// Every section, in the order of the reference: by file kind, then by path.
std::vector<const Section*> schema_sections();
// "duration", "rate or mapping", ...
std::string schema_type_name(unsigned type);
// docs/reference.md: every section's table.
std::string reference_markdown();

}  // namespace canarysim
