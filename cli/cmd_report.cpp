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

int run_status(Context& ctx, int expiring_within) {
  if (expiring_within > 36500) throw ca::invalid("--expiring-within is at most 36500 days");
  auto s = ctx.backend().status();
  // What expires within the window: the root, and each cluster's current intermediate.
  std::vector<std::string> expiring;
  if (expiring_within >= 0) {
    const std::int64_t limit = s.now + std::int64_t{expiring_within} * 86400;
    if (s.root.not_after <= limit) expiring.push_back("root " + s.root.serial);
    for (const auto& c : s.clusters)
      if (c.intermediate && c.intermediate->not_after <= limit) expiring.push_back(c.cluster.name);
  }
  if (ctx.output() == OutputFormat::Json) {
    auto j = ca::status_json(s);
    if (expiring_within >= 0) j["expiring"] = expiring;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "root " << s.root.serial << "  " << s.root.subject << "  " << s.root.key_algorithm << "  expires "
              << date_utc(s.root.not_after) << " (" << days_left(s.root.not_after, s.now) << " days left)\n";
    if (s.trust.size() > 1 || s.rotation) {
      std::cout << "root rotation: " << (s.rotation ? ca::to_string(*s.rotation) : "none") << "; bundles trust";
      for (const auto& t : s.trust) std::cout << " " << t;
      std::cout << "\n";
    }
    std::cout << "\n";
    Table t({"CLUSTER", "INTERMEDIATE", "NOT AFTER", "DAYS LEFT", "ROTATION", "DELIVERY", "LAST PUSH"});
    for (const auto& c : s.clusters) {
      std::string rotation = c.rotation_due.empty() ? "-" : "DUE: " + c.rotation_due;
      std::string last = "-";
      if (c.delivery.last_attempt)
        last = date_utc(c.delivery.last_attempt->time_ms / 1000) + " " + ca::to_string(c.delivery.last_attempt->result);
      if (c.intermediate)
        t.add({c.cluster.name,
               c.intermediate->serial + (c.intermediate->status == ca::CertStatus::Revoked ? " (REVOKED)" : ""),
               date_utc(c.intermediate->not_after), std::to_string(days_left(c.intermediate->not_after, s.now)), rotation,
               ca::to_string(c.delivery.state), last});
      else
        t.add({c.cluster.name, "(none: run 'meshtrust issue " + c.cluster.name + "')", "-", "-", "-",
               ca::to_string(c.delivery.state), last});
    }
    t.print(std::cout);
  }
  if (expiring.empty()) return 0;
  std::string list;
  for (const auto& e : expiring) list += (list.empty() ? "" : ", ") + e;
  std::cerr << "error: " << expiring.size() << (expiring.size() == 1 ? " certificate expires" : " certificates expire")
            << " within " << expiring_within << " days: " << list << "\n";
  return 1;
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

  auto within = std::make_shared<int>(-1);
  auto* status = app.add_subcommand("status", "The root and every cluster's intermediate: days left, rotation, delivery");
  status->add_option("--expiring-within", *within, "Exit 1 if the root or an intermediate expires within DAYS (for cron and CI)")
      ->check(CLI::NonNegativeNumber);
  status->callback([&action, within] { action = [within](Context& ctx) { return run_status(ctx, *within); }; });
}

}  // namespace meshtrust::cli
