// File input and output for the CLI: bounded reads, and writes that are all-or-nothing.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace meshtrust::cli {

// Reads a user-supplied file of at most `max_bytes`; throws ca::Error(InvalidRequest) naming
// the file and the problem (missing, unreadable, a directory, too large).
std::string read_input_file(const std::string& path, const std::string& what, size_t max_bytes = 1 << 20);

struct PlannedFile {
  std::filesystem::path path;
  std::string content;
  bool secret = false;  // written 0600
};

// Refuses, with a sentence, if any target exists (unless `force`) or is a directory, or if
// its directory cannot exist (a file is in the way). Touches nothing.
void check_targets(const std::vector<std::filesystem::path>& targets, bool force);

// Writes every planned file or none: checks up front that no file exists (unless `force`) and
// that directories can be created; writes each to a temporary name, fsyncs and renames; on a
// failure removes what this call wrote.
void write_files(const std::vector<PlannedFile>& files, bool force);

}  // namespace meshtrust::cli
