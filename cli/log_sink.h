// Log lines for stderr, written in blocks. The async logger's one thread formats each line into
// a buffer that leaves with one write(2) when 64 KiB have gathered, when a line at warn level or
// above arrives, or at the flush spdlog runs every second — a busy server otherwise spends a
// system call per request on its log. Lines are never split between writes.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <string>

namespace meshtrust::cli {

class BufferedFdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit BufferedFdSink(int fd) : fd_(fd) {}
  ~BufferedFdSink() override {
    std::lock_guard lock(mutex_);
    write_out();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    buffer_.append(line.data(), line.size());
    if (buffer_.size() >= kBlock || msg.level >= spdlog::level::warn) write_out();
  }
  void flush_() override { write_out(); }

 private:
  static constexpr std::size_t kBlock = 64 * 1024;
  void write_out() {
    std::size_t at = 0;
    while (at < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + at, buffer_.size() - at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr gone: the lines are dropped, the server goes on
      at += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }
  int fd_;
  std::string buffer_;
};

}  // namespace meshtrust::cli
