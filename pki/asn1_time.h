// Internal to pki/: converting between pki::Time and ASN1_TIME, shared by certificates, the
// builder and CRLs.
#pragma once

#include <ctime>
#include <optional>

#include "pki/certificate.h"
#include "pki/error.h"
#include "pki/handles.h"

namespace meshtrust::pki::detail {

// ASN1_TIME_set picks UTCTime through 2049 and GeneralizedTime after (RFC 5280 §4.1.2.5, §5.1.2.4).
inline Asn1TimePtr to_asn1_time(Time t) {
  return Asn1TimePtr(check_ptr(ASN1_TIME_set(nullptr, static_cast<time_t>(t.time_since_epoch().count())), "encode time"));
}

// nullopt if `t` is null or not a valid time (the OpenSSL error queue is then cleared).
inline std::optional<Time> from_asn1_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    clear_openssl_errors();
    return std::nullopt;
  }
  return Time(std::chrono::seconds(timegm(&tm)));
}

}  // namespace meshtrust::pki::detail
