#include "pki/verify.h"

#include "pki/error.h"

namespace meshtrust::pki {

VerifyResult verify_chain(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                          const std::vector<Certificate>& trusted, Time at) {
  X509StorePtr store(check_ptr(X509_STORE_new(), "allocate trust store"));
  for (const auto& t : trusted) check(X509_STORE_add_cert(store.get(), &t.raw()), "add trusted certificate");
  X509StackPtr chain(check_ptr(sk_X509_new_null(), "allocate chain"));
  for (const auto& u : untrusted) {
    check(X509_up_ref(&u.raw()), "reference certificate");
    if (sk_X509_push(chain.get(), &u.raw()) <= 0) {
      X509_free(&u.raw());
      throw OpenSslError("build chain");
    }
  }
  X509StoreCtxPtr ctx(check_ptr(X509_STORE_CTX_new(), "allocate verify context"));
  check(X509_STORE_CTX_init(ctx.get(), store.get(), &leaf.raw(), chain.get()), "start verification");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at.time_since_epoch().count()));

  VerifyResult result;
  result.ok = X509_verify_cert(ctx.get()) == 1;
  if (!result.ok) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    result.error = X509_verify_cert_error_string(err);
    result.depth = X509_STORE_CTX_get_error_depth(ctx.get());
  }
  clear_openssl_errors();
  return result;
}

}  // namespace meshtrust::pki
