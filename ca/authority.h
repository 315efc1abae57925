// The certificate authority: root, per-cluster intermediates, workload certificates, bundles.
// Every state change runs in one transaction together with its audit event and a fresh signed
// tree head, so a crash leaves either the old state or the new, never one without the other.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ca/audit.h"
#include "ca/audit_verify.h"
#include "ca/clock.h"
#include "ca/distribution.h"
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
  std::string ca_crl;  // optional ca-crl.pem (config bundle-crl): the root's and the intermediate's CRLs
  // SHA-256 (hex) over the four files as delivered: what tells a pushed Secret is current,
  // also when only root-cert.pem changed (root rotation keeps the intermediate).
  std::string bundle_sha256;
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

struct RootRotateOptions {
  std::optional<std::string> key_algorithm, cn;  // cn default: "Root CA <date>"
  std::string org = "Istio";
  std::optional<int> days;
  std::optional<std::string> import_cert_pem, import_key_pem;  // both or neither
  bool cross_sign = false;  // also certify the new root's key with the old root
  std::chrono::seconds workload_ttl{86400};  // how long old intermediates' workload certificates may live
};

struct RootRotationStatus {
  std::optional<RootRotationRecord> state;  // none: no rotation in progress
  std::string signing_root;
  std::vector<std::string> trust;     // root-cert.pem's roots, in order
  std::vector<std::string> blockers;        // what the next advance waits for, one sentence each
  std::vector<std::string> abort_blockers;  // what dropping the new root (abort from trust-both) waits for
  std::string next_step;
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
  std::string rotation_due;  // why the intermediate should be rotated now, or ""
  ClusterDelivery delivery;
};

struct StatusReport {
  CertificateRecord root;                // the signing root
  std::vector<std::string> trust;        // the roots in every bundle
  std::vector<ClusterStatus> clusters;
  std::optional<RotationPhase> rotation;  // a root rotation in progress
  std::map<PushResult, std::uint64_t> pushes;  // push outcomes seen by this process (DeliveryReport)
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

  // Registers a cluster. With spec.access, its kubeconfig (self-contained, validated by the
  // front end) is sealed under the KEK; only the description is stored in clear.
  ClusterRecord add_cluster(const std::string& actor, const ClusterRecord& spec);
  void remove_cluster(const std::string& actor, const std::string& name);
  std::vector<ClusterRecord> clusters();
  ClusterRecord cluster(const std::string& name);

  // Issues centrally keyed intermediates for `names` in parallel; all names are validated
  // before any work starts.
  std::vector<CertificateRecord> issue(const std::string& actor, const std::vector<std::string>& names,
                                       const IssueOptions& options, const IssueProgress& progress = {});
  // Signs a cluster-generated CSR: only its public key is used; no key is stored. With
  // `rotation`, the cluster's current intermediate is superseded by the new one.
  CertificateRecord issue_from_csr(const std::string& actor, const std::string& name, const std::string& csr_pem,
                                   const IssueOptions& options, bool rotation = false);
  // New intermediates (new keys, under the signing root) for clusters that have one; each
  // previous intermediate becomes superseded (not revoked), so workload certificates it signed
  // keep verifying until they expire.
  std::vector<CertificateRecord> rotate(const std::string& actor, const std::vector<std::string>& names,
                                        const IssueOptions& options, const IssueProgress& progress = {});
  // Clusters whose intermediate should be rotated now: less than renew_percent of its lifetime
  // left, revoked, or issued by a root other than the signing one. `due` lists those whose key
  // meshtrust holds; `why` has every due cluster, those holding their own key too (they rotate
  // by sending a CSR).
  struct DueReport {
    std::vector<std::string> due;
    std::map<std::string, std::string> why;  // cluster -> reason
  };
  DueReport due_for_rotation();

  // Revocation (RFC 5280 reasons) of an intermediate, workload or server certificate; the
  // issuer's CRL is regenerated in the same transaction.
  RevocationRecord revoke(const std::string& actor, const std::string& serial, const std::string& reason);
  // The signing root's current CRL, regenerated first if it is missing or past half its life.
  CrlRecord crl();
  // Regenerates every CRL that bundles or clients need and that is missing or past half its
  // life: the trusted roots' and (with bundle-crl) each current intermediate's. Returns how many.
  size_t refresh_crls(const std::string& actor);

  // Root rotation (authority_root_rotation.cpp). `ignore_unmanaged`: clusters without a
  // kubeconfig do not block an advance (the operator vouches that they fetched their bundle).
  RootRotationStatus root_rotation(bool ignore_unmanaged = false);
  RootRotationRecord root_rotate_start(const std::string& actor, const RootRotateOptions& options);
  RootRotationRecord root_rotate_advance(const std::string& actor, bool ignore_unmanaged = false,
                                         const IssueProgress& progress = {});
  RootRotationRecord root_rotate_abort(const std::string& actor, bool ignore_unmanaged = false,
                                       const IssueProgress& progress = {});

  // Configuration: bundle-crl (on|off), crl-days (1-365), renew-percent (1-90).
  std::map<std::string, std::string> configuration();
  void configure(const std::string& actor, const std::string& key, const std::string& value);

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

  // Client certificates for mutual TLS: each authenticates one principal (role and name, as a
  // token does) to the REST service. The key is generated here and returned once (never
  // stored), or comes from the client's CSR and never leaves the client.
  struct ClientCredentials {
    CertificateRecord record;
    std::string certificate_pem;  // the certificate, then the root that issued it
    std::string key_pem;          // PKCS#8, when meshtrust generated the key; empty for a CSR
  };
  ClientCredentials issue_client_certificate(const std::string& actor, Role role, const std::string& name,
                                             const std::optional<std::string>& csr_pem, std::optional<int> days);
  // The principal of a client certificate as presented in a TLS handshake (DER), or the reason
  // it authenticates nobody: not one meshtrust issued for a principal, revoked, outside its
  // validity, or under a root no longer trusted. The handshake proved the peer holds its key.
  struct CertificateLogin {
    std::optional<Principal> who;
    std::string refusal;
  };
  CertificateLogin authenticate_certificate(const pki::Bytes& der);
  // Records an event that changes no state (a delivery, a refused request) on its own.
  void record(const AuditEvent& event);

  // Pushes the current bundle of `names` (empty: every cluster that can be pushed) through
  // `gateway`, `options.concurrency` clusters at a time. Named clusters that cannot be pushed
  // (no kubeconfig, no intermediate, a key held by the cluster) are refused before anything is
  // sent. Every attempt is stored and audited (dry runs are not attempts), in batches.
  PushRun push(const std::string& actor, const std::vector<std::string>& names, const PushOptions& options,
               ClusterGateway& gateway, const PushProgress& progress = {});
  // The reconcile loop's pass: rotate the intermediates that are due, refresh CRLs, then push
  // every cluster's bundle where it drifted or is missing, recording only writes and failures,
  // and note whether istiod took the roots up.
  PushRun reconcile(ClusterGateway& gateway, PushOptions options);
  std::vector<AccessCheck> check_cluster(const std::string& name, ClusterGateway& gateway,
                                         std::chrono::milliseconds deadline);
  std::vector<PushRecord> push_history(const std::string& name, std::uint32_t limit);
  DeliveryReport delivery();

  std::vector<CertificateRecord> certificates(const CertificateFilter& filter);
  std::string root_pem();
  // The audit log's signing key (public half), PEM: what auditors verify tree heads with.
  std::string audit_public_key_pem();
  StatusReport status();

 private:
  std::vector<CertificateRecord> issue_batch(const std::string& actor, const std::vector<std::string>& names,
                                             const IssueOptions& options, const IssueProgress& progress, bool rotation);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshtrust::ca
