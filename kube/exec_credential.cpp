#include "kube/exec_credential.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "kube/subprocess.h"
#include "pki/encoding.h"

extern char** environ;

namespace meshtrust::kube {

namespace {

// A credential is treated as expired this long before its expirationTimestamp.
constexpr auto kExpirySkew = std::chrono::seconds(10);
constexpr size_t kMaxPluginOutput = 1024 * 1024;

nlohmann::json cluster_info(const ExecPlugin& plugin, const ClusterAccess& a) {
  nlohmann::json c = {{"server", a.server.to_string()}};
  if (!a.tls_server_name.empty()) c["tls-server-name"] = a.tls_server_name;
  if (a.insecure_skip_tls_verify) c["insecure-skip-tls-verify"] = true;
  if (!a.ca_pem.empty()) c["certificate-authority-data"] = pki::base64_encode(pki::as_bytes(a.ca_pem));
  if (!plugin.cluster_config.is_null()) c["config"] = plugin.cluster_config;
  return c;
}

std::string plugin_name(const ExecPlugin& p) {
  auto slash = p.command.rfind('/');
  return slash == std::string::npos ? p.command : p.command.substr(slash + 1);
}

// Stderr as one line for an error message: control characters flattened, trimmed, bounded.
std::string one_line(const std::string& text) {
  std::string s;
  for (char c : text) s.push_back(static_cast<unsigned char>(c) < ' ' ? ' ' : c);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  if (s.size() > 1000) s = "..." + s.substr(s.size() - 1000);
  return s;
}

// A kind or apiVersion the plugin printed, bounded: a confused plugin could put anything there.
std::string clean_name(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 80)) out.push_back(static_cast<unsigned char>(c) < ' ' ? ' ' : c);
  return out;
}

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

std::vector<std::string> plugin_environment(const ExecPlugin& p, const ClusterAccess& a) {
  std::vector<std::string> env;
  auto overridden = [&](std::string_view entry) {
    auto name = entry.substr(0, entry.find('='));
    if (name.starts_with("MESHTRUST_")) return true;  // meshtrust's own secrets stay with it
    if (name == "KUBERNETES_EXEC_INFO") return true;
    for (const auto& [k, v] : p.env)
      if (k == name) return true;
    return false;
  };
  for (char** e = environ; e && *e; ++e)
    if (!overridden(*e)) env.emplace_back(*e);
  for (const auto& [k, v] : p.env) env.push_back(k + "=" + v);
  env.push_back("KUBERNETES_EXEC_INFO=" + exec_info(p, a));
  return env;
}

}  // namespace

std::string exec_info(const ExecPlugin& p, const ClusterAccess& a) {
  nlohmann::json spec = {{"interactive", false}};
  if (p.provide_cluster_info) spec["cluster"] = cluster_info(p, a);
  return nlohmann::json{{"kind", "ExecCredential"}, {"apiVersion", p.api_version}, {"spec", spec}}.dump();
}

std::optional<WallClock::time_point> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int Y, M, D, h, m, sec;
  if (!digits(0, 4, Y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, M) || s[7] != '-' || !digits(8, 2, D) ||
      (s[10] != 'T' && s[10] != 't') || !digits(11, 2, h) || s[13] != ':' || !digits(14, 2, m) || s[16] != ':' ||
      !digits(17, 2, sec))
    return std::nullopt;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  int offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(pos + 4, 2, om))
      return std::nullopt;
    offset = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  time_t t = ::timegm(&tm);
  return WallClock::from_time_t(t - offset);
}

ExecCredential parse_exec_credential(std::string_view text, const ExecPlugin& plugin) {
  const std::string who = "exec plugin '" + plugin_name(plugin) + "'";
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw CredentialError(who + " did not print an ExecCredential JSON object");
  if (!j.contains("kind") || j["kind"] != "ExecCredential") {
    std::string kind = j.contains("kind") && j["kind"].is_string() ? j["kind"].get<std::string>() : "";
    throw CredentialError(who + " printed kind '" + clean_name(kind) + "', expected ExecCredential");
  }
  if (!j.contains("apiVersion") || !j["apiVersion"].is_string())
    throw CredentialError(who + " printed an ExecCredential without apiVersion");
  std::string version = j["apiVersion"];
  if (version != plugin.api_version)
    throw CredentialError(who + " answered with apiVersion '" + clean_name(version) + "', but the kubeconfig asks for '" +
                          plugin.api_version + "'");
  if (!j.contains("status") || !j["status"].is_object())
    throw CredentialError(who + " printed an ExecCredential without a status");
  const auto& st = j["status"];
  auto str = [&](const char* k) -> std::string {
    if (!st.contains(k) || st[k].is_null()) return "";
    if (!st[k].is_string()) throw CredentialError(who + " printed an ExecCredential whose status." + k + " is not a string");
    return st[k];
  };
  ExecCredential c;
  c.token = str("token");
  std::string cert = str("clientCertificateData"), key = str("clientKeyData");
  if (cert.empty() != key.empty())
    throw CredentialError(who + " answered with " + (cert.empty() ? "a client key but no certificate" : "a client certificate but no key"));
  if (!cert.empty()) c.cert = ClientCertificate{cert, key};
  if (c.token.empty() && !c.cert) throw CredentialError(who + " answered with neither a token nor a client certificate");
  std::string expiry = str("expirationTimestamp");
  if (!expiry.empty()) {
    c.expiry = parse_rfc3339(expiry);
    if (!c.expiry) throw CredentialError(who + " answered with an expirationTimestamp that is not an RFC 3339 time");
  }
  return c;
}

ExecCredential run_exec_plugin(const ExecPlugin& plugin, const ClusterAccess& access, std::chrono::milliseconds timeout) {
  const std::string who = "exec plugin '" + plugin_name(plugin) + "'";
  std::vector<std::string> argv{plugin.command};
  argv.insert(argv.end(), plugin.args.begin(), plugin.args.end());
  ProcessResult r = run_process(argv, plugin_environment(plugin, access), timeout, kMaxPluginOutput);
  // Every message below may carry stderr, never stdout: stdout is where the credential is.
  if (!r.started) {
    std::string m = who + " could not be started: " + r.start_error;
    if (!plugin.install_hint.empty()) m += " (" + one_line(plugin.install_hint) + ")";
    throw CredentialError(m);
  }
  std::string err = one_line(r.err);
  if (r.timed_out)
    throw CredentialError(who + " did not finish within " + seconds_text(timeout) + " and was stopped" +
                          (err.empty() ? "" : ": " + err));
  if (r.output_too_large) throw CredentialError(who + " printed more than 1 MiB");
  if (r.exit_status != 0)
    throw CredentialError(who + " failed with exit status " + std::to_string(r.exit_status) + (err.empty() ? "" : ": " + err));
  return parse_exec_credential(r.out, plugin);
}

std::string ExecCredentialCache::key_for(const ExecPlugin& p, const ClusterAccess& a) {
  nlohmann::json k = {{"command", p.command}, {"args", p.args}, {"env", p.env}, {"apiVersion", p.api_version}};
  if (p.provide_cluster_info) k["cluster"] = cluster_info(p, a);
  return k.dump();
}

std::shared_ptr<ExecCredentialCache::Slot> ExecCredentialCache::slot_for(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto& slot = slots_[key];
  if (!slot) slot = std::make_shared<Slot>();
  return slot;
}

std::shared_ptr<const ExecCredential> ExecCredentialCache::valid(Slot& slot, WallClock::time_point now) {
  std::lock_guard lock(slot.mutex);
  if (!slot.value) return nullptr;
  if (slot.value->expiry && now + kExpirySkew >= *slot.value->expiry) return nullptr;
  return slot.value;
}

void ExecCredentialCache::invalidate(const std::string& key, const ExecCredential* rejected) {
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard lock(mutex_);
    auto it = slots_.find(key);
    if (it == slots_.end()) return;
    slot = it->second;
  }
  std::lock_guard lock(slot->mutex);
  if (slot->value.get() == rejected) slot->value.reset();
}

}  // namespace meshtrust::kube
