// A kubeconfig reduced to the one context meshtrust uses for a cluster (kube-api.md,
// "Kubeconfig"): where the API server is, how to trust it, and how to authenticate. Parsing
// resolves files (relative to the kubeconfig's directory) and checks everything it can, so
// `cluster add` refuses a bad kubeconfig with one sentence instead of failing at the first push.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/errors.h"

namespace meshtrust::kube {

// Kubeconfigs larger than this are refused (real ones are a few KiB; this bounds the parser).
inline constexpr size_t kMaxKubeconfigBytes = 1024 * 1024;

// The API server's base URL. API paths are appended to path_prefix, which is how servers behind
// a proxy (Rancher: https://host/k8s/clusters/c-xyz) are reached.
struct ServerUrl {
  std::string scheme = "https";  // "https"; "http" only for a loopback host (kubectl proxy)
  std::string host;              // DNS name or IP literal; IPv6 without brackets
  int port = 443;
  std::string path_prefix;       // "" or "/k8s/clusters/c-xyz": no trailing slash

  std::string authority() const;  // host[:port] as it goes into a Host header ("[::1]:6443")
  std::string to_string() const;  // scheme://authority/prefix
  bool operator==(const ServerUrl&) const = default;
};

// Parses a kubeconfig `server:` value. https is required, except for loopback hosts
// (127.0.0.0/8, ::1, localhost), where http is allowed: traffic that never leaves the machine,
// such as `kubectl proxy`, cannot be read on the network.
ServerUrl parse_server_url(std::string_view url);

// Authentication, one method per user.
struct NoAuth {  // anonymous: only useful behind an authenticating proxy such as `kubectl proxy`
  bool operator==(const NoAuth&) const = default;
};
struct BearerToken {
  std::string token;  // secret
  bool operator==(const BearerToken&) const = default;
};
struct TokenFile {  // re-read whenever the file changes (projected service-account tokens rotate)
  std::filesystem::path path;  // absolute
  bool operator==(const TokenFile&) const = default;
};
struct ClientCertificate {
  std::string cert_pem;  // the certificate, then any intermediates
  std::string key_pem;   // secret
  bool operator==(const ClientCertificate&) const = default;
};
inline constexpr const char* kExecV1 = "client.authentication.k8s.io/v1";
inline constexpr const char* kExecV1Beta1 = "client.authentication.k8s.io/v1beta1";
struct ExecPlugin {
  std::string command;  // made absolute if it names a path; else looked up in PATH
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to meshtrust's environment
  std::string api_version;                             // kExecV1 or kExecV1Beta1
  bool provide_cluster_info = false;
  std::string interactive_mode = "IfAvailable";  // "Never" or "IfAvailable"; meshtrust never is
  std::string install_hint;
  nlohmann::json cluster_config;  // the cluster's "client.authentication.k8s.io/exec" extension, or null
  bool operator==(const ExecPlugin&) const = default;
};
using Auth = std::variant<NoAuth, BearerToken, TokenFile, ClientCertificate, ExecPlugin>;

// Everything a Client needs to reach one cluster.
struct ClusterAccess {
  std::string context;    // the names, as the kubeconfig spells them
  std::string cluster;
  std::string user;
  std::string namespace_;  // the context's namespace, "" if none (meshtrust uses its own setting)

  ServerUrl server;
  std::string ca_pem;                    // "" means: the system trust store
  bool insecure_skip_tls_verify = false;  // allowed, but callers must warn about it
  std::string tls_server_name;           // verify the server certificate against this name instead
  Auth auth;

  bool operator==(const ClusterAccess&) const = default;
};

// Parses kubeconfig text. `base_dir` is the kubeconfig file's directory (relative paths in it are
// relative to that); `context` picks a context, "" means the current-context. Throws ConfigError
// naming the problem: never with a token, key or password in it.
ClusterAccess parse_kubeconfig(std::string_view text, const std::filesystem::path& base_dir,
                               const std::string& context = "");

// A kubeconfig meshtrust stored itself (to_kubeconfig of one it parsed and checked): parsed
// without checking the certificates and key again, which each push would otherwise pay for.
ClusterAccess parse_stored_kubeconfig(std::string_view text, const std::string& context);

// For a kubeconfig that arrives over the network (REST): like parse_kubeconfig, but it must be
// self-contained. File references (certificate-authority, client-certificate, client-key,
// tokenFile) and exec plugins of the context it selects (the only one stored) are refused, since
// honouring them would read the server's files or run commands on the server for the caller.
ClusterAccess parse_self_contained_kubeconfig(std::string_view text, const std::string& context = "");

// Reads `file` (at most kMaxKubeconfigBytes) and parses it relative to its own directory.
ClusterAccess load_kubeconfig(const std::filesystem::path& file, const std::string& context = "");

// A self-contained kubeconfig holding just this access: one context, cluster and user, with the
// CA and client certificate inlined as -data fields (like `kubectl config view --minify
// --flatten`). tokenFile and exec stay references, since they change on their own. This is what
// to store: parse_kubeconfig(to_kubeconfig(a), any_dir) == a.
std::string to_kubeconfig(const ClusterAccess& access);

// Short name of the auth method, for `cluster show` and logs: "token", "tokenFile",
// "client-certificate", "exec (aws)", "none".
std::string describe_auth(const Auth& auth);

// Reads a small file referenced by a kubeconfig, or throws ConfigError naming `what` and the path.
std::string read_referenced_file(const std::filesystem::path& path, const std::string& what);

}  // namespace meshtrust::kube
