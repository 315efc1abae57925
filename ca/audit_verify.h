// Full verification of the audit log from its stored leaves: every leaf hash, the position of
// every event, every cached subtree hash, and every signed tree head (root and signature).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ca/repository.h"
#include "pki/key.h"

namespace meshtrust::ca {

struct AuditVerifyReport {
  bool ok = true;
  std::uint64_t tree_size = 0;     // events found
  std::uint64_t heads_checked = 0;
  std::optional<std::uint64_t> first_bad_index;  // lowest event index where anything disagrees
  std::string problem;                           // one sentence about that first disagreement
};

AuditVerifyReport verify_audit_log(AuditRepository& repo, const pki::PublicKey& audit_key);

}  // namespace meshtrust::ca
