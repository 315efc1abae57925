// The JSON shape of the authority's records, shared by the CLI's --output json and the REST
// API so both speak the same language (and the CLI's remote mode can read it back).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ca/authority.h"

namespace meshtrust::ca {

std::string date_utc(std::int64_t unix_seconds);  // "2027-11-22T23:00:00Z"
std::int64_t days_left(std::int64_t not_after, std::int64_t now);

nlohmann::json to_json(const CertificateRecord& r);  // no DER; see certificate_json for the PEM
nlohmann::json to_json(const ClusterRecord& c);
nlohmann::json to_json(const TokenRecord& t);        // never the secret
nlohmann::json to_json(const PushReport& r);
nlohmann::json to_json(const PushRun& r);            // {"clusters": [...], "skipped": [...]}
nlohmann::json to_json(const PushRecord& r);
nlohmann::json to_json(const AccessCheck& c);
nlohmann::json to_json(const TreeHead& h);
nlohmann::json status_json(const StatusReport& s);
StatusReport status_from_json(const nlohmann::json& j);

// The inverses, for a client reading the API's answers. Throw ca::Error(InvalidRequest) on a
// shape they do not recognise.
std::int64_t parse_date_utc(const std::string& text);
CertificateRecord certificate_from_json(const nlohmann::json& j);
ClusterRecord cluster_from_json(const nlohmann::json& j);
TokenRecord token_from_json(const nlohmann::json& j);
PushRun push_run_from_json(const nlohmann::json& j);
PushRecord push_record_from_json(const nlohmann::json& j);
std::vector<AccessCheck> access_checks_from_json(const nlohmann::json& j);  // {"checks": [...]}
TreeHead tree_head_from_json(const nlohmann::json& j);

}  // namespace meshtrust::ca
