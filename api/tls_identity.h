// The server's TLS certificate and key, swappable while serving: each handshake picks up the
// current pair, so a renewed certificate takes effect without a restart.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <openssl/ssl.h>

#include "pki/certificate.h"
#include "pki/key.h"

namespace meshtrust::api {

class TlsIdentity {
 public:
  // chain_pem: leaf first, then its issuers.
  void set(const std::string& chain_pem, const std::string& key_pem);
  // Installs the identity-choosing callback and TLS settings (1.2 minimum) on `ctx`.
  bool configure(SSL_CTX& ctx);

 private:
  struct Pair {
    std::vector<pki::Certificate> chain;
    std::unique_ptr<pki::PrivateKey> key;
  };
  static int select(SSL* ssl, void* arg);
  std::mutex mu_;
  std::shared_ptr<const Pair> current_;
};

}  // namespace meshtrust::api
