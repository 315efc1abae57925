#include <iostream>

#include "ca/errors.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/render.h"

namespace meshtrust::cli {

namespace {

struct TokenArgs {
  std::string role, name, cluster, id;
  long ttl_hours = 0;
  // client-cert create
  std::string csr, out;
  std::optional<int> days;
  bool force = false;
};

// The principal a new credential is for, from --role with --name, or --cluster for role cluster.
std::pair<ca::Role, std::string> principal_args(const TokenArgs& a, const std::string& credential) {
  ca::Role role = ca::role_from(a.role);
  if (role == ca::Role::Cluster) {
    if (a.cluster.empty()) throw ca::invalid("a cluster " + credential + " needs --cluster NAME");
    if (!a.name.empty() && a.name != a.cluster) throw ca::invalid("a cluster " + credential + " is named after its cluster; drop --name");
    return {role, a.cluster};
  }
  if (!a.cluster.empty()) throw ca::invalid("--cluster applies only to --role cluster");
  if (a.name.empty()) throw ca::invalid("name the " + credential + "'s holder with --name (it becomes the audit actor, e.g. admin:alice)");
  return {role, a.name};
}

int run_create(Context& ctx, const TokenArgs& a) {
  auto [role, name] = principal_args(a, "token");
  std::optional<std::chrono::seconds> ttl;
  if (a.ttl_hours > 0) ttl = std::chrono::hours(a.ttl_hours);
  auto t = ctx.backend().create_token(role, name, ttl);
  if (ctx.output() == OutputFormat::Json) {
    auto j = to_json(t.record);
    j["token"] = t.token;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << t.token << "\n";
    std::cerr << "created " << ca::to_string(role) << " token " << t.record.id << " for " << name
              << "; it is shown only this once\n";
  }
  return 0;
}

// Writes client-cert.pem (the certificate, then the root) and, when meshtrust made the key,
// client-key.pem (0600) into --out, all or nothing.
int run_client_cert_create(Context& ctx, const TokenArgs& a) {
  auto [role, name] = principal_args(a, "client certificate");
  std::optional<std::string> csr;
  if (!a.csr.empty()) csr = read_input_file(a.csr, "CSR", 16 * 1024);
  const std::filesystem::path dir(a.out);
  std::vector<std::filesystem::path> targets{dir / "client-cert.pem"};
  if (!csr) targets.push_back(dir / "client-key.pem");
  check_targets(targets, a.force);  // before issuing: a refusal leaves no certificate behind
  auto issued = ctx.backend().issue_client_certificate(role, name, csr, a.days);
  std::vector<PlannedFile> files{{dir / "client-cert.pem", issued.certificate_pem, false}};
  if (!issued.key_pem.empty()) files.push_back({dir / "client-key.pem", issued.key_pem, true});
  write_files(files, a.force);
  if (ctx.output() == OutputFormat::Json) {
    auto j = to_json(issued.record);
    j["files"] = nlohmann::json::array();
    for (const auto& f : files) j["files"].push_back(f.path.string());
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "issued client certificate " << issued.record.serial << " for " << *issued.record.principal << ", valid until "
              << date_utc(issued.record.not_after) << "\n";
    for (const auto& f : files) std::cout << "  " << f.path.string() << (f.secret ? " (0600)" : "") << "\n";
  }
  return 0;
}

// --role, --name and --cluster: whom a new credential authenticates (read by principal_args).
void add_principal_options(CLI::App& cmd, TokenArgs& a, const std::string& credential) {
  cmd.add_option("--role", a.role, "admin, issuer, auditor or cluster")->required();
  cmd.add_option("--name", a.name, "Holder's name (the audit actor is ROLE:NAME)");
  cmd.add_option("--cluster", a.cluster, "For --role cluster: the cluster the " + credential + " speaks for");
}

}  // namespace

void add_token_commands(CLI::App& app, Action& action) {
  auto a = std::make_shared<TokenArgs>();
  auto* group = app.add_subcommand("token", "Bearer tokens for the REST API");
  group->require_subcommand(1);
  auto* create = group->add_subcommand("create", "Create a token (printed once)");
  add_principal_options(*create, *a, "token");
  create->add_option("--ttl-hours", a->ttl_hours, "Expire after this many hours (default: never)")->check(CLI::PositiveNumber);
  create->callback([&action, a] { action = [a](Context& ctx) { return run_create(ctx, *a); }; });

  auto* list = group->add_subcommand("list", "List tokens (never their secrets)");
  list->callback([&action] {
    action = [](Context& ctx) {
      auto tokens = ctx.backend().tokens();
      if (ctx.output() == OutputFormat::Json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& t : tokens) arr.push_back(to_json(t));
        std::cout << arr.dump() << "\n";
        return 0;
      }
      Table table({"ID", "ROLE", "NAME", "CREATED", "EXPIRES", "STATE"});
      for (const auto& t : tokens)
        table.add({t.id, ca::to_string(t.role), t.name, date_utc(t.created_at_ms / 1000),
                   t.expires_at_ms ? date_utc(*t.expires_at_ms / 1000) : "never", t.revoked ? "revoked" : "active"});
      table.print(std::cout);
      return 0;
    };
  });

  auto* revoke = group->add_subcommand("revoke", "Revoke a token by id");
  revoke->add_option("id", a->id, "Token id (from token list)")->required();
  revoke->callback([&action, a] {
    action = [a](Context& ctx) {
      ctx.backend().revoke_token(a->id);
      if (ctx.output() == OutputFormat::Json)
        std::cout << nlohmann::json{{"revoked", a->id}}.dump() << "\n";
      else
        std::cout << "revoked token " << a->id << "\n";
      return 0;
    };
  });

  auto* certs = app.add_subcommand("client-cert", "Client certificates for the REST API (mutual TLS, instead of a token)");
  certs->require_subcommand(1);
  auto* cc = certs->add_subcommand("create", "Issue a client certificate for a principal; revoke it with 'meshtrust revoke SERIAL'");
  add_principal_options(*cc, *a, "certificate");
  cc->add_option("--csr", a->csr, "The holder's CSR (PEM): its key never leaves the holder (default: a new ECDSA P-256 key)");
  cc->add_option("--days", a->days, "Lifetime in days (default 30, at most 365)");
  cc->add_option("--out", a->out, "Directory for client-cert.pem (and client-key.pem, 0600)")->required();
  cc->add_flag("--force", a->force, "Overwrite existing files");
  cc->callback([&action, a] { action = [a](Context& ctx) { return run_client_cert_create(ctx, *a); }; });
}

}  // namespace meshtrust::cli
