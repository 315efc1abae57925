#include "kube/errors.h"

namespace meshtrust::kube {

namespace {

std::string sentence(const ApiError::Details& d) {
  std::string s;
  if (!d.cluster.empty()) s += "cluster " + d.cluster + ": ";
  s += d.verb + " " + (d.what.empty() ? d.path : d.what) + ": " + std::to_string(d.status);
  if (!d.reason.empty()) s += " " + d.reason;
  if (!d.message.empty()) s += ": " + d.message;
  return s;
}

}  // namespace

ApiError::ApiError(Details d) : Error(sentence(d)), d_(std::move(d)) {}

}  // namespace meshtrust::kube
