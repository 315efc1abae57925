// Exec credential plugins (client.authentication.k8s.io v1 and v1beta1): what meshtrust tells
// the plugin (KUBERNETES_EXEC_INFO), how its answer is read, and a cache of answers so a plugin
// runs once per credential lifetime rather than once per request.
#pragma once

#include <chrono>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "kube/kubeconfig.h"

namespace meshtrust::kube {

using WallClock = std::chrono::system_clock;

// What a plugin answered. token and cert may not both be empty.
struct ExecCredential {
  std::string token;                      // secret
  std::optional<ClientCertificate> cert;  // secret
  std::optional<WallClock::time_point> expiry;
};

// The KUBERNETES_EXEC_INFO value for running `plugin` on behalf of `access`.
std::string exec_info(const ExecPlugin& plugin, const ClusterAccess& access);

// Reads a plugin's stdout. Requires kind ExecCredential and the apiVersion the kubeconfig asked
// for. Throws CredentialError; the message never quotes the output (it holds the credential).
ExecCredential parse_exec_credential(std::string_view stdout_text, const ExecPlugin& plugin);

// Runs the plugin (no shell; meshtrust's environment minus MESHTRUST_* variables, plus the
// kubeconfig's env and KUBERNETES_EXEC_INFO) and reads its answer. Throws CredentialError with
// the exit status and the plugin's stderr, never its stdout.
ExecCredential run_exec_plugin(const ExecPlugin& plugin, const ClusterAccess& access, std::chrono::milliseconds timeout);

// RFC 3339 ("2026-01-02T15:04:05Z", fractions and offsets allowed) to a time point.
std::optional<WallClock::time_point> parse_rfc3339(std::string_view text);

// Answers by plugin invocation (command, args, env, apiVersion and, when the plugin is given it,
// the cluster). Share one cache between the Clients of a fleet whose kubeconfigs use the same
// plugin (e.g. gke-gcloud-auth-plugin for every GKE cluster) so it runs once, not once per
// cluster. Thread-safe.
class ExecCredentialCache {
 public:
  static std::string key_for(const ExecPlugin& plugin, const ClusterAccess& access);

  // The cached answer for `key` if it is still valid at `now` (it expires a little early, so
  // that it does not expire in flight), else runs `fetch` (once, even with concurrent callers).
  template <class Fetch>
  std::shared_ptr<const ExecCredential> get(const std::string& key, WallClock::time_point now, Fetch&& fetch) {
    auto slot = slot_for(key);
    std::lock_guard run_lock(slot->run);
    if (auto cached = valid(*slot, now)) return cached;
    auto fresh = std::make_shared<const ExecCredential>(fetch());
    std::lock_guard lock(slot->mutex);
    slot->value = fresh;
    ++runs_;
    return fresh;
  }
  // Forgets `rejected` (the server answered 401 to it) unless a newer answer replaced it.
  void invalidate(const std::string& key, const ExecCredential* rejected);
  // How many answers plugins gave through this cache (tests and metrics).
  int runs() const { return runs_; }

 private:
  struct Slot {
    std::mutex run;    // held while a plugin runs for this key
    std::mutex mutex;  // guards value
    std::shared_ptr<const ExecCredential> value;
  };
  std::shared_ptr<Slot> slot_for(const std::string& key);
  static std::shared_ptr<const ExecCredential> valid(Slot& slot, WallClock::time_point now);

  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  std::atomic<int> runs_{0};
};

}  // namespace meshtrust::kube
