#include "pki/error.h"

#include <openssl/err.h>

namespace meshtrust::pki {

std::string drain_openssl_errors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

void clear_openssl_errors() { ERR_clear_error(); }

OpenSslError::OpenSslError(std::string_view what)
    : Error([&] {
        std::string msg(what);
        std::string queue = drain_openssl_errors();
        if (!queue.empty()) msg += " (" + queue + ")";
        return msg;
      }()) {}

}  // namespace meshtrust::pki
