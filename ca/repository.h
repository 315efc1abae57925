// The storage the authority needs, as interfaces it owns. storage/ implements them on SQLite;
// tests may implement them in memory. All access happens inside a Transaction: a unit of
// work that commits whole or not at all, so a change and its audit event land together.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <optional>
#include <string>
#include <vector>

#include "ca/distribution.h"
#include "ca/model.h"
#include "ca/tokens.h"

namespace meshtrust::ca {

class CertificateRepository {
 public:
  virtual ~CertificateRepository() = default;
  virtual void insert(const CertificateRecord& rec) = 0;
  virtual std::optional<CertificateRecord> find(const std::string& serial) = 0;
  virtual std::optional<CertificateRecord> find_by_fingerprint(const std::string& fingerprint_sha256) = 0;
  virtual std::vector<CertificateRecord> list(const CertificateFilter& filter) = 0;
  virtual void set_status(const std::string& serial, CertStatus status) = 0;
};

class KeyRepository {
 public:
  virtual ~KeyRepository() = default;
  virtual void insert(const SealedKey& key) = 0;
  virtual std::optional<SealedKey> find(const std::string& id) = 0;
};

class ClusterRepository {
 public:
  virtual ~ClusterRepository() = default;
  virtual void insert(const ClusterRecord& c) = 0;
  virtual std::optional<ClusterRecord> find(const std::string& name) = 0;
  virtual std::vector<ClusterRecord> list() = 0;
  virtual void remove(const std::string& name) = 0;
  virtual void set_current_serial(const std::string& name, const std::optional<std::string>& serial) = 0;
  // The cluster's API access: the description (record.access without the kubeconfig) and the
  // kubeconfig sealed under the KEK. `sealed_access` is empty when none is stored.
  virtual void set_access(const std::string& name, const ClusterAccessSpec& description, const pki::Bytes& sealed) = 0;
  virtual std::optional<pki::Bytes> sealed_access(const std::string& name) = 0;
};

// Push attempts, one row each: the history behind `cluster show`, status and metrics.
class PushRepository {
 public:
  virtual ~PushRepository() = default;
  virtual std::int64_t insert(const PushRecord& r) = 0;  // returns the id
  // The latest attempt of every cluster that has one, and the latest successful one.
  virtual std::vector<PushRecord> latest_per_cluster() = 0;
  virtual std::vector<PushRecord> latest_success_per_cluster() = 0;
  virtual std::vector<PushRecord> history(const std::string& cluster, std::uint32_t limit) = 0;  // newest first
};

class SettingsRepository {
 public:
  virtual ~SettingsRepository() = default;
  virtual std::optional<KekSettings> kek() = 0;
  virtual void put_kek(const KekSettings& s) = 0;
  virtual std::optional<CaSettings> ca() = 0;
  virtual void put_ca(const CaSettings& s) = 0;
};

// The audit log's persistence: leaves, cached complete-subtree hashes and signed heads.
class AuditRepository {
 public:
  virtual ~AuditRepository() = default;
  virtual std::uint64_t size() = 0;
  virtual void append(const AuditRecord& rec) = 0;  // rec.index must equal size()
  virtual std::optional<AuditRecord> get(std::uint64_t index) = 0;
  virtual std::vector<AuditRecord> query(const AuditFilter& filter) = 0;
  // Hash of the complete subtree at `level` (0 = leaves) covering leaves
  // [index << level, (index + 1) << level).
  virtual std::optional<pki::Bytes> subtree(unsigned level, std::uint64_t index) = 0;
  virtual void put_subtree(unsigned level, std::uint64_t index, const pki::Bytes& hash) = 0;
  // The stored leaf hashes of events [first, first + count), in order (fewer if absent).
  virtual std::vector<pki::Bytes> leaf_hashes(std::uint64_t first, std::uint64_t count) = 0;
  virtual void put_head(const TreeHead& head) = 0;
  virtual std::optional<TreeHead> latest_head() = 0;
  virtual std::vector<TreeHead> heads() = 0;
  // Full scans in index order for verification; `f` returns false to stop early.
  using LeafVisitor = std::function<bool(std::uint64_t index, std::string_view leaf, pki::ByteView leaf_hash)>;
  using SubtreeVisitor = std::function<bool(unsigned level, std::uint64_t index, pki::ByteView hash)>;
  virtual void scan_leaves(const LeafVisitor& f) = 0;
  virtual void scan_subtrees(const SubtreeVisitor& f) = 0;
};

class TokenRepository {
 public:
  virtual ~TokenRepository() = default;
  virtual void insert(const TokenRecord& t) = 0;
  virtual std::optional<TokenRecord> find(const std::string& id) = 0;
  virtual std::vector<TokenRecord> list() = 0;
  virtual void revoke(const std::string& id) = 0;
};

class RevocationRepository {
 public:
  virtual ~RevocationRepository() = default;
  virtual void insert(const RevocationRecord& r) = 0;
  virtual std::optional<RevocationRecord> find(const std::string& serial) = 0;
  virtual std::vector<RevocationRecord> for_issuer(const std::string& issuer_serial) = 0;
};

class CrlRepository {
 public:
  virtual ~CrlRepository() = default;
  virtual void insert(const CrlRecord& c) = 0;
  virtual std::optional<CrlRecord> latest(const std::string& issuer_serial) = 0;
};

// At most one root rotation at a time: its state, or nothing.
class RotationRepository {
 public:
  virtual ~RotationRepository() = default;
  virtual std::optional<RootRotationRecord> get() = 0;
  virtual void put(const RootRotationRecord& r) = 0;
  virtual void clear() = 0;
};

class Transaction {
 public:
  virtual ~Transaction() = default;  // rolls back unless committed
  virtual CertificateRepository& certificates() = 0;
  virtual KeyRepository& keys() = 0;
  virtual ClusterRepository& clusters() = 0;
  virtual SettingsRepository& settings() = 0;
  virtual AuditRepository& audit() = 0;
  virtual TokenRepository& tokens() = 0;
  virtual PushRepository& pushes() = 0;
  virtual RevocationRepository& revocations() = 0;
  virtual CrlRepository& crls() = 0;
  virtual RotationRepository& rotation() = 0;
  virtual void commit() = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  enum class Mode { Read, Write };
  // Write transactions are serialised (one writer at a time, across processes).
  virtual std::unique_ptr<Transaction> begin(Mode mode) = 0;
};

}  // namespace meshtrust::ca
