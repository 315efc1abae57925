// pki's error types and the one place where OpenSSL return codes are checked.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace meshtrust::pki {

// Input that is not what it claims to be (bad PEM, a CSR whose signature fails, ...).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An OpenSSL call failed; the message carries OpenSSL's drained error queue.
class OpenSslError : public Error {
 public:
  explicit OpenSslError(std::string_view what);
};

// Drains OpenSSL's thread-local error queue into one string ("" if empty).
std::string drain_openssl_errors();
// Empties the queue so a stale entry cannot be blamed on the next call.
void clear_openssl_errors();

// OpenSSL's usual convention: 1 is success. Anything else throws with `what`.
inline void check(int rc, std::string_view what) {
  if (rc != 1) throw OpenSslError(what);
}
// Functions returning a size or count, where 0 (or negative) is failure (X509_sign, i2d_*).
inline int check_positive(int rc, std::string_view what) {
  if (rc <= 0) throw OpenSslError(what);
  return rc;
}
template <class T>
T* check_ptr(T* p, std::string_view what) {
  if (p == nullptr) throw OpenSslError(what);
  return p;
}

}  // namespace meshtrust::pki
