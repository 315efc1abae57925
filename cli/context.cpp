#include "cli/context.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "ca/errors.h"
#include "cli/files.h"
#include "cli/remote_backend.h"
#include "kube/gateway.h"
#include "storage/sqlite_store.h"

namespace meshtrust::cli {

namespace fs = std::filesystem;

Context::Context(GlobalOptions options) : options_(std::move(options)) {
  if (options_.data_dir.empty()) {
    const char* env = std::getenv("MESHTRUST_DATA_DIR");
    options_.data_dir = env && *env ? env : "meshtrust-data";
  }
}

Context::~Context() = default;

std::string Context::db_path() const { return (fs::path(options_.data_dir) / "meshtrust.db").string(); }
std::string Context::kek_path() const { return (fs::path(options_.data_dir) / "kek").string(); }

std::string Context::actor() const {
  const struct passwd* pw = ::getpwuid(::geteuid());
  std::string user = pw && pw->pw_name ? pw->pw_name : "";
  if (user.empty()) {
    const char* env = std::getenv("USER");
    user = env && *env ? env : "uid" + std::to_string(::geteuid());
  }
  return "local:" + user;
}

std::optional<std::string> Context::passphrase() const {
  if (!options_.passphrase_file.empty()) {
    std::string p = read_input_file(options_.passphrase_file, "passphrase", 4096);
    while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
    if (p.empty()) throw ca::invalid("passphrase file '" + options_.passphrase_file + "' is empty");
    return p;
  }
  const char* env = std::getenv("MESHTRUST_PASSPHRASE");
  if (env && *env) return std::string(env);
  return std::nullopt;
}

ca::Authority& Context::open() {
  if (authority_) return *authority_;
  store_ = std::make_unique<storage::SqliteStore>(db_path());
  ::chmod(db_path().c_str(), 0600);
  authority_ = std::make_unique<ca::Authority>(*store_, clock_, [this](ca::KekSettings::Mode mode) -> std::string {
    if (mode == ca::KekSettings::Mode::Passphrase) {
      auto p = passphrase();
      if (!p)
        throw ca::Error(ca::ErrorKind::KeyAccess,
                        "this data dir's keys are protected by a passphrase; set MESHTRUST_PASSPHRASE or pass --passphrase-file");
      return *p;
    }
    std::error_code ec;
    if (!fs::exists(kek_path(), ec))
      throw ca::Error(ca::ErrorKind::KeyAccess, "the key-encryption key file '" + kek_path() + "' is missing");
    return read_input_file(kek_path(), "key-encryption key", 4096);
  });
  return *authority_;
}

Backend& Context::backend() {
  if (backend_) return *backend_;
  if (remote()) {
    if (options_.client_cert.empty() != options_.client_key.empty())
      throw ca::invalid("--client-cert and --client-key go together");
    const bool mtls = !options_.client_cert.empty();
    std::string token = options_.token;
    if (token.empty() && !mtls)
      if (const char* env = std::getenv("MESHTRUST_TOKEN"); env && *env) token = env;
    if (mtls && !token.empty()) throw ca::invalid("pass either --token or --client-cert, not both: the server takes one credential");
    if (token.empty() && !mtls)
      throw ca::invalid("--server needs a credential: pass --token (or set MESHTRUST_TOKEN), or --client-cert and --client-key");
    backend_ = make_remote_backend({options_.server, token, options_.ca_file, options_.client_cert, options_.client_key});
  } else {
    backend_ = std::make_unique<LocalBackend>(authority(), actor(), [this]() -> ca::ClusterGateway& { return gateway(); });
  }
  return *backend_;
}

ca::ClusterGateway& Context::gateway() {
  if (!gateway_) gateway_ = std::make_unique<kube::KubeGateway>();
  return *gateway_;
}

ca::Authority& Context::authority() {
  if (remote()) throw ca::invalid("this command works on a local data dir; drop --server");
  std::error_code ec;
  if (!fs::exists(db_path(), ec))
    throw ca::not_found("data dir '" + options_.data_dir + "' is not initialised; run 'meshtrust init' first");
  return open();
}

ca::Authority& Context::authority_for_init() {
  if (remote()) throw ca::invalid("init creates a root in a local data dir; drop --server");
  std::error_code ec;
  fs::create_directories(options_.data_dir, ec);
  if (ec) throw ca::invalid("cannot create data dir '" + options_.data_dir + "': " + ec.message());
  ::chmod(options_.data_dir.c_str(), 0700);
  return open();
}

}  // namespace meshtrust::cli
