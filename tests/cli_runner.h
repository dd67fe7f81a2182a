// Runs the canarysim CLI from the source folder, as users and CI pipelines meet it.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

struct CliResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Any command, from the source folder (stdout and stderr together).
inline CliResult Shell(const std::string& line) {
  const std::string command = "cd " CANARYSIM_SOURCE_DIR " && " + line + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  CliResult r{-1, ""};
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline CliResult Cli(const std::string& args) { return Shell(CANARYSIM_CLI " " + args); }

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}
