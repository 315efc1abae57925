// Issuance profiles: the policy step that decides what a certificate contains. The mechanism
// (encoding, signing) is pki::sign_certificate; keeping them apart lets the policy be read
// and tested on its own. See ../shared/design/istio-bundle.md, "Profiles".
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "pki/builder.h"
#include "pki/key.h"

namespace meshtrust::ca {

struct Profile {
  std::string name;
  pki::KeySpec root_key, intermediate_key, workload_key;
  int root_days = 3650, intermediate_days = 365, workload_days = 1;
  std::chrono::seconds backdate{0};  // NotBefore = now - backdate (clock skew between clusters)
  bool crl_sign = true;              // cRLSign on CA certificates

  static const Profile& get(const std::string& name);  // throws ca::Error(InvalidRequest)
  static std::vector<std::string> names();

  pki::Extensions root_extensions() const;
  pki::Extensions intermediate_extensions() const;
  pki::Extensions workload_extensions(const std::string& spiffe_uri, const pki::KeySpec& key) const;
};

constexpr int kMaxDays = 36500;
// Validates a user-supplied lifetime in days (1..kMaxDays); throws ca::Error(InvalidRequest).
void require_days(int days, const std::string& what);

pki::DistinguishedName root_subject(const std::string& org, const std::string& cn);
pki::DistinguishedName intermediate_subject(const std::string& cluster);
pki::DistinguishedName workload_subject(const std::string& ns);
std::string spiffe_uri(const std::string& trust_domain, const std::string& ns, const std::string& sa);

// istiod's own service name: what the intermediate's SAN names.
inline constexpr const char* kIstiodDns = "istiod.istio-system.svc";

}  // namespace meshtrust::ca
