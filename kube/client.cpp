#include "kube/client.h"

#include <mutex>
#include <random>
#include <thread>

#include "kube/credentials.h"
#include "kube/retry.h"
#include "kube/transport.h"

namespace meshtrust::kube {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

// Server text for an error message: one line, bounded. It is the server's, not ours: it names
// objects and fields, never the values of a Secret.
std::string clean(const std::string& text, size_t max) {
  std::string s;
  for (char c : text) {
    if (s.size() >= max) {
      s += "...";
      break;
    }
    s.push_back(static_cast<unsigned char>(c) < ' ' ? ' ' : c);
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

ApiError::Details error_details(const HttpReply& r) {
  ApiError::Details d;
  d.status = r.status;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  // Compared, never converted: a malformed answer must not throw a JSON type error.
  if (j.is_object() && j.contains("kind") && j["kind"] == "Status") {
    if (j.contains("reason") && j["reason"].is_string()) d.reason = j["reason"];
    if (j.contains("message") && j["message"].is_string()) d.message = clean(j["message"], 500);
  } else if (r.content_type.starts_with("text/plain")) {
    d.message = clean(r.body, 200);  // a proxy's short explanation; HTML pages are left out
  }
  if (d.reason.empty()) d.reason = reason_phrase(r.status);
  if (auto ra = parse_retry_after(r.retry_after)) d.retry_after = *ra;
  return d;
}

// Seeds for backoff jitter (not secrets): one random_device read per thread, not per Client,
// since a fleet push makes a Client per cluster.
std::uint64_t jitter_seed() {
  thread_local std::mt19937_64 seeder{std::random_device{}()};
  return seeder();
}

}  // namespace

std::string path_segment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

struct Client::Impl {
  ClusterAccess access;
  ClientOptions options;
  Credentials credentials;
  Transport transport;
  std::mutex mutex;
  std::mt19937_64 rng{jitter_seed()};
  int last_attempts = 0;
  std::optional<Steady::time_point> deadline;  // set_deadline
  // Waits asked for minus waits taken, over all calls: what the absolute deadline adds to the
  // real clock so that an instant test sleep still spends the budget (0 in production).
  milliseconds unslept{0};

  Impl(ClusterAccess a, ClientOptions o)
      : access(std::move(a)),
        options(std::move(o)),
        credentials(access, options.exec_cache, options.exec_timeout, options.now),
        transport(access, options.connect_timeout, options.max_response_bytes, options.user_agent) {
    if (!options.sleep) options.sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
    if (options.max_attempts < 1) options.max_attempts = 1;
  }

  std::string prefix(const std::string& verb, const std::string& what) const {
    std::string p = options.cluster_name.empty() ? "" : "cluster " + options.cluster_name + ": ";
    return p + verb + " " + what + ": ";
  }

  nlohmann::json call(const std::string& verb, const std::string& path, const nlohmann::json* body,
                      const std::string& what) {
    std::lock_guard lock(mutex);
    const std::string payload = body ? body->dump() : "";
    const auto start = Steady::now();
    // This call's budget: its own deadline, cut to what is left of the absolute one.
    milliseconds budget = options.deadline;
    if (deadline) {
      budget = std::min(budget, std::chrono::duration_cast<milliseconds>(*deadline - (start + unslept)));
      if (budget < milliseconds(1)) {
        last_attempts = 0;
        throw TransportError(prefix(verb, what) + "not sent: the deadline for this cluster has passed", false);
      }
    }
    // Time used = real time, with each wait counted as asked for rather than as it took: equal
    // in production, and with an instant test sleep the deadline still means something.
    milliseconds asked{0}, slept{0};
    auto used = [&] { return std::chrono::duration_cast<milliseconds>(Steady::now() - start) - slept + asked; };
    // Waits `d` if the deadline allows it and leaves the next attempt a fair chance (a quarter
    // of the deadline, or a whole request timeout if that is less); false if not, and the
    // caller gives up with the error in hand rather than send an attempt doomed to time out.
    const milliseconds reserve = std::min(options.request_timeout, budget / 4);
    auto wait = [&](milliseconds d) {
      if (used() + d + reserve > budget) return false;
      auto t0 = Steady::now();
      options.sleep(d);
      milliseconds took = std::chrono::duration_cast<milliseconds>(Steady::now() - t0);
      slept += took;
      asked += d;
      unslept += d - took;
      return true;
    };
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto backoff = [&](int retry) { return backoff_delay(retry, options.base_backoff, options.max_backoff, unit(rng)); };

    last_attempts = 0;
    int tries = 0;  // attempts that count toward max_attempts (an exec re-run after 401 does not)
    bool reauthenticated = false;
    for (;;) {
      ++last_attempts;
      ++tries;
      RequestCredential cred;
      HttpReply reply;
      try {
        cred = credentials.current();
        milliseconds left = budget - used();
        if (left < milliseconds(1)) left = milliseconds(1);
        reply = transport.send(verb, path, payload, cred.bearer, cred.cert, std::min(options.request_timeout, left));
      } catch (const TransportError& e) {
        if (e.retryable() && tries < options.max_attempts && wait(backoff(tries))) continue;
        throw TransportError(prefix(verb, what) + e.what(), e.retryable());
      } catch (const CredentialError& e) {
        throw CredentialError(prefix(verb, what) + e.what());
      } catch (const ConfigError& e) {
        throw ConfigError(prefix(verb, what) + e.what());
      }

      if (reply.status >= 200 && reply.status < 300) {
        if (reply.body.empty()) return nullptr;
        auto j = nlohmann::json::parse(reply.body, nullptr, false);
        if (j.is_discarded())
          throw TransportError(prefix(verb, what) + "the server answered " + std::to_string(reply.status) +
                                   " with a body that is not JSON (is the server URL right?)",
                               false);
        return j;
      }

      ApiError::Details d = error_details(reply);
      d.verb = verb;
      d.path = path.substr(0, path.find('?'));
      d.what = what;
      d.cluster = options.cluster_name;
      if (reply.status == 401 && !reauthenticated && credentials.reject(cred)) {
        // The plugin's credential was refused (revoked, or expired early): run it once more.
        reauthenticated = true;
        --tries;
        continue;
      }
      if (retryable_status(reply.status) && tries < options.max_attempts) {
        milliseconds delay = backoff(tries);
        if ((reply.status == 429 || reply.status == 503) && d.retry_after)
          delay = std::chrono::duration_cast<milliseconds>(*d.retry_after);
        if (wait(delay)) continue;
      }
      throw ApiError(std::move(d));
    }
  }

  // GET that answers nullopt for a missing object (ApiError::object_missing).
  std::optional<nlohmann::json> get_optional(const std::string& path, const std::string& what) {
    try {
      return call("GET", path, nullptr, what);
    } catch (const ApiError& e) {
      if (e.object_missing()) return std::nullopt;
      throw;
    }
  }
};

Client::Client(ClusterAccess access, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(access), std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const ClusterAccess& Client::access() const { return impl_->access; }
bool Client::insecure() const { return impl_->access.insecure_skip_tls_verify; }
int Client::last_attempts() const { return impl_->last_attempts; }

void Client::set_deadline(std::optional<Steady::time_point> deadline) {
  std::lock_guard lock(impl_->mutex);
  impl_->deadline = deadline;
}

nlohmann::json Client::call(const std::string& verb, const std::string& path, const nlohmann::json* body,
                            const std::string& what) {
  return impl_->call(verb, path, body, what);
}

nlohmann::json Client::version() { return impl_->call("GET", "/version", nullptr, "version"); }

std::optional<nlohmann::json> Client::get_namespace(const std::string& name) {
  return impl_->get_optional("/api/v1/namespaces/" + path_segment(name), "namespaces/" + name);
}

nlohmann::json Client::create_namespace(const std::string& name) {
  nlohmann::json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  return impl_->call("POST", "/api/v1/namespaces?fieldManager=meshtrust", &ns, "namespaces/" + name);
}

std::optional<nlohmann::json> Client::get_secret(const std::string& ns, const std::string& name) {
  return impl_->get_optional("/api/v1/namespaces/" + path_segment(ns) + "/secrets/" + path_segment(name),
                             "secrets/" + ns + "/" + name);
}

nlohmann::json Client::create_secret(const std::string& ns, const nlohmann::json& secret) {
  std::string name;
  if (secret.contains("metadata") && secret["metadata"].is_object())
    if (secret["metadata"].contains("name") && secret["metadata"]["name"].is_string()) name = secret["metadata"]["name"];
  return impl_->call("POST", "/api/v1/namespaces/" + path_segment(ns) + "/secrets?fieldManager=meshtrust", &secret,
                     "secrets/" + ns + "/" + name);
}

nlohmann::json Client::replace_secret(const std::string& ns, const std::string& name, const nlohmann::json& secret) {
  return impl_->call("PUT",
                     "/api/v1/namespaces/" + path_segment(ns) + "/secrets/" + path_segment(name) +
                         "?fieldManager=meshtrust",
                     &secret, "secrets/" + ns + "/" + name);
}

bool Client::delete_secret(const std::string& ns, const std::string& name,
                           const std::optional<std::string>& resource_version) {
  nlohmann::json options = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (resource_version) options["preconditions"] = {{"resourceVersion", *resource_version}};
  try {
    impl_->call("DELETE", "/api/v1/namespaces/" + path_segment(ns) + "/secrets/" + path_segment(name), &options,
                "secrets/" + ns + "/" + name);
    return true;
  } catch (const ApiError& e) {
    if (e.object_missing()) return false;
    throw;
  }
}

std::optional<nlohmann::json> Client::get_configmap(const std::string& ns, const std::string& name) {
  return impl_->get_optional("/api/v1/namespaces/" + path_segment(ns) + "/configmaps/" + path_segment(name),
                             "configmaps/" + ns + "/" + name);
}

AccessReview Client::can_i(const std::string& verb, const std::string& resource, const std::string& ns) {
  nlohmann::json review = {
      {"apiVersion", "authorization.k8s.io/v1"},
      {"kind", "SelfSubjectAccessReview"},
      {"spec", {{"resourceAttributes", {{"namespace", ns}, {"verb", verb}, {"resource", resource}}}}},
  };
  auto out = impl_->call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", &review,
                         "selfsubjectaccessreviews (" + verb + " " + resource + ")");
  AccessReview r{verb, resource, ns, false, ""};
  if (out.is_object() && out.contains("status") && out["status"].is_object()) {
    const auto& st = out["status"];
    r.allowed = st.contains("allowed") && st["allowed"] == true && !(st.contains("denied") && st["denied"] == true);
    if (st.contains("reason") && st["reason"].is_string()) r.reason = st["reason"];
  }
  return r;
}

std::vector<AccessReview> Client::check_secret_access(const std::string& ns) {
  std::vector<AccessReview> out;
  for (const char* verb : {"get", "create", "update"}) out.push_back(can_i(verb, "secrets", ns));
  return out;
}

}  // namespace meshtrust::kube
