#include "ca/profile.h"

#include "ca/errors.h"

namespace meshtrust::ca {

namespace {

using pki::KeySpec;

Profile make_default() {
  Profile p;
  p.name = "default";
  p.root_key = {KeySpec::Type::Ec, 384};
  p.intermediate_key = {KeySpec::Type::Ec, 256};
  p.workload_key = {KeySpec::Type::Ec, 256};
  p.root_days = 3650;
  p.intermediate_days = 365;
  p.workload_days = 1;
  p.backdate = std::chrono::minutes(5);
  p.crl_sign = true;
  return p;
}

// Istio's tools/certs Makefile, extension for extension (root-ca.conf, intermediate.conf,
// workload.conf), kept for parity and migration.
Profile make_makefile() {
  Profile p;
  p.name = "makefile";
  p.root_key = p.intermediate_key = p.workload_key = {KeySpec::Type::Rsa, 4096};
  p.root_days = 3650;
  p.intermediate_days = 3650;
  p.workload_days = 1;
  p.backdate = std::chrono::seconds(0);
  p.crl_sign = false;
  return p;
}

}  // namespace

const Profile& Profile::get(const std::string& name) {
  static const Profile def = make_default(), mk = make_makefile();
  if (name == "default") return def;
  if (name == "makefile") return mk;
  throw invalid("unknown profile '" + name.substr(0, 40) + "' (accepted: default, makefile)");
}

std::vector<std::string> Profile::names() { return {"default", "makefile"}; }

pki::Extensions Profile::root_extensions() const {
  pki::Extensions e;
  e.basic_constraints = pki::BasicConstraints{true, std::nullopt, true};
  if (name == "makefile")
    e.key_usage = pki::KeyUsage{pki::kDigitalSignature | pki::kNonRepudiation | pki::kKeyEncipherment | pki::kKeyCertSign, true};
  else
    e.key_usage = pki::KeyUsage{pki::kKeyCertSign | pki::kCrlSign | pki::kDigitalSignature, true};
  e.subject_key_id = true;
  e.authority_key_id = true;  // not written on self-signed certificates
  return e;
}

pki::Extensions Profile::intermediate_extensions() const {
  pki::Extensions e = root_extensions();
  e.basic_constraints = pki::BasicConstraints{true, 0L, true};
  e.dns_names = {kIstiodDns};
  return e;
}

pki::Extensions Profile::workload_extensions(const std::string& uri, const pki::KeySpec& key) const {
  pki::Extensions e;
  e.basic_constraints = pki::BasicConstraints{false, std::nullopt, true};
  unsigned bits = pki::kDigitalSignature;
  // keyEncipherment only means something for RSA keys; the Makefile sets it regardless.
  if (name == "makefile" || key.type == pki::KeySpec::Type::Rsa) bits |= pki::kKeyEncipherment;
  e.key_usage = pki::KeyUsage{bits, name != "makefile"};
  e.extended_key_usage = {pki::ExtendedKeyUsage::ServerAuth, pki::ExtendedKeyUsage::ClientAuth};
  e.uris = {uri};
  return e;
}

void require_days(int days, const std::string& what) {
  if (days < 1 || days > kMaxDays)
    throw invalid(what + " must be between 1 and " + std::to_string(kMaxDays) + " days, not " + std::to_string(days));
}

pki::DistinguishedName root_subject(const std::string& org, const std::string& cn) {
  pki::DistinguishedName dn;
  if (!org.empty()) dn.entries.emplace_back("O", org);
  dn.entries.emplace_back("CN", cn);
  return dn;
}

pki::DistinguishedName intermediate_subject(const std::string& cluster) {
  return {{{"O", "Istio"}, {"CN", "Intermediate CA"}, {"L", cluster}}};
}

pki::DistinguishedName workload_subject(const std::string& ns) { return {{{"O", "Istio"}, {"CN", "Workload"}, {"L", ns}}}; }

std::string spiffe_uri(const std::string& td, const std::string& ns, const std::string& sa) {
  return "spiffe://" + td + "/ns/" + ns + "/sa/" + sa;
}

}  // namespace meshtrust::ca
