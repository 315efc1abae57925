// Validation of names that become parts of paths, Secret names and certificate fields.
#pragma once

#include <string>
#include <string_view>

namespace meshtrust::ca {

// RFC 1123 label as Kubernetes uses it: 1-63 of [a-z0-9-], starting and ending alphanumeric.
bool is_dns1123_label(std::string_view s);
// RFC 1123 subdomain: dot-separated labels, at most 253 characters (Secret names, service accounts).
bool is_dns1123_subdomain(std::string_view s);

// Throw ca::Error(InvalidRequest) with a sentence naming `what` and the rule.
void require_cluster_name(std::string_view name);
void require_namespace(std::string_view ns, std::string_view what = "namespace");
void require_subdomain(std::string_view s, std::string_view what);

// What an unregistered cluster's lookup answers (the REST server answers the same to a
// cluster principal asking about another cluster, so existence does not leak).
std::string unregistered_cluster_message(std::string_view name);

// Quotes a user-supplied value for an error message: truncated, control characters escaped.
std::string quoted(std::string_view s);

}  // namespace meshtrust::ca
