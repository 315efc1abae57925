#include "cli/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "ca/errors.h"

namespace meshtrust::cli {

namespace fs = std::filesystem;

std::string read_input_file(const std::string& path, const std::string& what, size_t max_bytes) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw ca::invalid(what + " file '" + path + "' does not exist");
  if (fs::is_directory(status)) throw ca::invalid(what + " file '" + path + "' is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ca::invalid(what + " file '" + path + "' cannot be read: " + std::strerror(errno));
  std::string data;
  data.resize(max_bytes + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > max_bytes)
    throw ca::invalid(what + " file '" + path + "' is larger than " + std::to_string(max_bytes / 1024) + " KiB");
  return data;
}

namespace {

void write_one(const fs::path& target, const std::string& content, mode_t mode) {
  fs::path tmp = target;
  tmp += ".meshtrust-tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) throw ca::invalid("cannot write '" + target.string() + "': " + std::strerror(errno));
  // umask may have narrowed the mode; a key file must be exactly 0600 anyway.
  ::fchmod(fd, mode);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw ca::invalid("cannot write '" + target.string() + "': " + std::strerror(err));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw ca::invalid("cannot write '" + target.string() + "': " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw ca::invalid("cannot write '" + target.string() + "': " + std::strerror(err));
  }
}

}  // namespace

void check_targets(const std::vector<fs::path>& targets, bool force) {
  for (const auto& t : targets) {
    std::error_code ec;
    auto st = fs::symlink_status(t, ec);
    if (!ec && fs::exists(st)) {
      if (fs::is_directory(st)) throw ca::invalid("'" + t.string() + "' is a directory");
      if (!force) throw ca::invalid("'" + t.string() + "' already exists; pass --force to overwrite it");
    }
    // The nearest existing ancestor must be a directory, or the file can never be written.
    for (fs::path p = t.parent_path(); !p.empty(); p = p.parent_path()) {
      if (fs::exists(p, ec)) {
        if (!fs::is_directory(p, ec)) throw ca::invalid("cannot write '" + t.string() + "': '" + p.string() + "' is not a directory");
        break;
      }
      if (p == p.parent_path()) break;
    }
  }
}

void write_files(const std::vector<PlannedFile>& files, bool force) {
  std::vector<fs::path> targets;
  for (const auto& f : files) targets.push_back(f.path);
  check_targets(targets, force);
  std::vector<fs::path> created_dirs;
  std::vector<fs::path> written;
  try {
    std::set<fs::path> dirs;
    for (const auto& f : files) dirs.insert(f.path.parent_path().empty() ? fs::path(".") : f.path.parent_path());
    for (const auto& d : dirs) {
      // Remember which levels we create so a failure can remove them again.
      std::vector<fs::path> missing;
      for (fs::path p = d; !p.empty() && !fs::exists(p); p = p.parent_path()) {
        missing.push_back(p);
        if (p == p.parent_path()) break;
      }
      std::error_code ec;
      fs::create_directories(d, ec);
      if (ec || !fs::is_directory(d)) throw ca::invalid("cannot create directory '" + d.string() + "': " + (ec ? ec.message() : "a file is in the way"));
      created_dirs.insert(created_dirs.end(), missing.begin(), missing.end());
    }
    for (const auto& f : files) {
      bool existed = fs::exists(f.path);
      write_one(f.path, f.content, f.secret ? 0600 : 0644);
      if (!existed) written.push_back(f.path);  // an overwritten file is not ours to remove
    }
  } catch (...) {
    std::error_code ec;
    for (const auto& p : written) fs::remove(p, ec);
    for (const auto& d : created_dirs) fs::remove(d, ec);  // only removes empty directories
    throw;
  }
}

}  // namespace meshtrust::cli
