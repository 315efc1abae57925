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

// Appends within one transaction. It reads the log's right edge once (size, last time, the
// O(log n) complete subtrees along the edge) and then keeps it in memory, so each further
// append costs only its inserts.
class AuditWriter {
 public:
  explicit AuditWriter(AuditRepository& repo) : repo_(repo) {}
  // Appends the event as the next leaf (and the subtree hashes it completes).
  AuditRecord append(const AuditEvent& event, TimePoint now);
  // Signs and stores a head over the log as it is now in this transaction.
  TreeHead sign_head(const pki::PrivateKey& audit_key, TimePoint now);

 private:
  struct Edge {
    std::int64_t last_time_ms = 0;
    merkle::CompactRange range;
  };
  Edge& edge();
  AuditRepository& repo_;
  std::optional<Edge> edge_;
};

// Complete subtrees of 2^kSubtreeCacheFloor leaves and more are cached; smaller ones are
// folded from their (at most 8) leaf hashes on demand. Caching every level would cost one
// row per event; this costs one per 16, keeps appends and full verification cheap, and still
// answers any root or proof with O(log n) reads.
inline constexpr unsigned kSubtreeCacheFloor = 4;

// Reads of the tree through the cached subtrees.
merkle::SubtreeReader subtree_reader(AuditRepository& repo);
merkle::Hash tree_root(AuditRepository& repo, std::uint64_t size);

}  // namespace meshtrust::ca
