#include "kube/credentials.h"

#include <fstream>
#include <sstream>

namespace meshtrust::kube {

namespace fs = std::filesystem;

Credentials::Credentials(const ClusterAccess& access, std::shared_ptr<ExecCredentialCache> cache,
                         std::chrono::milliseconds exec_timeout, std::function<WallClock::time_point()> now)
    : access_(access), cache_(std::move(cache)), exec_timeout_(exec_timeout), now_(std::move(now)) {
  if (!cache_) cache_ = std::make_shared<ExecCredentialCache>();
  if (!now_) now_ = [] { return WallClock::now(); };
  if (const auto* x = std::get_if<ExecPlugin>(&access_.auth)) exec_key_ = ExecCredentialCache::key_for(*x, access_);
  if (const auto* c = std::get_if<ClientCertificate>(&access_.auth))
    static_cert_ = std::make_shared<const ClientCertificate>(*c);
}

RequestCredential Credentials::current() {
  return std::visit(
      [&](const auto& m) -> RequestCredential {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, NoAuth>) return {};
        if constexpr (std::is_same_v<T, BearerToken>) return {m.token, nullptr, nullptr};
        if constexpr (std::is_same_v<T, TokenFile>) return from_token_file(m);
        if constexpr (std::is_same_v<T, ClientCertificate>) return {"", static_cert_, nullptr};
        if constexpr (std::is_same_v<T, ExecPlugin>) {
          auto cred = cache_->get(exec_key_, now_(), [&] { return run_exec_plugin(m, access_, exec_timeout_); });
          RequestCredential rc;
          rc.bearer = cred->token;
          if (cred->cert) rc.cert = std::shared_ptr<const ClientCertificate>(cred, &*cred->cert);
          rc.exec = cred;
          return rc;
        }
      },
      access_.auth);
}

bool Credentials::reject(const RequestCredential& used) {
  if (!used.exec) return false;
  cache_->invalidate(exec_key_, used.exec.get());
  return true;
}

RequestCredential Credentials::from_token_file(const TokenFile& tf) {
  // Projected service-account tokens are rewritten in place as they rotate: re-read the file
  // whenever its size or modification time changes (a stat per request is cheap).
  std::error_code ec;
  auto mtime = fs::last_write_time(tf.path, ec);
  auto size = ec ? 0 : fs::file_size(tf.path, ec);
  if (ec) throw CredentialError("tokenFile '" + tf.path.string() + "' cannot be read");
  if (file_token_.empty() || mtime != file_mtime_ || size != file_size_) {
    if (size > 1024 * 1024) throw CredentialError("tokenFile '" + tf.path.string() + "' is larger than 1 MiB");
    std::ifstream in(tf.path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in) throw CredentialError("tokenFile '" + tf.path.string() + "' cannot be read");
    std::string t = ss.str();
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(0, 1);
    if (t.empty()) throw CredentialError("tokenFile '" + tf.path.string() + "' is empty");
    file_token_ = std::move(t);
    file_mtime_ = mtime;
    file_size_ = size;
  }
  return {file_token_, nullptr, nullptr};
}

}  // namespace meshtrust::kube
