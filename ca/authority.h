// The certificate authority: root, per-cluster intermediates, workload certificates, bundles.
// Every state change runs in one transaction together with its audit event and a fresh signed
// tree head, so a crash leaves either the old state or the new, never one without the other.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ca/audit.h"
#include "ca/audit_verify.h"
#include "ca/clock.h"
#include "ca/key_vault.h"
#include "ca/model.h"
#include "ca/repository.h"
#include "ca/tokens.h"
#include "pki/certificate.h"

namespace meshtrust::ca {

struct InitOptions {
  std::string profile = "default";
  std::optional<std::string> key_algorithm;
  std::string org = "Istio";
  std::string cn = "Root CA";
  std::optional<int> days;
  std::optional<std::string> import_cert_pem, import_key_pem;  // both or neither
  KekSettings::Mode kek_mode = KekSettings::Mode::File;
  std::string kek_secret;  // passphrase, or the key file's contents
  std::string trust_domain = "cluster.local";
};

struct IssueOptions {
  std::optional<std::string> profile, key_algorithm;
  std::optional<int> days;
};

// The files of a cluster's cacerts bundle, in istiod's layout.
struct Bundle {
  std::string cluster;
  std::string serial, fingerprint_sha256;
  std::string ca_cert, cert_chain, root_cert;
  std::string ca_key;  // unencrypted PKCS#8 PEM; empty when the cluster holds its own key
};

struct WorkloadRequest {
  std::string ns, cluster, service_account = "default";
  std::optional<int> days;
  std::optional<std::string> trust_domain;
};

struct WorkloadBundle {
  std::string serial;
  std::string cert, key, chain, root_cert;
};

struct AuditPage {
  std::vector<AuditRecord> events;
  std::optional<std::uint64_t> next_cursor;  // the index to continue from, if there is more
};

struct InclusionProof {
  std::uint64_t index = 0, tree_size = 0;
  pki::Bytes leaf_hash;
  std::vector<pki::Bytes> audit_path;
};

struct ConsistencyProof {
  std::uint64_t first = 0, second = 0;
  std::vector<pki::Bytes> proof;
};

struct ClusterStatus {
  ClusterRecord cluster;
  std::optional<CertificateRecord> intermediate;
};

struct StatusReport {
  CertificateRecord root;
  std::vector<ClusterStatus> clusters;
  std::int64_t now = 0;  // unix seconds, for "days left"
};

// Called on the calling thread after each issued certificate is durably committed.
using IssueProgress = std::function<void(size_t done, size_t total, const CertificateRecord& issued)>;

class Authority {
 public:
  Authority(Store& store, const Clock& clock, KekSecretSource kek_source);
  ~Authority();
  Authority(const Authority&) = delete;
  Authority& operator=(const Authority&) = delete;

  bool initialized();
  // Unlocks the keys now (a server does this at start, so requests never wait on scrypt and a
  // wrong passphrase stops it before it listens).
  void unlock();
  CertificateRecord init(const std::string& actor, const InitOptions& options);

  ClusterRecord add_cluster(const std::string& actor, const ClusterRecord& spec);
  void remove_cluster(const std::string& actor, const std::string& name);
  std::vector<ClusterRecord> clusters();
  ClusterRecord cluster(const std::string& name);

  // Issues centrally keyed intermediates for `names` in parallel; all names are validated
  // before any work starts.
  std::vector<CertificateRecord> issue(const std::string& actor, const std::vector<std::string>& names,
                                       const IssueOptions& options, const IssueProgress& progress = {});
  // Signs a cluster-generated CSR: only its public key is used; no key is stored.
  CertificateRecord issue_from_csr(const std::string& actor, const std::string& name, const std::string& csr_pem,
                                   const IssueOptions& options);

  // One cluster's bundle for a REST caller; `with_key` only for principals allowed the key.
  // The delivery is an audit event, durable before this returns.
  Bundle deliver_bundle(const std::string& actor, const std::string& name, bool with_key);
  CertificateRecord certificate(const std::string& serial);

  // The REST server's own TLS certificate: ECDSA P-256, issued by the root for `dns_names` and
  // `ips`, valid `days`. Returns PEMs (leaf then root as the chain) and the key.
  struct ServerCredentials {
    std::string cert_chain_pem, key_pem;
    std::int64_t not_after = 0;
  };
  ServerCredentials issue_server_certificate(const std::string& actor, const std::vector<std::string>& dns_names,
                                             const std::vector<std::string>& ips, int days);

  // Releases the bundles (keys included) of `names`; the release is an audit event.
  std::vector<Bundle> export_bundles(const std::string& actor, const std::vector<std::string>& names);
  WorkloadBundle issue_workload(const std::string& actor, const WorkloadRequest& request);

  // The audit log (read-only; none of these needs the key passphrase).
  AuditPage audit_events(const AuditFilter& filter);
  TreeHead audit_head();
  // tree_size defaults to the latest signed head's.
  InclusionProof audit_inclusion(std::uint64_t index, std::optional<std::uint64_t> tree_size);
  ConsistencyProof audit_consistency(std::uint64_t first, std::uint64_t second);
  AuditVerifyReport verify_audit();

  // Bearer tokens. create_token returns the token itself, which is never stored or shown again.
  struct NewToken {
    TokenRecord record;
    std::string token;
  };
  NewToken create_token(const std::string& actor, Role role, const std::string& name,
                        std::optional<std::chrono::seconds> ttl);
  std::vector<TokenRecord> tokens();
  void revoke_token(const std::string& actor, const std::string& id);
  // The principal a bearer token stands for, or nullopt if it is malformed, unknown, revoked or
  // expired (callers cannot tell which: that is deliberate).
  std::optional<Principal> authenticate(const std::string& token);
  // Records an event that changes no state (a delivery, a refused request) on its own.
  void record(const AuditEvent& event);

  std::vector<CertificateRecord> certificates(const CertificateFilter& filter);
  std::string root_pem();
  // The audit log's signing key (public half), PEM: what auditors verify tree heads with.
  std::string audit_public_key_pem();
  StatusReport status();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshtrust::ca
