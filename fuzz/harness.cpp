// A libFuzzer harness for one input entry point (fuzz/entry_points.h), chosen when it is
// built: -DCANARYSIM_FUZZ_ENTRY="scenario". The documented input error is a success;
// any other exception escapes and libFuzzer reports it, as it does crashes, sanitizer
// findings, timeouts (-timeout) and memory over its limit (-rss_limit_mb).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/entry_points.h"
#include "sim/io/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace canarysim::fuzzing;
  static const EntryPoint* entry = [] {
    const EntryPoint* e = find_entry_point(CANARYSIM_FUZZ_ENTRY);
    if (!e) {
      std::fprintf(stderr, "no entry point %s\n", CANARYSIM_FUZZ_ENTRY);
      std::abort();
    }
    return e;
  }();
  const std::string path =
      scratch_file(*entry, CANARYSIM_SOURCE_DIR, {reinterpret_cast<const char*>(data), size});
  try {
    entry->read(path);
  } catch (const canarysim::InputError&) {
    // The documented outcome of bad input.
  }
  return 0;
}
