#include "kube/secret.h"

#include "pki/encoding.h"

namespace meshtrust::kube {

nlohmann::json cacerts_secret(const ca::Bundle& b, const std::string& ns, const std::string& name) {
  nlohmann::json data = {
      {"ca-cert.pem", pki::base64_encode(pki::as_bytes(b.ca_cert))},
      {"cert-chain.pem", pki::base64_encode(pki::as_bytes(b.cert_chain))},
      {"root-cert.pem", pki::base64_encode(pki::as_bytes(b.root_cert))},
  };
  if (!b.ca_key.empty()) data["ca-key.pem"] = pki::base64_encode(pki::as_bytes(b.ca_key));
  if (!b.ca_crl.empty()) data["ca-crl.pem"] = pki::base64_encode(pki::as_bytes(b.ca_crl));
  nlohmann::json annotations = {{kSerialAnnotation, b.serial}, {kFingerprintAnnotation, b.fingerprint_sha256}};
  if (!b.bundle_sha256.empty()) annotations[kBundleAnnotation] = b.bundle_sha256;
  return {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"type", "Opaque"},
      {"metadata",
       {{"name", name},
        {"namespace", ns},
        {"labels", {{kManagedByLabel, kManagedByValue}}},
        {"annotations", annotations}}},
      {"data", data},
  };
}

namespace {
// Every scalar we emit is a plain string; JSON strings are valid YAML flow scalars, so quoting
// them the JSON way is both correct and safe for any content.
void emit(const nlohmann::json& v, int indent, std::string& out) {
  std::string pad(static_cast<size_t>(indent), ' ');
  for (auto it = v.begin(); it != v.end(); ++it) {
    out += pad + nlohmann::json(it.key()).dump() + ":";
    if (it->is_object()) {
      out += "\n";
      emit(*it, indent + 2, out);
    } else {
      out += " " + it->dump() + "\n";
    }
  }
}
}  // namespace

std::string to_yaml(const nlohmann::json& secret) {
  std::string out;
  emit(secret, 0, out);
  return out;
}

}  // namespace meshtrust::kube
