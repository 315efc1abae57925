// Certificate Revocation Lists (RFC 5280 §5): immutable parsed values and a signer for v2 CRLs.
// Like the rest of pki/, nothing here reads the clock or does I/O: times are passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pki/certificate.h"
#include "pki/encoding.h"
#include "pki/handles.h"
#include "pki/key.h"

namespace meshtrust::pki {

// RFC 5280 §5.3.1 CRLReason values (7 is unused in the RFC).
enum class RevocationReason {
  Unspecified = 0,
  KeyCompromise = 1,
  CaCompromise = 2,
  AffiliationChanged = 3,
  Superseded = 4,
  CessationOfOperation = 5,
  CertificateHold = 6,
  RemoveFromCrl = 8,  // delta CRLs only (RFC 5280 §5.3.1); sign_crl refuses it
  PrivilegeWithdrawn = 9,
  AaCompromise = 10,
};

// The RFC 5280 ASN.1 name: "keyCompromise", "cACompromise", "removeFromCRL", ...
std::string to_string(RevocationReason r);
// An RFC name case-insensitively ("keyCompromise", "KEYCOMPROMISE"), or its kebab or snake form
// ("key-compromise", "key_compromise", "ca-compromise", "remove-from-crl"); nullopt otherwise.
std::optional<RevocationReason> parse_revocation_reason(std::string_view s);
// The RFC names in CRLReason order, for error messages and help.
const std::vector<std::string>& revocation_reason_names();

struct RevokedEntry {
  Serial serial;
  Time revoked_at;
  RevocationReason reason = RevocationReason::Unspecified;
  bool operator==(const RevokedEntry&) const = default;
};

struct CrlTemplate {
  std::uint64_t number = 0;  // cRLNumber: the caller keeps it monotonically increasing per issuer
  Time this_update;
  Time next_update;
  std::vector<RevokedEntry> entries;  // written in this order
};

class Crl {
 public:
  static Crl from_der(ByteView der);
  // The first "X509 CRL" block of `pem`.
  static Crl from_pem(std::string_view pem);

  Crl(const Crl& other);
  Crl& operator=(const Crl& other);
  Crl(Crl&&) noexcept = default;
  Crl& operator=(Crl&&) noexcept = default;

  const Bytes& der() const { return der_; }
  std::string pem() const { return to_pem("X509 CRL", der_); }  // canonical: same bytes everywhere
  std::uint64_t number() const;  // the cRLNumber extension; throws pki::Error if absent or over 64 bits
  Time this_update() const;
  Time next_update() const;  // throws pki::Error if the CRL has none (it is optional in RFC 5280)
  DistinguishedName issuer() const;
  Bytes authority_key_id() const;  // the AKI's keyIdentifier; empty if absent
  // In encoded order; reason Unspecified when an entry has no reasonCode. Read once at parse time,
  // so OpenSSL sorting its stack during a lookup (X509_CRL_get0_by_serial) cannot reorder it.
  const std::vector<RevokedEntry>& entries() const { return entries_; }
  // Checks the signature only (not times, issuer name or key usage).
  bool verify(const PublicKey& issuer_key) const;

  X509_CRL& raw() const { return *crl_; }

 private:
  explicit Crl(X509CrlPtr crl, Bytes der);

  X509CrlPtr crl_;
  Bytes der_;
  std::vector<RevokedEntry> entries_;
};

// Signs a complete v2 CRL with SHA-256 for `issuer`, a CA certificate (basicConstraints CA:TRUE)
// whose keyUsage, if present, includes cRLSign, and whose public key matches `issuer_key`.
// Extensions: authorityKeyIdentifier (keyid = the issuer's subjectKeyIdentifier, or the RFC 5280
// method-1 hash of its key if it has none; non-critical) and cRLNumber (non-critical). Entries are
// written in the order given (not sorted), each with its revocation date and, unless the reason is
// Unspecified, a reasonCode entry extension. Throws pki::Error for a bad issuer or key,
// next_update <= this_update, duplicate or non-positive serials, or RemoveFromCrl.
Crl sign_crl(const CrlTemplate& tmpl, const Certificate& issuer, const PrivateKey& issuer_key);

}  // namespace meshtrust::pki
