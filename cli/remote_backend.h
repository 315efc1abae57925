// The command set over a running server's REST API (`--server URL --token T`).
#pragma once

#include <memory>
#include <string>

#include "cli/backend.h"

namespace meshtrust::cli {

struct RemoteOptions {
  std::string url;      // https://host:port
  std::string token;    // bearer token
  std::string ca_file;  // the mesh root (or the server's CA); empty: the system's trust store
  std::string client_cert, client_key;  // PEM files for mutual TLS, instead of a token
};

std::unique_ptr<Backend> make_remote_backend(const RemoteOptions& options);

}  // namespace meshtrust::cli
