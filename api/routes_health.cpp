#include <httplib.h>

#include <nlohmann/json.hpp>

#include "api/metrics.h"
#include "api/router.h"
#include "api/routes.h"
#include "ca/authority.h"

namespace meshtrust::api {

using ca::Role;

void add_health_routes(Router& r, ca::Authority& a, Metrics& m) {
  r.add("GET", "/healthz", "healthz", Access::anyone(), [](Call& c) { c.res.set_content(R"({"status":"ok"})", "application/json"); });
  r.add("GET", "/readyz", "readyz", Access::anyone(), [&a](Call& c) {
    a.status();  // the database answers (throws a Storage error, 503, if not)
    c.res.set_content(R"({"status":"ready"})", "application/json");
  });
  r.add("GET", "/metrics", "metrics", Access::roles_of({Role::Admin, Role::Issuer, Role::Auditor}),
        [&a, &m](Call& c) { c.res.set_content(m.render(a), "text/plain; version=0.0.4"); });
  r.add("GET", "/v1/trust-bundle", "trust-bundle", Access::anyone(),
        [&a](Call& c) { c.res.set_content(a.root_pem(), "application/x-pem-file"); });
  r.add("GET", "/v1/openapi.json", "openapi", Access::anyone(),
        [](Call& c) { c.res.set_content(openapi_document(), "application/json"); });
}

}  // namespace meshtrust::api
