// What every command shares: global options, the data dir, and the authority opened on demand.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "ca/authority.h"
#include "ca/clock.h"

namespace meshtrust::storage {
class SqliteStore;
}

namespace meshtrust::cli {

enum class OutputFormat { Text, Json };

struct GlobalOptions {
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

  // The authority over an initialised data dir; refuses (without creating anything) otherwise.
  ca::Authority& authority();
  // The authority for `init`: creates the data dir (0700) if needed.
  ca::Authority& authority_for_init();
  // The passphrase from --passphrase-file or MESHTRUST_PASSPHRASE, if either was given.
  std::optional<std::string> passphrase() const;

 private:
  ca::Authority& open();
  GlobalOptions options_;
  ca::SystemClock clock_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<ca::Authority> authority_;
};

}  // namespace meshtrust::cli
