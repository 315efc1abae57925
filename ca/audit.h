// Writing to and reading from the audit log: canonical leaf bytes, Merkle bookkeeping and
// signed tree heads. Used inside the transaction of the change being recorded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ca/merkle.h"
#include "ca/model.h"
#include "ca/repository.h"
#include "pki/key.h"

namespace meshtrust::ca {

// What happened, before it gets its index and time.
struct AuditEvent {
  std::string actor;   // "local:alice", "cluster:c1", "system:reconciler"
  std::string action;  // dotted verb, e.g. "intermediate.issue"
  std::optional<std::string> cluster;
  std::optional<std::string> serial;
  bool success = true;
  nlohmann::json details = nlohmann::json::object();  // never keys, tokens or credentials
};

// Canonical JSON: keys sorted at every level, no insignificant whitespace, UTF-8.
std::string canonical_json(const nlohmann::json& value);

// The text a tree head signature covers (audit-log.md).
std::string tree_head_message(std::uint64_t tree_size, const pki::Bytes& root_hash, std::int64_t timestamp_ms);

std::string format_rfc3339_ms(std::int64_t unix_ms);

class AuditWriter {
 public:
  explicit AuditWriter(AuditRepository& repo) : repo_(repo) {}
  // Appends the event as the next leaf (and the subtree hashes it completes).
  AuditRecord append(const AuditEvent& event, TimePoint now);
  // Signs and stores a head over the log as it is now in this transaction.
  TreeHead sign_head(const pki::PrivateKey& audit_key, TimePoint now);

 private:
  AuditRepository& repo_;
};

// Reads of the tree through the cached subtrees.
merkle::SubtreeReader subtree_reader(AuditRepository& repo);
merkle::Hash tree_root(AuditRepository& repo, std::uint64_t size);

}  // namespace meshtrust::ca
