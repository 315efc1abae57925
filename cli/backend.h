// The one command set runs against two backends: the local data dir (the Authority itself) or
// a running server (its REST API). Commands talk only to this interface, so each command is
// written once and behaves the same in both modes.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ca/authority.h"

namespace meshtrust::cli {

class Backend {
 public:
  virtual ~Backend() = default;

  virtual ca::ClusterRecord add_cluster(const ca::ClusterRecord& spec) = 0;
  virtual void remove_cluster(const std::string& name) = 0;
  virtual std::vector<ca::ClusterRecord> clusters() = 0;
  virtual ca::ClusterRecord cluster(const std::string& name) = 0;

  virtual std::vector<ca::CertificateRecord> issue(const std::vector<std::string>& names, const ca::IssueOptions& options,
                                                   const ca::IssueProgress& progress) = 0;
  // With `rotation`, the CSR's certificate supersedes the cluster's current intermediate.
  virtual ca::CertificateRecord issue_from_csr(const std::string& name, const std::string& csr_pem,
                                               const ca::IssueOptions& options, bool rotation = false) = 0;
  virtual std::vector<ca::CertificateRecord> rotate(const std::vector<std::string>& names, const ca::IssueOptions& options,
                                                    const ca::IssueProgress& progress) = 0;
  virtual ca::RevocationRecord revoke(const std::string& serial, const std::string& reason) = 0;
  virtual ca::CrlRecord crl() = 0;
  virtual std::vector<ca::Bundle> export_bundles(const std::vector<std::string>& names) = 0;
  virtual ca::WorkloadBundle issue_workload(const ca::WorkloadRequest& request) = 0;

  virtual std::vector<ca::CertificateRecord> certificates(const ca::CertificateFilter& filter) = 0;
  virtual ca::StatusReport status() = 0;

  virtual ca::PushRun push(const std::vector<std::string>& names, const ca::PushOptions& options,
                           const ca::PushProgress& progress) = 0;
  virtual std::vector<ca::AccessCheck> check_cluster(const std::string& name) = 0;
  virtual std::vector<ca::PushRecord> push_history(const std::string& name, std::uint32_t limit) = 0;

  virtual ca::AuditPage audit_events(const ca::AuditFilter& filter) = 0;
  virtual ca::TreeHead audit_head() = 0;
  virtual ca::InclusionProof audit_inclusion(std::uint64_t index, std::optional<std::uint64_t> tree_size) = 0;
  virtual ca::ConsistencyProof audit_consistency(std::uint64_t first, std::uint64_t second) = 0;
  virtual std::string audit_public_key_pem() = 0;
  virtual ca::AuditVerifyReport verify_audit() = 0;

  virtual ca::Authority::NewToken create_token(ca::Role role, const std::string& name,
                                               std::optional<std::chrono::seconds> ttl) = 0;
  virtual std::vector<ca::TokenRecord> tokens() = 0;
  virtual void revoke_token(const std::string& id) = 0;
  virtual ca::Authority::ClientCredentials issue_client_certificate(ca::Role role, const std::string& name,
                                                                    const std::optional<std::string>& csr_pem,
                                                                    std::optional<int> days) = 0;
};

// The Authority over the local data dir, acting as `actor`. The gateway (the Kubernetes API
// client) is made on first use: most commands never push.
class LocalBackend final : public Backend {
 public:
  using GatewayFactory = std::function<ca::ClusterGateway&()>;
  LocalBackend(ca::Authority& authority, std::string actor, GatewayFactory gateway)
      : a_(authority), actor_(std::move(actor)), gateway_(std::move(gateway)) {}
  ca::ClusterRecord add_cluster(const ca::ClusterRecord& s) override { return a_.add_cluster(actor_, s); }
  void remove_cluster(const std::string& n) override { a_.remove_cluster(actor_, n); }
  std::vector<ca::ClusterRecord> clusters() override { return a_.clusters(); }
  ca::ClusterRecord cluster(const std::string& n) override { return a_.cluster(n); }
  std::vector<ca::CertificateRecord> issue(const std::vector<std::string>& names, const ca::IssueOptions& o,
                                           const ca::IssueProgress& p) override {
    return a_.issue(actor_, names, o, p);
  }
  ca::CertificateRecord issue_from_csr(const std::string& n, const std::string& csr, const ca::IssueOptions& o,
                                       bool rotation) override {
    return a_.issue_from_csr(actor_, n, csr, o, rotation);
  }
  std::vector<ca::CertificateRecord> rotate(const std::vector<std::string>& names, const ca::IssueOptions& o,
                                            const ca::IssueProgress& p) override {
    return a_.rotate(actor_, names, o, p);
  }
  ca::RevocationRecord revoke(const std::string& serial, const std::string& reason) override {
    return a_.revoke(actor_, serial, reason);
  }
  ca::CrlRecord crl() override { return a_.crl(); }
  std::vector<ca::Bundle> export_bundles(const std::vector<std::string>& names) override { return a_.export_bundles(actor_, names); }
  ca::WorkloadBundle issue_workload(const ca::WorkloadRequest& r) override { return a_.issue_workload(actor_, r); }
  std::vector<ca::CertificateRecord> certificates(const ca::CertificateFilter& f) override { return a_.certificates(f); }
  ca::StatusReport status() override { return a_.status(); }
  ca::PushRun push(const std::vector<std::string>& names, const ca::PushOptions& o, const ca::PushProgress& p) override {
    return a_.push(actor_, names, o, gateway_(), p);
  }
  std::vector<ca::AccessCheck> check_cluster(const std::string& n) override {
    return a_.check_cluster(n, gateway_(), ca::kAccessCheckDeadline);
  }
  std::vector<ca::PushRecord> push_history(const std::string& n, std::uint32_t limit) override {
    return a_.push_history(n, limit);
  }
  ca::AuditPage audit_events(const ca::AuditFilter& f) override { return a_.audit_events(f); }
  ca::TreeHead audit_head() override { return a_.audit_head(); }
  ca::InclusionProof audit_inclusion(std::uint64_t i, std::optional<std::uint64_t> n) override { return a_.audit_inclusion(i, n); }
  ca::ConsistencyProof audit_consistency(std::uint64_t m, std::uint64_t n) override { return a_.audit_consistency(m, n); }
  std::string audit_public_key_pem() override { return a_.audit_public_key_pem(); }
  ca::AuditVerifyReport verify_audit() override { return a_.verify_audit(); }
  ca::Authority::NewToken create_token(ca::Role r, const std::string& n, std::optional<std::chrono::seconds> t) override {
    return a_.create_token(actor_, r, n, t);
  }
  std::vector<ca::TokenRecord> tokens() override { return a_.tokens(); }
  void revoke_token(const std::string& id) override { a_.revoke_token(actor_, id); }
  ca::Authority::ClientCredentials issue_client_certificate(ca::Role r, const std::string& n, const std::optional<std::string>& csr,
                                                            std::optional<int> days) override {
    return a_.issue_client_certificate(actor_, r, n, csr, days);
  }

 private:
  ca::Authority& a_;
  std::string actor_;
  GatewayFactory gateway_;
};

}  // namespace meshtrust::cli
