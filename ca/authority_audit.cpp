// The Authority's read side of the audit log: pages, heads, proofs, verification. None of it
// needs the key passphrase.
#include "ca/authority.h"
#include "ca/authority_impl.h"
#include "ca/audit_verify.h"
#include "ca/merkle.h"

namespace meshtrust::ca {

AuditPage Authority::audit_events(const AuditFilter& filter) {
  if (filter.limit < 1 || filter.limit > 1000) throw invalid("limit must be between 1 and 1000");
  if (filter.since_ms && filter.until_ms && *filter.until_ms < *filter.since_ms) throw invalid("until is before since");
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  AuditFilter one_more = filter;
  one_more.limit = filter.limit + 1;  // tells whether a next page exists
  AuditPage page{tx->audit().query(one_more), std::nullopt};
  if (page.events.size() > filter.limit) {
    page.next_cursor = page.events[filter.limit].index;
    page.events.resize(filter.limit);
  }
  return page;
}

TreeHead Authority::audit_head() {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  auto head = tx->audit().latest_head();
  if (!head) throw not_found("the audit log has no signed tree head yet");
  return *head;
}

namespace {
pki::Bytes to_bytes(const merkle::Hash& h) { return pki::Bytes(h.begin(), h.end()); }
}  // namespace

InclusionProof Authority::audit_inclusion(std::uint64_t index, std::optional<std::uint64_t> tree_size) {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  std::uint64_t size = tx->audit().size();
  std::uint64_t n = tree_size.value_or(tx->audit().latest_head() ? tx->audit().latest_head()->tree_size : size);
  if (n > size) throw invalid("tree_size " + std::to_string(n) + " is larger than the log (" + std::to_string(size) + " events)");
  if (index >= n) throw invalid("index " + std::to_string(index) + " is not below tree_size " + std::to_string(n));
  auto rec = tx->audit().get(index);
  if (!rec) throw Error(ErrorKind::Storage, "audit event " + std::to_string(index) + " is missing");
  InclusionProof p{index, n, rec->leaf_hash, {}};
  for (const auto& h : merkle::inclusion_proof(index, n, subtree_reader(tx->audit()))) p.audit_path.push_back(to_bytes(h));
  return p;
}

ConsistencyProof Authority::audit_consistency(std::uint64_t first, std::uint64_t second) {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  std::uint64_t size = tx->audit().size();
  if (first == 0 || first > second) throw invalid("a consistency proof needs 0 < first <= second");
  if (second > size) throw invalid("second " + std::to_string(second) + " is larger than the log (" + std::to_string(size) + " events)");
  ConsistencyProof p{first, second, {}};
  for (const auto& h : merkle::consistency_proof(first, second, subtree_reader(tx->audit()))) p.proof.push_back(to_bytes(h));
  return p;
}

AuditVerifyReport Authority::verify_audit() {
  auto key_pem = audit_public_key_pem();
  auto key = pki::PublicKey::from_der(pki::parse_pem(key_pem).front().der);
  auto tx = impl_->read();
  return verify_audit_log(tx->audit(), key);
}

}  // namespace meshtrust::ca
