// The Kubernetes Secret that carries a cluster's cacerts bundle (architecture.md, "Kubernetes
// Secret"): built here once, for the API push, the REST ?format=secret answer and `manifest`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "ca/authority.h"

namespace meshtrust::kube {

inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "meshtrust";
inline constexpr const char* kSerialAnnotation = "meshtrust.io/intermediate-serial";
inline constexpr const char* kFingerprintAnnotation = "meshtrust.io/intermediate-sha256";
inline constexpr const char* kBundleAnnotation = "meshtrust.io/bundle-sha256";

// The Secret object (data base64-encoded). Its data is the whole bundle: pushing it replaces
// the Secret's data whole, so stale keys such as tls.crt (which istiod would prefer) go.
nlohmann::json cacerts_secret(const ca::Bundle& bundle, const std::string& ns, const std::string& name);

// The same object as YAML for `kubectl apply -f -`.
std::string to_yaml(const nlohmann::json& secret);

}  // namespace meshtrust::kube
