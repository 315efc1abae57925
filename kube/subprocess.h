// Runs a program without a shell and collects what it prints, within a time limit. Used for exec
// credential plugins, whose stdout holds a credential: callers must not log or echo it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace meshtrust::kube {

struct ProcessResult {
  bool started = false;      // false: the program could not be run (start_error says why)
  std::string start_error;   // strerror text
  bool timed_out = false;    // killed (with its process group) at the time limit
  bool output_too_large = false;
  int exit_status = -1;      // exit code, or 128 + signal
  std::string out;           // stdout, at most max_output bytes
  std::string err;           // the last 4 KiB of stderr
};

// Runs argv[0] (looked up in PATH if it has no '/') with `env` as its whole environment and
// stdin from /dev/null. The child gets its own process group, so a timeout kills helpers it
// started too.
ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          std::chrono::milliseconds timeout, size_t max_output);

}  // namespace meshtrust::kube
