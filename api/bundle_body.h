// The JSON body of GET /v1/clusters/{name}/cacerts, serialized once per bundle version: a
// keep-alive fleet fetching unchanged bundles would otherwise spend a tenth of the server's CPU
// escaping the same four PEM files into JSON again for every request.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "ca/authority.h"

namespace meshtrust::api {

class BundleBodies {
 public:
  // The body for this bundle, with its key when the bundle carries one (the caller clears the
  // key for principals who may not see it).
  std::string json_of(const ca::Bundle& b);

 private:
  // Keyed by the digest of the public files plus whether the key is in: the key is fixed by
  // ca-cert.pem. Capped; at the cap the map starts again (a fleet has one entry per cluster).
  static constexpr std::size_t kCap = 8192;
  std::mutex mu_;
  std::map<std::string, std::string> bodies_;
};

}  // namespace meshtrust::api
