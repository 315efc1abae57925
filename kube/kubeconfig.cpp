#include "kube/kubeconfig.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "kube/yaml_json.h"
#include "pki/certificate.h"
#include "pki/error.h"
#include "pki/encoding.h"
#include "pki/key.h"

namespace meshtrust::kube {

namespace fs = std::filesystem;

// ---- server URL ------------------------------------------------------------------------------

namespace {

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
  return false;
}

bool valid_host_name(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '-' || c == '_'; });
}

}  // namespace

std::string ServerUrl::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  return default_port ? h : h + ":" + std::to_string(port);
}

std::string ServerUrl::to_string() const { return scheme + "://" + authority() + path_prefix; }

ServerUrl parse_server_url(std::string_view text) {
  // Messages quote the URL only once it is known to hold no user:password@.
  std::string url(text);
  for (unsigned char c : url)
    if (c <= ' ' || c == 0x7f) throw ConfigError("server URL contains spaces or control characters");
  ServerUrl out;
  size_t sep = url.find("://");
  if (sep == std::string::npos) throw ConfigError("server URL has no scheme; expected https://host[:port][/path]");
  std::string scheme = url.substr(0, sep);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string rest = url.substr(sep + 3);
  size_t auth_end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, auth_end);
  std::string path = auth_end == std::string::npos ? "" : rest.substr(auth_end);
  if (authority.find('@') != std::string::npos)
    throw ConfigError("server URL must not carry user credentials (user:password@host)");
  if (path.find_first_of("?#") != std::string::npos)
    throw ConfigError("server URL '" + url + "' must not have a query or fragment");

  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) throw ConfigError("server URL '" + url + "' has an unterminated IPv6 address");
    out.host = authority.substr(1, close - 1);
    in6_addr a6{};
    if (inet_pton(AF_INET6, out.host.c_str(), &a6) != 1)
      throw ConfigError("server URL '" + url + "' has an invalid IPv6 address");
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw ConfigError("server URL '" + url + "' is malformed after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
    if (!valid_host_name(out.host)) throw ConfigError("server URL '" + url + "' has no valid host");
  }

  if (scheme == "https") {
    out.port = 443;
  } else if (scheme == "http") {
    if (!is_loopback(out.host))
      throw ConfigError("server URL '" + url +
                        "' uses http; only https is allowed, except for 127.0.0.1, ::1 and localhost");
    out.port = 80;
  } else {
    throw ConfigError("server URL '" + url + "' must use https");
  }
  out.scheme = scheme;
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), ::isdigit) ||
        std::stoi(port_text) < 1 || std::stoi(port_text) > 65535)
      throw ConfigError("server URL '" + url + "' has an invalid port");
    out.port = std::stoi(port_text);
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  out.path_prefix = path;
  return out;
}

// ---- kubeconfig ------------------------------------------------------------------------------

std::string read_referenced_file(const fs::path& path, const std::string& what) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw ConfigError(what + " file '" + path.string() + "' does not exist");
  if (!fs::is_regular_file(st)) throw ConfigError(what + " '" + path.string() + "' is not a regular file");
  auto size = fs::file_size(path, ec);
  if (ec) throw ConfigError(what + " file '" + path.string() + "' cannot be read");
  if (size > kMaxKubeconfigBytes) throw ConfigError(what + " file '" + path.string() + "' is larger than 1 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(what + " file '" + path.string() + "' cannot be read");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw ConfigError(what + " file '" + path.string() + "' cannot be read");
  return ss.str();
}

namespace {

const char* kExecExtension = "client.authentication.k8s.io/exec";

// A scalar field as a string ("" if absent). Messages name the field, never its value.
std::string scalar(const YAML::Node& parent, const char* key, const std::string& where) {
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) return "";
  if (!n.IsScalar()) throw ConfigError(where + ": " + key + " must be a string");
  return n.Scalar();
}

bool boolean(const YAML::Node& parent, const char* key, const std::string& where) {
  YAML::Node n = parent[key];
  if (!n || n.IsNull()) return false;
  if (n.IsScalar()) {
    std::string v = n.Scalar();
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    if (v == "true") return true;
    if (v == "false") return false;
  }
  throw ConfigError(where + ": " + key + " must be true or false");
}

// The entries of a top-level list (clusters, contexts, users) by name; a name defined twice is
// refused, as kubectl does, since which one wins would be a guess.
std::map<std::string, YAML::Node> named_entries(const YAML::Node& root, const char* list, const char* item) {
  std::map<std::string, YAML::Node> out;
  YAML::Node seq = root[list];
  if (!seq || seq.IsNull()) return out;
  if (!seq.IsSequence()) throw ConfigError(std::string("kubeconfig: ") + list + " must be a list");
  for (const auto& entry : seq) {
    if (!entry.IsMap()) throw ConfigError(std::string("kubeconfig: every entry of ") + list + " must be a mapping");
    std::string name = scalar(entry, "name", std::string("kubeconfig ") + list);
    if (name.empty()) throw ConfigError(std::string("kubeconfig has a ") + item + " without a name");
    YAML::Node body = entry[item];
    if (body && !body.IsNull() && !body.IsMap())
      throw ConfigError(std::string(item) + " '" + name + "' must be a mapping");
    if (!out.emplace(name, body ? body : YAML::Node(YAML::NodeType::Map)).second)
      throw ConfigError(std::string("kubeconfig defines ") + item + " '" + name + "' twice");
  }
  return out;
}

fs::path resolve(const fs::path& base_dir, const std::string& p) {
  fs::path path(p);
  if (path.is_relative()) path = fs::absolute(base_dir) / path;
  return path.lexically_normal();
}

std::string decode_data(const std::string& b64, const std::string& where, const char* key) {
  try {
    auto bytes = pki::base64_decode(b64);
    return std::string(pki::as_chars(bytes));
  } catch (const pki::Error&) {
    throw ConfigError(where + ": " + key + " is not valid base64");
  }
}

void check_certificates(const std::string& pem, const std::string& where, const char* what) {
  try {
    if (pki::Certificate::all_from_pem(pem).empty()) throw pki::Error("none");
  } catch (const pki::Error&) {
    throw ConfigError(where + ": " + what + " holds no PEM certificate");
  }
}

// How a kubeconfig is read, by where it comes from.
struct Reading {
  // Parse the CA and client certificate and key to check them: off for a kubeconfig meshtrust
  // stored itself after checking it (the transport parses them anyway).
  bool verify_material = true;
  // Honour file references and exec plugins: off for one sent over the network, where they would
  // make the server read its own files or run a command on behalf of whoever sent it.
  bool allow_references = true;
};

void refuse_reference(const Reading& how, const std::string& where, const char* key) {
  if (!how.allow_references)
    throw ConfigError(where + " refers to a file (" + key + "); a kubeconfig sent to the server must be self-contained "
                      "(use the -data fields or a token)");
}

// A PEM value given inline (-data, base64) or as a file; "" if neither.
std::string pem_field(const YAML::Node& node, const char* data_key, const char* file_key, const fs::path& base_dir,
                      const std::string& where, const Reading& how) {
  std::string data = scalar(node, data_key, where);
  if (!data.empty()) return decode_data(data, where, data_key);
  std::string file = scalar(node, file_key, where);
  if (file.empty()) return "";
  refuse_reference(how, where, file_key);
  return read_referenced_file(resolve(base_dir, file), where + ": " + file_key);
}

void parse_cluster(const std::string& name, const YAML::Node& c, const fs::path& base_dir, ClusterAccess& out,
                   const Reading& how) {
  const std::string where = "cluster '" + name + "'";
  std::string server = scalar(c, "server", where);
  if (server.empty()) throw ConfigError(where + " has no server");
  try {
    out.server = parse_server_url(server);
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what());
  }
  if (!scalar(c, "proxy-url", where).empty())
    throw ConfigError(where + " uses proxy-url, which meshtrust does not support yet");
  out.insecure_skip_tls_verify = boolean(c, "insecure-skip-tls-verify", where);
  out.tls_server_name = scalar(c, "tls-server-name", where);
  out.ca_pem = pem_field(c, "certificate-authority-data", "certificate-authority", base_dir, where, how);
  if (!out.ca_pem.empty() && how.verify_material) check_certificates(out.ca_pem, where, "the certificate authority");
  if (out.insecure_skip_tls_verify && !out.ca_pem.empty())
    throw ConfigError(where + " sets both insecure-skip-tls-verify and a certificate authority; choose one");
  if (out.server.scheme == "http" && (!out.ca_pem.empty() || !out.tls_server_name.empty()))
    throw ConfigError(where + " sets TLS options for an http server");
}

nlohmann::json exec_extension(const YAML::Node& c) {
  YAML::Node ext = c["extensions"];
  if (!ext || !ext.IsSequence()) return nullptr;
  for (const auto& e : ext)
    if (e.IsMap() && e["name"] && e["name"].IsScalar() && e["name"].Scalar() == kExecExtension)
      return yaml_to_json(e["extension"]);
  return nullptr;
}

const char* plugin_for(const std::string& provider) {
  if (provider == "gcp") return "use the exec plugin (gke-gcloud-auth-plugin)";
  if (provider == "azure") return "use the exec plugin (kubelogin)";
  if (provider == "oidc") return "use an exec plugin (kubelogin or kubectl oidc-login)";
  return "use an exec plugin or a token";
}

ExecPlugin parse_exec(const YAML::Node& e, const fs::path& base_dir, const std::string& where) {
  if (!e.IsMap()) throw ConfigError(where + ": exec must be a mapping");
  ExecPlugin x;
  x.command = scalar(e, "command", where + ": exec");
  if (x.command.empty()) throw ConfigError(where + ": exec has no command");
  // As client-go does: a command naming a path is relative to the kubeconfig; a bare name is
  // looked up in PATH when it runs.
  if (x.command.find('/') != std::string::npos) {
    fs::path p = resolve(base_dir, x.command);
    std::error_code ec;
    if (!fs::exists(p, ec)) throw ConfigError(where + ": exec command '" + p.string() + "' does not exist");
    x.command = p.string();
  }
  x.api_version = scalar(e, "apiVersion", where + ": exec");
  if (x.api_version.empty())
    throw ConfigError(where + ": exec has no apiVersion (use " + kExecV1 + " or " + kExecV1Beta1 + ")");
  if (x.api_version != kExecV1 && x.api_version != kExecV1Beta1)
    throw ConfigError(where + ": exec apiVersion '" + x.api_version + "' is not supported (use " + kExecV1 + " or " +
                      kExecV1Beta1 + ")");
  if (YAML::Node args = e["args"]; args && !args.IsNull()) {
    if (!args.IsSequence()) throw ConfigError(where + ": exec args must be a list of strings");
    for (const auto& a : args) {
      if (!a.IsScalar()) throw ConfigError(where + ": exec args must be a list of strings");
      x.args.push_back(a.Scalar());
    }
  }
  if (YAML::Node env = e["env"]; env && !env.IsNull()) {
    if (!env.IsSequence()) throw ConfigError(where + ": exec env must be a list of {name, value}");
    for (const auto& v : env) {
      if (!v.IsMap()) throw ConfigError(where + ": exec env must be a list of {name, value}");
      std::string n = scalar(v, "name", where + ": exec env");
      if (n.empty() || n.find('=') != std::string::npos)
        throw ConfigError(where + ": exec env has an entry without a valid name");
      x.env.emplace_back(n, scalar(v, "value", where + ": exec env"));
    }
  }
  x.provide_cluster_info = boolean(e, "provideClusterInfo", where + ": exec");
  std::string mode = scalar(e, "interactiveMode", where + ": exec");
  if (mode.empty()) mode = "IfAvailable";
  if (mode == "Always")
    throw ConfigError(where + ": exec interactiveMode is Always, which needs a terminal; meshtrust runs plugins "
                              "without one");
  if (mode != "Never" && mode != "IfAvailable")
    throw ConfigError(where + ": exec interactiveMode '" + mode + "' is not one of Never, IfAvailable, Always");
  x.interactive_mode = mode;
  x.install_hint = scalar(e, "installHint", where + ": exec");
  return x;
}

Auth parse_user(const std::string& name, const YAML::Node& u, const fs::path& base_dir, const Reading& how) {
  const std::string where = "user '" + name + "'";
  if (YAML::Node ap = u["auth-provider"]; ap && !ap.IsNull()) {
    std::string provider = ap.IsMap() ? scalar(ap, "name", where) : "";
    throw ConfigError(where + ": auth-provider '" + provider + "' is not supported; " + plugin_for(provider));
  }
  if (!scalar(u, "username", where).empty() || !scalar(u, "password", where).empty())
    throw ConfigError(where + " uses username/password (basic) authentication, which is not supported; use a "
                              "token, a client certificate or an exec plugin");
  for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"})
    if (YAML::Node n = u[key]; n && !n.IsNull())
      throw ConfigError(where + " sets impersonation (" + key + "), which meshtrust does not support");

  std::vector<std::string> methods;
  std::string token = scalar(u, "token", where);
  std::string token_file = scalar(u, "tokenFile", where);
  if (!token.empty() || !token_file.empty()) methods.push_back(token_file.empty() ? "token" : "tokenFile");
  bool has_cert = !scalar(u, "client-certificate-data", where).empty() || !scalar(u, "client-certificate", where).empty();
  bool has_key = !scalar(u, "client-key-data", where).empty() || !scalar(u, "client-key", where).empty();
  if (has_cert || has_key) methods.push_back("client-certificate");
  YAML::Node exec = u["exec"];
  if (exec && !exec.IsNull()) methods.push_back("exec");
  if (methods.size() > 1)
    throw ConfigError(where + " sets both " + methods[0] + " and " + methods[1] +
                      "; meshtrust supports one authentication method per user");
  if (methods.empty()) return NoAuth{};

  if (methods[0] == "exec") {
    if (!how.allow_references)
      throw ConfigError(where + " uses an exec credential plugin, which the server does not run for a remote caller; "
                        "register this cluster from a local data dir, or use a token or client certificate");
    return parse_exec(exec, base_dir, where);
  }
  if (methods[0] == "client-certificate") {
    if (!has_key) throw ConfigError(where + " has a client certificate but no client key");
    if (!has_cert) throw ConfigError(where + " has a client key but no client certificate");
    ClientCertificate cc;
    cc.cert_pem = pem_field(u, "client-certificate-data", "client-certificate", base_dir, where, how);
    cc.key_pem = pem_field(u, "client-key-data", "client-key", base_dir, where, how);
    if (!how.verify_material) return cc;
    check_certificates(cc.cert_pem, where, "the client certificate");
    try {
      auto key = pki::PrivateKey::from_pem(cc.key_pem);
      if (!key.matches(pki::Certificate::from_pem(cc.cert_pem).public_key()))
        throw ConfigError(where + ": the client key does not match the client certificate");
    } catch (const pki::Error& e) {
      // pki's messages name PEM labels and formats, never key material.
      throw ConfigError(where + ": the client key is not usable: " + e.what());
    }
    return cc;
  }
  if (!token_file.empty()) {
    // client-go: when both are set, the file wins (it is re-read as it rotates).
    refuse_reference(how, where, "tokenFile");
    fs::path p = resolve(base_dir, token_file);
    std::error_code ec;
    if (!fs::exists(p, ec)) throw ConfigError(where + ": tokenFile '" + p.string() + "' does not exist");
    if (!fs::is_regular_file(p, ec)) throw ConfigError(where + ": tokenFile '" + p.string() + "' is not a regular file");
    return TokenFile{p};
  }
  return BearerToken{token};
}

std::string join_names(const std::map<std::string, YAML::Node>& m) {
  std::string out;
  for (const auto& [k, v] : m) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "none" : out;
}

}  // namespace

namespace {

ClusterAccess parse(std::string_view text, const fs::path& base_dir, const std::string& context, const Reading& how) {
  if (text.size() > kMaxKubeconfigBytes) throw ConfigError("kubeconfig is larger than 1 MiB");
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    // yaml-cpp's parser messages are fixed phrases plus a position; they quote no input.
    throw ConfigError("kubeconfig is not valid YAML: line " + std::to_string(e.mark.line + 1) + ", column " +
                      std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  try {
    if (!root.IsMap()) throw ConfigError("kubeconfig is not a YAML mapping of clusters, contexts and users");
    std::string kind = scalar(root, "kind", "kubeconfig");
    if (!kind.empty() && kind != "Config") throw ConfigError("kubeconfig has kind '" + kind + "', expected Config");

    auto clusters = named_entries(root, "clusters", "cluster");
    auto contexts = named_entries(root, "contexts", "context");
    auto users = named_entries(root, "users", "user");

    ClusterAccess out;
    out.context = context.empty() ? scalar(root, "current-context", "kubeconfig") : context;
    if (out.context.empty()) throw ConfigError("kubeconfig has no current-context and no context was named");
    auto ctx = contexts.find(out.context);
    if (ctx == contexts.end())
      throw ConfigError("kubeconfig has no context named '" + out.context + "' (contexts: " + join_names(contexts) + ")");
    const std::string where = "context '" + out.context + "'";
    out.cluster = scalar(ctx->second, "cluster", where);
    out.user = scalar(ctx->second, "user", where);
    out.namespace_ = scalar(ctx->second, "namespace", where);
    if (out.cluster.empty()) throw ConfigError(where + " names no cluster");
    auto cl = clusters.find(out.cluster);
    if (cl == clusters.end())
      throw ConfigError(where + " refers to cluster '" + out.cluster + "', which the kubeconfig does not define");
    parse_cluster(out.cluster, cl->second, base_dir, out, how);

    out.auth = NoAuth{};
    if (!out.user.empty()) {
      auto us = users.find(out.user);
      if (us == users.end())
        throw ConfigError(where + " refers to user '" + out.user + "', which the kubeconfig does not define");
      out.auth = parse_user(out.user, us->second, base_dir, how);
      if (auto* x = std::get_if<ExecPlugin>(&out.auth)) x->cluster_config = exec_extension(cl->second);
    }
    if (out.server.scheme == "http" && std::holds_alternative<ClientCertificate>(out.auth))
      throw ConfigError("user '" + out.user + "' has a client certificate, which needs an https server");
    return out;
  } catch (const YAML::Exception& e) {
    throw ConfigError("kubeconfig has an unexpected structure: " + e.msg);
  }
}

}  // namespace

ClusterAccess parse_kubeconfig(std::string_view text, const fs::path& base_dir, const std::string& context) {
  return parse(text, base_dir, context, {});
}

ClusterAccess parse_stored_kubeconfig(std::string_view text, const std::string& context) {
  return parse(text, "/", context, {.verify_material = false});
}

ClusterAccess parse_self_contained_kubeconfig(std::string_view text, const std::string& context) {
  return parse(text, "/", context, {.allow_references = false});
}

ClusterAccess load_kubeconfig(const fs::path& file, const std::string& context) {
  std::string text = read_referenced_file(file, "kubeconfig");
  return parse_kubeconfig(text, fs::absolute(file).parent_path(), context);
}

// ---- serialisation ---------------------------------------------------------------------------

std::string to_kubeconfig(const ClusterAccess& a) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Config";
  out << YAML::Key << "current-context" << YAML::Value << YAML::DoubleQuoted << a.context;

  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << a.cluster;
  out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "server" << YAML::Value << YAML::DoubleQuoted << a.server.to_string();
  if (!a.ca_pem.empty())
    out << YAML::Key << "certificate-authority-data" << YAML::Value << pki::base64_encode(pki::as_bytes(a.ca_pem));
  if (a.insecure_skip_tls_verify) out << YAML::Key << "insecure-skip-tls-verify" << YAML::Value << true;
  if (!a.tls_server_name.empty())
    out << YAML::Key << "tls-server-name" << YAML::Value << YAML::DoubleQuoted << a.tls_server_name;
  if (const auto* x = std::get_if<ExecPlugin>(&a.auth); x && !x->cluster_config.is_null()) {
    out << YAML::Key << "extensions" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << kExecExtension;
    out << YAML::Key << "extension" << YAML::Value;
    emit_json(out, x->cluster_config);
    out << YAML::EndMap << YAML::EndSeq;
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;

  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << a.context;
  out << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cluster" << YAML::Value << YAML::DoubleQuoted << a.cluster;
  if (!a.user.empty()) out << YAML::Key << "user" << YAML::Value << YAML::DoubleQuoted << a.user;
  if (!a.namespace_.empty()) out << YAML::Key << "namespace" << YAML::Value << YAML::DoubleQuoted << a.namespace_;
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;

  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq;
  if (!a.user.empty()) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << a.user;
    out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
    std::visit(
        [&](const auto& m) {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, BearerToken>) {
            out << YAML::Key << "token" << YAML::Value << YAML::DoubleQuoted << m.token;
          } else if constexpr (std::is_same_v<T, TokenFile>) {
            out << YAML::Key << "tokenFile" << YAML::Value << YAML::DoubleQuoted << m.path.string();
          } else if constexpr (std::is_same_v<T, ClientCertificate>) {
            out << YAML::Key << "client-certificate-data" << YAML::Value
                << pki::base64_encode(pki::as_bytes(m.cert_pem));
            out << YAML::Key << "client-key-data" << YAML::Value << pki::base64_encode(pki::as_bytes(m.key_pem));
          } else if constexpr (std::is_same_v<T, ExecPlugin>) {
            out << YAML::Key << "exec" << YAML::Value << YAML::BeginMap;
            out << YAML::Key << "apiVersion" << YAML::Value << m.api_version;
            out << YAML::Key << "command" << YAML::Value << YAML::DoubleQuoted << m.command;
            out << YAML::Key << "args" << YAML::Value << YAML::BeginSeq;
            for (const auto& arg : m.args) out << YAML::DoubleQuoted << arg;
            out << YAML::EndSeq;
            out << YAML::Key << "env" << YAML::Value << YAML::BeginSeq;
            for (const auto& [k, v] : m.env)
              out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << k << YAML::Key
                  << "value" << YAML::Value << YAML::DoubleQuoted << v << YAML::EndMap;
            out << YAML::EndSeq;
            out << YAML::Key << "provideClusterInfo" << YAML::Value << m.provide_cluster_info;
            out << YAML::Key << "interactiveMode" << YAML::Value << m.interactive_mode;
            if (!m.install_hint.empty())
              out << YAML::Key << "installHint" << YAML::Value << YAML::DoubleQuoted << m.install_hint;
            out << YAML::EndMap;
          }
        },
        a.auth);
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string describe_auth(const Auth& auth) {
  return std::visit(
      [](const auto& m) -> std::string {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, NoAuth>) return "none";
        if constexpr (std::is_same_v<T, BearerToken>) return "token";
        if constexpr (std::is_same_v<T, TokenFile>) return "tokenFile";
        if constexpr (std::is_same_v<T, ClientCertificate>) return "client-certificate";
        if constexpr (std::is_same_v<T, ExecPlugin>) return "exec (" + fs::path(m.command).filename().string() + ")";
      },
      auth);
}

}  // namespace meshtrust::kube
