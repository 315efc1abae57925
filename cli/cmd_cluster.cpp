#include <iostream>

#include "cli/commands.h"
#include "cli/render.h"

namespace meshtrust::cli {

namespace {

struct ClusterArgs {
  std::string name, ns = "istio-system", secret_name = "cacerts";
};

void print_cluster(Context& ctx, const ca::ClusterRecord& c) {
  if (ctx.output() == OutputFormat::Json) {
    std::cout << to_json(c).dump() << "\n";
    return;
  }
  std::cout << "name:          " << c.name << "\n"
            << "namespace:     " << c.ns << "\n"
            << "secret:        " << c.secret_name << "\n"
            << "intermediate:  " << c.current_serial.value_or("(none)") << "\n";
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
  add->callback([&action, a] {
    action = [a](Context& ctx) {
      ca::ClusterRecord spec;
      spec.name = a->name;
      spec.ns = a->ns;
      spec.secret_name = a->secret_name;
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
      print_cluster(ctx, ctx.backend().cluster(a->name));
      return 0;
    };
  });

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
