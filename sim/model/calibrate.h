// Fitting a batched pool's iteration time, b0 + b1 * prefill tokens + b2 * decoding
// sequences, to measured serving profiles by least squares.
//
// Input: the Splitwise performance-model schema (model, hardware, tensor_parallel,
// prompt_size, batch_size, prompt_time, token_time; times in milliseconds). Each row gives
// two observations of one iteration: a prefill of batch_size prompts of prompt_size
// tokens took prompt_time, and a decode step of batch_size sequences took token_time.
// The fit minimises relative error (each observation weighted by 1 / its time), so that
// 30 ms decode steps count as much as 3 s prefills.
#pragma once

#include <string>
#include <vector>

namespace canarysim {

struct ProfileRow {
  std::string model, hardware;
  int tensor_parallel = 1;
  double prompt_size = 0, batch_size = 0;
  double prompt_time_s = 0, token_time_s = 0;
};

struct ProfileFit {
  std::string model, hardware;
  int tensor_parallel = 1;
  double b0_s = 0, b1_s = 0, b2_s = 0;
  size_t rows = 0;
  double rms_relative_error = 0;   // over all observations
  double max_relative_error = 0;
  double decode_rms_relative_error = 0, prefill_rms_relative_error = 0;
};

// Throws InputError naming file, line and column on a malformed file.
std::vector<ProfileRow> load_profile(const std::string& path);
// One fit per (model, hardware, tensor_parallel) present, in order of first appearance.
std::vector<ProfileFit> fit_profiles(const std::vector<ProfileRow>& rows);
// The fit as a profile file that a batched version's `batching.profile` can name.
std::string profile_yaml(const ProfileFit& fit, const std::string& source);

}  // namespace canarysim
