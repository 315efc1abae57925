// The credential for the next request, from whichever method the kubeconfig names: a fixed
// token, a token file (re-read when it changes), a client certificate, or an exec plugin
// (cached until it expires, dropped when the server answers 401).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "kube/exec_credential.h"
#include "kube/kubeconfig.h"

namespace meshtrust::kube {

struct RequestCredential {
  std::string bearer;                             // "" for none; secret
  std::shared_ptr<const ClientCertificate> cert;  // null for none; secret
  std::shared_ptr<const ExecCredential> exec;     // the plugin answer this came from, if any
};

class Credentials {
 public:
  Credentials(const ClusterAccess& access, std::shared_ptr<ExecCredentialCache> cache,
              std::chrono::milliseconds exec_timeout, std::function<WallClock::time_point()> now);

  // Throws CredentialError when none can be had (plugin failure, unreadable token file).
  RequestCredential current();
  // The server answered 401 to `used`. True if a fresh credential is worth one more attempt
  // (an exec plugin's answer, now forgotten); false when asking again would change nothing.
  bool reject(const RequestCredential& used);

 private:
  RequestCredential from_token_file(const TokenFile& tf);

  const ClusterAccess& access_;
  std::shared_ptr<ExecCredentialCache> cache_;
  std::chrono::milliseconds exec_timeout_;
  std::function<WallClock::time_point()> now_;
  std::string exec_key_;
  std::shared_ptr<const ClientCertificate> static_cert_;
  // Token file: what was read, and the file's state when it was.
  std::filesystem::file_time_type file_mtime_{};
  uintmax_t file_size_ = 0;
  std::string file_token_;
};

}  // namespace meshtrust::kube
