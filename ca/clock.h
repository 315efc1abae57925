// Time is injected so tests can fix it; nothing in ca/ or pki/ reads the system clock itself.
#pragma once

#include <chrono>

namespace meshtrust::ca {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()); }
};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint t) : t_(t) {}
  TimePoint now() const override { return t_; }
  void set(TimePoint t) { t_ = t; }
  void advance(std::chrono::milliseconds d) { t_ += d; }

 private:
  TimePoint t_;
};

inline std::chrono::sys_seconds to_seconds(TimePoint t) { return std::chrono::floor<std::chrono::seconds>(t); }

}  // namespace meshtrust::ca
