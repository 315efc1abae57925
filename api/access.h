// Who may call a route. Decided before the handler runs; a cluster principal asking about
// another cluster gets 404, so it cannot learn which clusters exist.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "ca/tokens.h"

namespace meshtrust::api {

enum class Decision { Allow, Unauthenticated, Forbidden, Hidden };

struct Access {
  bool anonymous = false;                 // no token needed
  std::set<ca::Role> roles;               // these roles may call it
  bool own_cluster = false;               // a cluster principal may, for its own {name}

  static Access anyone() { return {true, {}, false}; }
  static Access roles_of(std::set<ca::Role> r, bool own_cluster = false) { return {false, std::move(r), own_cluster}; }

  Decision decide(const std::optional<ca::Principal>& who, const std::optional<std::string>& cluster_param) const {
    if (anonymous) return Decision::Allow;
    if (!who) return Decision::Unauthenticated;
    if (roles.count(who->role)) return Decision::Allow;
    if (who->role == ca::Role::Cluster && own_cluster && cluster_param) {
      return *cluster_param == who->name ? Decision::Allow : Decision::Hidden;
    }
    return Decision::Forbidden;
  }
};

}  // namespace meshtrust::api
