// What every command shares: global options, the data dir, and the authority opened on demand.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ca/authority.h"
#include "ca/clock.h"
#include "cli/backend.h"

namespace meshtrust::storage {
class SqliteStore;
}

namespace meshtrust::cli {

enum class OutputFormat { Text, Json };

struct GlobalOptions {
  std::string server, token, ca_file;  // remote mode
  std::string client_cert, client_key;   // remote mode with mutual TLS instead of a token
  std::string data_dir;
  std::string output = "text";
  std::string passphrase_file;
};

class Context {
 public:
  explicit Context(GlobalOptions options);
  ~Context();

  OutputFormat output() const { return options_.output == "json" ? OutputFormat::Json : OutputFormat::Text; }
  const std::string& data_dir() const { return options_.data_dir; }
  std::string db_path() const;
  std::string kek_path() const;
  // The principal recorded in audit events: the local OS user.
  std::string actor() const;

  // What commands run against: the server (--server) or the local data dir.
  Backend& backend();
  bool remote() const { return !options_.server.empty(); }
  // The authority over an initialised data dir; refuses (without creating anything) otherwise.
  // For commands that only make sense locally (serve); refuses in remote mode.
  ca::Authority& authority();
  // The authority for `init`: creates the data dir (0700) if needed.
  ca::Authority& authority_for_init();
  // The Kubernetes API side of pushing (made on first use).
  ca::ClusterGateway& gateway();
  // The passphrase from --passphrase-file or MESHTRUST_PASSPHRASE, if either was given.
  std::optional<std::string> passphrase() const;

 private:
  ca::Authority& open();
  GlobalOptions options_;
  ca::SystemClock clock_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<ca::Authority> authority_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<ca::ClusterGateway> gateway_;
};

}  // namespace meshtrust::cli
