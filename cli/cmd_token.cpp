#include <iostream>

#include "ca/errors.h"
#include "cli/commands.h"
#include "cli/render.h"

namespace meshtrust::cli {

namespace {

struct TokenArgs {
  std::string role, name, cluster, id;
  long ttl_hours = 0;
};

int run_create(Context& ctx, const TokenArgs& a) {
  ca::Role role = ca::role_from(a.role);
  std::string name = a.name;
  if (role == ca::Role::Cluster) {
    if (a.cluster.empty()) throw ca::invalid("a cluster token needs --cluster NAME");
    if (!a.name.empty() && a.name != a.cluster) throw ca::invalid("a cluster token is named after its cluster; drop --name");
    name = a.cluster;
  } else if (!a.cluster.empty()) {
    throw ca::invalid("--cluster applies only to --role cluster");
  } else if (name.empty()) {
    throw ca::invalid("name the token's holder with --name (it becomes the audit actor, e.g. admin:alice)");
  }
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

}  // namespace

void add_token_commands(CLI::App& app, Action& action) {
  auto a = std::make_shared<TokenArgs>();
  auto* group = app.add_subcommand("token", "Bearer tokens for the REST API");
  group->require_subcommand(1);
  auto* create = group->add_subcommand("create", "Create a token (printed once)");
  create->add_option("--role", a->role, "admin, issuer, auditor or cluster")->required();
  create->add_option("--name", a->name, "Holder's name (the audit actor is ROLE:NAME)");
  create->add_option("--cluster", a->cluster, "For --role cluster: the cluster the token speaks for");
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
}

}  // namespace meshtrust::cli
