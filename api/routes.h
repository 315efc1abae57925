// The REST endpoints (architecture.md, audit-log.md), registered on a Router.
#pragma once

namespace meshtrust::ca {
class Authority;
class ClusterGateway;
}

namespace meshtrust::api {

class Router;
class Metrics;

void add_health_routes(Router& r, ca::Authority& a, Metrics& m);
void add_cluster_routes(Router& r, ca::Authority& a, Metrics& m);
void add_certificate_routes(Router& r, ca::Authority& a);
void add_audit_routes(Router& r, ca::Authority& a);
void add_token_routes(Router& r, ca::Authority& a);
void add_push_routes(Router& r, ca::Authority& a, ca::ClusterGateway& gateway);

// The OpenAPI 3 document served at /v1/openapi.json.
const char* openapi_document();

}  // namespace meshtrust::api
