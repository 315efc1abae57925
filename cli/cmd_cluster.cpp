#include <iostream>

#include "ca/errors.h"
#include "cli/commands.h"
#include "kube/kubeconfig.h"
#include "cli/render.h"

namespace meshtrust::cli {

namespace {

struct ClusterArgs {
  std::string name, ns = "istio-system", secret_name = "cacerts";
  std::string kubeconfig, context;
};

// Reads and checks the kubeconfig here, in the CLI: its file references are the user's files,
// resolved against the kubeconfig's own directory, and what is stored is self-contained.
ca::ClusterAccessSpec read_access(const std::string& file, const std::string& context) {
  kube::ClusterAccess access = kube::load_kubeconfig(file, context);
  if (access.insecure_skip_tls_verify)
    std::cerr << "warning: the kubeconfig turns off TLS verification (insecure-skip-tls-verify): the API server of '"
              << access.server.to_string() << "' will not be authenticated\n";
  return {kube::to_kubeconfig(access), access.context, access.server.to_string(), kube::describe_auth(access.auth),
          access.insecure_skip_tls_verify};
}

void print_cluster(Context& ctx, const ca::ClusterRecord& c, const std::vector<ca::PushRecord>& pushes) {
  if (ctx.output() == OutputFormat::Json) {
    nlohmann::json j = to_json(c);
    j["pushes"] = nlohmann::json::array();
    for (const auto& p : pushes) j["pushes"].push_back(to_json(p));
    std::cout << j.dump() << "\n";
    return;
  }
  std::cout << "name:          " << c.name << "\n"
            << "namespace:     " << c.ns << "\n"
            << "secret:        " << c.secret_name << "\n"
            << "intermediate:  " << c.current_serial.value_or("(none)") << "\n";
  if (c.access)
    std::cout << "api server:    " << c.access->server << " (context " << c.access->context << ", " << c.access->auth
              << (c.access->insecure ? ", TLS NOT VERIFIED" : "") << ")\n";
  else
    std::cout << "api server:    (none: meshtrust does not push to this cluster)\n";
  for (const auto& p : pushes)
    std::cout << "push:          " << date_utc(p.time_ms / 1000) << " " << to_string(p.result) << " "
              << p.serial.value_or("-") << " by " << p.actor << (p.error.empty() ? "" : ": " + p.error) << "\n";
}

int run_check(Context& ctx, const std::string& name) {
  auto rows = ctx.backend().check_cluster(name);
  std::vector<std::string> failed;
  for (const auto& r : rows)
    if (!r.ok) failed.push_back(r.what);
  if (ctx.output() == OutputFormat::Json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : rows) arr.push_back(to_json(r));
    std::cout << nlohmann::json{{"cluster", name}, {"checks", arr}, {"ok", failed.empty()}}.dump() << "\n";
  } else {
    for (const auto& r : rows) std::cout << (r.ok ? "ok    " : "FAIL  ") << r.what << ": " << r.detail << "\n";
  }
  if (failed.empty()) return 0;
  std::string list;
  for (const auto& f : failed) list += (list.empty() ? "" : ", ") + f;
  std::cerr << "error: cluster " << name << " cannot be pushed to: " << list << " failed\n";
  return 1;
}

}  // namespace

void add_cluster_commands(CLI::App& app, Action& action) {
  auto a = std::make_shared<ClusterArgs>();
  auto* group = app.add_subcommand("cluster", "Register and inspect clusters");
  group->require_subcommand(1);

  auto* add = group->add_subcommand("add", "Register a cluster");
  add->add_option("name", a->name, "Cluster name (a DNS-1123 label)")->required();
  add->add_option("--namespace", a->ns, "Namespace of istiod (default istio-system)");
  add->add_option("--secret-name", a->secret_name, "Name of the Secret istiod loads (default cacerts)");
  add->add_option("--kubeconfig", a->kubeconfig, "Kubeconfig to push this cluster's Secret with (stored encrypted)");
  add->add_option("--context", a->context, "Context of --kubeconfig to use (default: its current-context)");
  add->callback([&action, a] {
    action = [a](Context& ctx) {
      ca::ClusterRecord spec;
      spec.name = a->name;
      spec.ns = a->ns;
      spec.secret_name = a->secret_name;
      if (!a->context.empty() && a->kubeconfig.empty()) throw ca::invalid("--context selects a context of --kubeconfig; give --kubeconfig too");
      if (!a->kubeconfig.empty()) spec.access = read_access(a->kubeconfig, a->context);
      auto c = ctx.backend().add_cluster(spec);
      if (ctx.output() == OutputFormat::Json)
        std::cout << to_json(c).dump() << "\n";
      else
        std::cout << "registered cluster " << c.name << " (Secret " << c.ns << "/" << c.secret_name << ")\n";
      return 0;
    };
  });

  auto* list = group->add_subcommand("list", "List registered clusters");
  list->callback([&action] {
    action = [](Context& ctx) {
      auto clusters = ctx.backend().clusters();
      if (ctx.output() == OutputFormat::Json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& c : clusters) arr.push_back(to_json(c));
        std::cout << arr.dump() << "\n";
        return 0;
      }
      Table t({"NAME", "NAMESPACE", "SECRET", "INTERMEDIATE"});
      for (const auto& c : clusters) t.add({c.name, c.ns, c.secret_name, c.current_serial.value_or("-")});
      t.print(std::cout);
      return 0;
    };
  });

  auto* show = group->add_subcommand("show", "Show one cluster");
  show->add_option("name", a->name, "Cluster name")->required();
  show->callback([&action, a] {
    action = [a](Context& ctx) {
      auto c = ctx.backend().cluster(a->name);
      print_cluster(ctx, c, ctx.backend().push_history(a->name, 5));
      return 0;
    };
  });

  auto* check = group->add_subcommand("check", "Try a cluster's kubeconfig: reach, authentication, permissions on Secrets");
  check->add_option("name", a->name, "Cluster name")->required();
  check->callback([&action, a] { action = [a](Context& ctx) { return run_check(ctx, a->name); }; });

  auto* remove = group->add_subcommand("remove", "Unregister a cluster (its certificates stay on record)");
  remove->add_option("name", a->name, "Cluster name")->required();
  remove->callback([&action, a] {
    action = [a](Context& ctx) {
      ctx.backend().remove_cluster(a->name);
      if (ctx.output() == OutputFormat::Json)
        std::cout << nlohmann::json{{"removed", a->name}}.dump() << "\n";
      else
        std::cout << "removed cluster " << a->name << "\n";
      return 0;
    };
  });
}

}  // namespace meshtrust::cli
