#include "api/bundle_body.h"

#include <nlohmann/json.hpp>

namespace meshtrust::api {

std::string BundleBodies::json_of(const ca::Bundle& b) {
  const std::string key = b.bundle_sha256 + (b.ca_key.empty() ? "/public" : "/with-key");
  {
    std::lock_guard lock(mu_);
    if (auto it = bodies_.find(key); it != bodies_.end()) return it->second;
  }
  nlohmann::json j = {{"ca-cert.pem", b.ca_cert}, {"cert-chain.pem", b.cert_chain}, {"root-cert.pem", b.root_cert}};
  if (!b.ca_key.empty()) j["ca-key.pem"] = b.ca_key;
  if (!b.ca_crl.empty()) j["ca-crl.pem"] = b.ca_crl;
  j["serial"] = b.serial;
  j["bundle_sha256"] = b.bundle_sha256;
  std::string body = j.dump();
  std::lock_guard lock(mu_);
  if (bodies_.size() >= kCap) bodies_.clear();
  bodies_.emplace(key, body);
  return body;
}

}  // namespace meshtrust::api
