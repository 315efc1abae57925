#include "api/tls_identity.h"

#include "pki/error.h"

namespace meshtrust::api {

void TlsIdentity::set(const std::string& chain_pem, const std::string& key_pem) {
  auto pair = std::make_shared<Pair>();
  pair->chain = pki::Certificate::all_from_pem(chain_pem);
  pair->key = std::make_unique<pki::PrivateKey>(pki::PrivateKey::from_pem(key_pem));
  if (!pair->key->matches(pair->chain.front().public_key()))
    throw pki::Error("the TLS key does not match the TLS certificate");
  std::lock_guard lock(mu_);
  current_ = std::move(pair);
}

int TlsIdentity::select(SSL* ssl, void* arg) {
  auto* self = static_cast<TlsIdentity*>(arg);
  std::shared_ptr<const Pair> pair;
  {
    std::lock_guard lock(self->mu_);
    pair = self->current_;
  }
  if (!pair) return 0;
  STACK_OF(X509)* chain = sk_X509_new_null();
  if (!chain) return 0;
  for (size_t i = 1; i < pair->chain.size(); ++i) {
    X509* c = &pair->chain[i].raw();
    X509_up_ref(c);
    if (sk_X509_push(chain, c) <= 0) {
      X509_free(c);
      sk_X509_pop_free(chain, X509_free);
      return 0;
    }
  }
  int ok = SSL_use_cert_and_key(ssl, &pair->chain.front().raw(), &pair->key->raw(), chain, 1);
  sk_X509_pop_free(chain, X509_free);
  return ok == 1 ? 1 : 0;
}

bool TlsIdentity::configure(SSL_CTX& ctx) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  // No stateless session tickets: a ticket is encrypted under a key that lives as long as the process, so its
  // theft would open every TLS 1.2 session resumed with it — and answers here carry CA keys
  // (Mozilla's server guidance turns nginx's tickets off for the same reason). A reconnecting client
  // makes a full handshake; keep-alive is what saves handshakes here.
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  // TLS 1.2 suites: forward-secret AEAD only.
  SSL_CTX_set_cipher_list(&ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
                                "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_cert_cb(&ctx, &TlsIdentity::select, this);
  // Mutual TLS, optional: a client may present a certificate (and so proves it holds the key).
  // Which certificates authenticate whom is the router's decision, by exact match against the
  // client certificates meshtrust issued; the handshake accepts any, so that a refused one gets
  // a problem+json answer and an audit event rather than a bare TLS alert.
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, [](int, X509_STORE_CTX*) { return 1; });
  // With peer verification on, OpenSSL refuses to resume a session without a session id context
  // (the handshake fails); a resumed session keeps its client certificate, which the router still
  // checks on every request.
  static constexpr unsigned char kSessionContext[] = "meshtrust";
  SSL_CTX_set_session_id_context(&ctx, kSessionContext, sizeof kSessionContext - 1);
  return true;
}

}  // namespace meshtrust::api
