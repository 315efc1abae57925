#include "kube/gateway.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "kube/errors.h"
#include "kube/kubeconfig.h"
#include "kube/secret.h"
#include "pki/encoding.h"

namespace meshtrust::kube {

using ca::PushResult;
using Steady = std::chrono::steady_clock;
using Json = nlohmann::json;

namespace {

constexpr const char* kRootConfigMap = "istio-ca-root-cert";
constexpr const char* kRootKey = "root-cert.pem";
// kubectl's copy of the last applied object. On a Secret it holds that object's data, so it is
// not carried over into what meshtrust writes (and it no longer describes the object anyway).
constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

// ---- reading objects the server sent, which may be malformed: compared, never converted -------

const Json& member(const Json& j, const char* key) {
  static const Json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

std::string string_at(const Json& j, const char* key) {
  const Json& v = member(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// A map of strings (data, labels, annotations). A value that is not a string keeps a form no
// string equals, so it compares as different rather than as missing.
std::map<std::string, std::string> string_map(const Json& j) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) out[it.key()] = it->is_string() ? it->get<std::string>() : "\x01" + it->dump();
  return out;
}

std::map<std::string, std::string> data_of(const Json& secret) { return string_map(member(secret, "data")); }
std::map<std::string, std::string> labels_of(const Json& o) { return string_map(member(member(o, "metadata"), "labels")); }
std::map<std::string, std::string> annotations_of(const Json& o) {
  return string_map(member(member(o, "metadata"), "annotations"));
}

std::string type_of(const Json& secret) {
  std::string t = string_at(secret, "type");
  return t.empty() ? "Opaque" : t;
}

// What makes `existing` differ from `desired`, by key, never by value. Data must be equal as a
// whole (a stale key such as tls.crt is a difference: istiod would prefer it); labels and
// annotations only need ours present with our values, whatever others added.
std::vector<std::string> differences(const Json& existing, const Json& desired) {
  std::vector<std::string> out;
  auto have = data_of(existing), want = data_of(desired);
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end()) out.push_back("data " + k + " added");
    else if (it->second != v) out.push_back("data " + k + " changed");
  }
  for (const auto& [k, v] : have)
    if (!want.count(k)) out.push_back("data " + k + " removed");
  auto ours = [&](const std::map<std::string, std::string>& h, const std::map<std::string, std::string>& w,
                  const std::string& what) {
    for (const auto& [k, v] : w) {
      auto it = h.find(k);
      if (it == h.end()) out.push_back(what + " " + k + " added");
      else if (it->second != v) out.push_back(what + " " + k + " changed");
    }
  };
  ours(labels_of(existing), labels_of(desired), "label");
  ours(annotations_of(existing), annotations_of(desired), "annotation");
  return out;
}

// `desired` with the labels and annotations others put on `existing` kept (ours win).
Json merged(const Json& desired, const Json& existing) {
  Json out = desired;
  for (const char* field : {"labels", "annotations"}) {
    Json m = Json::object();
    for (const auto& [k, v] : string_map(member(member(existing, "metadata"), field)))
      if (k != kLastApplied && !v.starts_with('\x01')) m[k] = v;
    for (const auto& [k, v] : string_map(member(member(desired, "metadata"), field))) m[k] = v;
    out["metadata"][field] = std::move(m);
  }
  return out;
}

// The DER of every CERTIFICATE block in `pem`; empty if it holds none or is malformed.
std::set<pki::Bytes> certificate_ders(const std::string& pem) {
  std::set<pki::Bytes> out;
  try {
    for (auto& block : pki::parse_pem(pem))
      if (block.label == "CERTIFICATE") out.insert(std::move(block.der));
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

std::string server_text(const ApiError& e) {
  if (!e.server_message().empty()) return e.server_message();
  return std::to_string(e.status()) + " " + e.reason();
}

// ---- one push ---------------------------------------------------------------------------------

class PushRun {
 public:
  PushRun(Client& client, const ca::PushTarget& target, const ca::Bundle& bundle, const ca::PushOptions& options,
          ca::PushOutcome& out)
      : client_(client),
        target_(target),
        bundle_(bundle),
        options_(options),
        out_(out),
        where_(target.ns + "/" + target.secret_name),
        prefix_("cluster " + target.cluster + ": "),
        desired_(cacerts_secret(bundle, target.ns, target.secret_name)) {}

  void run() {
    // A write that lost a race (409) but may have landed: the client retried it, so one of its
    // attempts may have been applied before the one that was refused.
    std::optional<PushResult> maybe_landed;
    std::vector<std::string> maybe_landed_changes;
    for (int round = 1; round <= kMaxWriteRounds; ++round) {
      auto existing = counted([&] { return client_.get_secret(target_.ns, target_.secret_name); });
      if (!existing) {
        std::vector<std::string> changes{"secret created"};
        if (options_.dry_run) {
          if (namespace_missing()) changes.push_back("namespace " + target_.ns + " created");
          finish(PushResult::WouldCreate, std::move(changes));
          return;
        }
        if (create(desired_)) {
          if (out_.namespace_created) changes.push_back("namespace " + target_.ns + " created");
          finish(PushResult::Created, std::move(changes));
          read_back();
          return;
        }
        if (client_.last_attempts() > 1) {
          maybe_landed = PushResult::Created;
          maybe_landed_changes = {"secret created"};
        }
        continue;
      }

      if (string_at(labels_json(*existing), kManagedByLabel) != kManagedByValue && !options_.force)
        fail("Secret " + where_ + " exists and is not managed by meshtrust (no label " + kManagedByLabel + "=" +
             kManagedByValue + "); pass --force to replace it");
      const std::string type = type_of(*existing);
      auto changes = differences(*existing, desired_);
      if (type == "Opaque" && changes.empty()) {
        if (maybe_landed) finish(*maybe_landed, std::move(maybe_landed_changes));
        else finish(PushResult::Unchanged, {});
        return;
      }
      // A Secret's type never changes, and an immutable one keeps its data: such a Secret can
      // only be deleted and created again, which loses what was there, so only when forced.
      const bool retype = type != "Opaque";
      const bool frozen = member(*existing, "immutable") == true && data_of(*existing) != data_of(desired_);
      if (retype && !options_.force)
        fail("Secret " + where_ + " has type " + type +
             ", which cannot be changed to Opaque; pass --force to delete it and create it again");
      if (frozen && !options_.force)
        fail("Secret " + where_ + " is immutable and its data differs; pass --force to delete it and create it again");
      if (retype) changes.insert(changes.begin(), "type " + type + " replaced by Opaque (deleted and created again)");
      else if (frozen) changes.insert(changes.begin(), "immutable Secret deleted and created again");
      if (options_.dry_run) {
        finish(PushResult::WouldReplace, std::move(changes));
        return;
      }

      Json body = merged(desired_, *existing);
      const std::string rv = string_at(member(*existing, "metadata"), "resourceVersion");
      bool written = false;
      try {
        if (retype || frozen) {
          written = recreate(body, rv);
        } else {
          if (!rv.empty()) body["metadata"]["resourceVersion"] = rv;
          counted([&] { return client_.replace_secret(target_.ns, target_.secret_name, body); });
          written = true;
        }
      } catch (const ApiError& e) {
        if (!e.conflict() && !e.already_exists() && !e.object_missing()) throw;
        // Changed (or deleted) since we read it: read again and decide again.
      }
      if (written) {
        finish(PushResult::Replaced, std::move(changes));
        read_back();
        return;
      }
      if (client_.last_attempts() > 1) {
        maybe_landed = PushResult::Replaced;
        maybe_landed_changes = changes;
      }
    }
    fail("Secret " + where_ + " changed concurrently " + std::to_string(kMaxWriteRounds) +
         " times while meshtrust was writing it; try again");
  }

  // Whether istiod has published the bundle's roots (istio-bundle.md, "Hot reload"): every
  // root certificate of the bundle is in istio-ca-root-cert. Never a failure.
  void check_roots() {
    out_.roots = ca::RootsStatus::Pending;
    auto want = certificate_ders(bundle_.root_cert);
    if (want.empty()) {
      out_.warnings.push_back("the bundle's root-cert.pem holds no certificate to look for in " +
                              std::string(kRootConfigMap));
      return;
    }
    try {
      auto cm = counted([&] { return client_.get_configmap(target_.ns, kRootConfigMap); });
      if (!cm) return;
      auto have = certificate_ders(string_at(member(*cm, "data"), kRootKey));
      if (std::all_of(want.begin(), want.end(), [&](const pki::Bytes& d) { return have.count(d) > 0; }))
        out_.roots = ca::RootsStatus::TakenUp;
    } catch (const Error& e) {
      out_.warnings.push_back(std::string("could not read ConfigMap ") + kRootConfigMap + " to check the roots: " + e.what());
    }
  }

 private:
  // Runs one client call and counts the requests it sent, also when it fails.
  template <class F>
  auto counted(F&& f) -> decltype(f()) {
    try {
      auto r = f();
      out_.attempts += client_.last_attempts();
      return r;
    } catch (...) {
      out_.attempts += client_.last_attempts();
      throw;
    }
  }

  [[noreturn]] void fail(const std::string& why) const { throw Error(prefix_ + why); }

  void finish(PushResult result, std::vector<std::string> changes) {
    out_.result = result;
    out_.changes = std::move(changes);
  }

  static const Json& labels_json(const Json& o) { return member(member(o, "metadata"), "labels"); }

  // For a dry run: true when GET says the namespace is missing. A credential that may not read
  // namespaces (they are cluster-scoped; a namespaced Role cannot) cannot tell: say so.
  bool namespace_missing() {
    try {
      return !counted([&] { return client_.get_namespace(target_.ns); }).has_value();
    } catch (const ApiError& e) {
      if (!e.forbidden()) throw;
      out_.warnings.push_back("cannot tell whether namespace " + target_.ns + " exists: " + server_text(e));
      return false;
    }
  }

  // POSTs the Secret, creating its namespace if the POST says it is missing. False if the
  // Secret exists by now (409 AlreadyExists): the caller reads again.
  bool create(const Json& body) {
    try {
      counted([&] { return client_.create_secret(target_.ns, body); });
      return true;
    } catch (const ApiError& e) {
      if (e.already_exists()) return false;
      if (!e.object_missing()) throw;
    }
    ensure_namespace();
    try {
      counted([&] { return client_.create_secret(target_.ns, body); });
      return true;
    } catch (const ApiError& e) {
      if (e.already_exists()) return false;
      throw;
    }
  }

  void ensure_namespace() {
    try {
      if (counted([&] { return client_.get_namespace(target_.ns); })) return;  // created meanwhile
    } catch (const ApiError& e) {
      if (!e.forbidden()) throw;  // 403: cannot look; the create below tells
    }
    try {
      counted([&] { return client_.create_namespace(target_.ns); });
      out_.namespace_created = true;
    } catch (const ApiError& e) {
      if (e.already_exists()) return;
      if (e.forbidden())
        fail("namespace " + target_.ns + " does not exist and the credential may not create it: " + server_text(e));
      throw;
    }
  }

  // Deletes the Secret (only if still at `rv`) and creates `body` in its place. False if it
  // changed meanwhile (the precondition failed, or another writer created it again first).
  bool recreate(Json body, const std::string& rv) {
    // Deleting what cannot be created again would leave the cluster with no Secret at all: ask
    // first (an authorizer that cannot be asked does not stop the push; the create will tell).
    std::optional<bool> may_create;
    try {
      may_create = counted([&] { return client_.can_i("create", "secrets", target_.ns); }).allowed;
    } catch (const Error&) {
    }
    if (may_create == false)
      fail("Secret " + where_ + " must be deleted and created again, but the credential may not create secrets in " +
           target_.ns + "; nothing was deleted");
    std::optional<std::string> precondition;
    if (!rv.empty()) precondition = rv;
    counted([&] { return client_.delete_secret(target_.ns, target_.secret_name, precondition); });
    try {
      return create(body);
    } catch (const Error& e) {
      // The old Secret is gone and the new one is not there: say both.
      std::string why = e.what();
      if (why.starts_with(prefix_)) why.erase(0, prefix_.size());
      fail("Secret " + where_ + " was deleted to be created again, but the create failed: " + why);
    }
  }

  // The stored Secret must hold what was written: the data whole and our fingerprint.
  void read_back() {
    auto got = counted([&] { return client_.get_secret(target_.ns, target_.secret_name); });
    std::string why;
    if (!got) why = "it is gone";
    else if (data_of(*got) != data_of(desired_)) why = "its data differs";
    else if (string_at(member(member(*got, "metadata"), "annotations"), kFingerprintAnnotation) !=
             bundle_.fingerprint_sha256)
      why = std::string("its ") + kFingerprintAnnotation + " annotation differs";
    if (!why.empty()) fail("read-back of " + where_ + " does not match what was written (" + why + ")");
  }

  Client& client_;
  const ca::PushTarget& target_;
  const ca::Bundle& bundle_;
  const ca::PushOptions& options_;
  ca::PushOutcome& out_;
  const std::string where_, prefix_;
  const Json desired_;
};

std::string insecure_warning(const Client& client) {
  return "TLS verification of " + client.access().server.to_string() +
         " is off (insecure-skip-tls-verify): the API server is not authenticated";
}

}  // namespace

// ---- KubeGateway --------------------------------------------------------------------------------

KubeGateway::KubeGateway(GatewayOptions options) : options_(std::move(options)) {
  if (!options_.client.exec_cache) options_.client.exec_cache = std::make_shared<ExecCredentialCache>();
}

ClientOptions KubeGateway::client_options(const ca::PushTarget& target) const {
  ClientOptions o = options_.client;
  o.cluster_name = target.cluster;
  return o;
}

ca::PushOutcome KubeGateway::push(const ca::PushTarget& target, const ca::Bundle& bundle,
                                  const ca::PushOptions& options) {
  const auto start = Steady::now();
  ca::PushOutcome out;
  const std::string prefix = "cluster " + target.cluster + ": ";
  try {
    ClusterAccess access = parse_stored_kubeconfig(target.access.kubeconfig, target.access.context);
    Client client(std::move(access), client_options(target));
    client.set_deadline(start + options.deadline);
    if (client.insecure()) out.warnings.push_back(insecure_warning(client));
    PushRun run(client, target, bundle, options, out);
    run.run();
    if (options.check_roots) run.check_roots();
  } catch (const ConfigError& e) {
    // From parsing (the client's own ConfigErrors already name the cluster and request).
    std::string m = e.what();
    out.result = PushResult::Failed;
    out.error = m.starts_with(prefix) ? m : prefix + m;
  } catch (const Error& e) {
    out.result = PushResult::Failed;
    out.error = e.what();
  } catch (const std::exception& e) {
    out.result = PushResult::Failed;
    out.error = prefix + "unexpected error: " + e.what();
  }
  if (out.result == PushResult::Failed) out.changes.clear();
  return out;
}

std::vector<ca::AccessCheck> KubeGateway::check(const ca::PushTarget& target, std::chrono::milliseconds deadline) {
  const auto start = Steady::now();
  const std::string ns = target.ns;
  std::vector<ca::AccessCheck> rows;
  const std::vector<std::string> verbs{"get", "create", "update"};
  // Fails every row not yet made, for a reason that makes them impossible to check.
  auto rest_not_checked = [&](const std::string& why) {
    std::vector<std::string> names{"reach", "authentication", "namespace " + ns};
    for (const auto& v : verbs) names.push_back(v + " secrets");
    for (size_t i = rows.size(); i < names.size(); ++i) rows.push_back({names[i], false, "not checked: " + why});
    return rows;
  };

  std::optional<Client> client;
  try {
    client.emplace(parse_stored_kubeconfig(target.access.kubeconfig, target.access.context), client_options(target));
    client->set_deadline(start + deadline);
  } catch (const std::exception& e) {
    rows.push_back({"reach", false, "the stored kubeconfig cannot be used: " + std::string(e.what())});
    return rest_not_checked("the kubeconfig cannot be used");
  }

  // reach: /version needs no credential on a real cluster.
  try {
    auto v = client->version();
    std::string detail = string_at(v, "gitVersion");
    if (detail.empty()) detail = "the API server answered /version";
    if (client->insecure()) detail += "; " + insecure_warning(*client);
    rows.push_back({"reach", true, detail});
  } catch (const ApiError& e) {
    rows.push_back({"reach", false, e.what()});  // it answers HTTP: the rest can still be asked
  } catch (const Error& e) {
    rows.push_back({"reach", false, e.what()});
    return rest_not_checked("the API server cannot be reached");
  }

  // authentication, and the namespace's existence, from one GET of the namespace.
  const std::string auth = describe_auth(client->access().auth);
  std::optional<bool> ns_exists;
  bool ns_forbidden = false;
  try {
    ns_exists = client->get_namespace(ns).has_value();
    rows.push_back({"authentication", true, "the API server accepted the credential (" + auth + ")"});
  } catch (const ApiError& e) {
    if (e.unauthorized()) {
      rows.push_back({"authentication", false, "the API server refused the credential (401 Unauthorized)"});
      return rest_not_checked("the credential was refused");
    }
    if (e.forbidden()) {  // authenticated, only not allowed to read namespaces
      rows.push_back({"authentication", true,
                      "the API server accepted the credential (" + auth + "); it may not read namespace " + ns});
      ns_forbidden = true;
    } else {
      rows.push_back({"authentication", false, e.what()});
    }
  } catch (const Error& e) {
    rows.push_back({"authentication", false, e.what()});
  }

  const std::string ns_row = "namespace " + ns;
  if (!ns_exists) {
    // Namespace-scoped credentials (a Role in the namespace) cannot read the Namespace object,
    // yet push fine into an existing namespace: not a failure.
    if (ns_forbidden)
      rows.push_back({ns_row, true, "cannot tell whether it exists (the credential may not read namespaces); a push "
                                    "works if it does"});
    else
      rows.push_back({ns_row, false, "not checked: the namespace could not be read"});
  } else if (*ns_exists) {
    rows.push_back({ns_row, true, "exists"});
  } else {
    try {
      auto r = client->can_i("create", "namespaces", "");
      if (r.allowed)
        rows.push_back({ns_row, true, "does not exist; the credential may create it, and a push will"});
      else
        rows.push_back({ns_row, false,
                        "does not exist, and the credential may not create it" +
                            (r.reason.empty() ? std::string() : " (" + r.reason + ")")});
    } catch (const Error& e) {
      rows.push_back({ns_row, false, "does not exist; whether the credential may create it is unknown: " +
                                         std::string(e.what())});
    }
  }

  for (const auto& verb : verbs) {
    const std::string what = verb + " secrets";
    try {
      auto r = client->can_i(verb, "secrets", ns);
      std::string detail = (r.allowed ? "allowed in namespace " : "denied in namespace ") + ns;
      if (!r.allowed && !r.reason.empty()) detail += " (" + r.reason + ")";
      rows.push_back({what, r.allowed, detail});
    } catch (const Error& e) {
      rows.push_back({what, false, e.what()});
    }
  }
  return rows;
}

}  // namespace meshtrust::kube
