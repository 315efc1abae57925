#include <ctime>
#include <iostream>

#include "ca/errors.h"
#include "ca/names.h"
#include "cli/commands.h"
#include "cli/render.h"

namespace meshtrust::cli {

namespace {

struct CertsArgs {
  std::string cluster;
  int expiring_within = -1;
};

int run_certs_list(Context& ctx, const CertsArgs& a) {
  ca::CertificateFilter f;
  if (!a.cluster.empty()) {
    ca::require_cluster_name(a.cluster);
    f.cluster = a.cluster;
  }
  if (a.expiring_within >= 0) {
    if (a.expiring_within > 36500) throw ca::invalid("--expiring-within is at most 36500 days");
    f.not_after_before = static_cast<std::int64_t>(std::time(nullptr)) + std::int64_t{a.expiring_within} * 86400;
  }
  auto certs = ctx.backend().certificates(f);
  if (ctx.output() == OutputFormat::Json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& c : certs) arr.push_back(to_json(c));
    std::cout << arr.dump() << "\n";
    return 0;
  }
  Table t({"SERIAL", "KIND", "CLUSTER", "STATUS", "KEY", "NOT AFTER"});
  for (const auto& c : certs)
    t.add({c.serial, ca::to_string(c.kind), c.cluster.value_or("-"), ca::to_string(c.status), c.key_algorithm, date_utc(c.not_after)});
  t.print(std::cout);
  return 0;
}

int run_status(Context& ctx) {
  auto s = ctx.backend().status();
  if (ctx.output() == OutputFormat::Json) {
    std::cout << ca::status_json(s).dump() << "\n";
    return 0;
  }
  std::cout << "root " << s.root.serial << "  " << s.root.subject << "  " << s.root.key_algorithm << "  expires "
            << date_utc(s.root.not_after) << " (" << days_left(s.root.not_after, s.now) << " days left)\n\n";
  Table t({"CLUSTER", "INTERMEDIATE", "NOT AFTER", "DAYS LEFT"});
  for (const auto& c : s.clusters) {
    if (c.intermediate)
      t.add({c.cluster.name, c.intermediate->serial, date_utc(c.intermediate->not_after),
             std::to_string(days_left(c.intermediate->not_after, s.now))});
    else
      t.add({c.cluster.name, "(none: run 'meshtrust issue " + c.cluster.name + "')", "-", "-"});
  }
  t.print(std::cout);
  return 0;
}

}  // namespace

void add_report_commands(CLI::App& app, Action& action) {
  auto a = std::make_shared<CertsArgs>();
  auto* certs = app.add_subcommand("certs", "Certificates on record");
  certs->require_subcommand(1);
  auto* list = certs->add_subcommand("list", "List certificates");
  list->add_option("--cluster", a->cluster, "Only this cluster's");
  list->add_option("--expiring-within", a->expiring_within, "Only those expiring within DAYS")->check(CLI::NonNegativeNumber);
  list->callback([&action, a] { action = [a](Context& ctx) { return run_certs_list(ctx, *a); }; });

  auto* status = app.add_subcommand("status", "The root and every cluster's current intermediate, with days left");
  status->callback([&action] { action = [](Context& ctx) { return run_status(ctx); }; });
}

}  // namespace meshtrust::cli
