#include <filesystem>
#include <iostream>

#include "ca/errors.h"
#include "ca/names.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/render.h"

namespace meshtrust::cli {

namespace fs = std::filesystem;

namespace {

struct ExportArgs {
  std::vector<std::string> names;
  std::string out;
  bool force = false;
};

struct WorkloadArgs {
  std::string ns, cluster, service_account = "default", trust_domain, out;
  int days = 0;
  bool force = false;
};

int run_export(Context& ctx, const ExportArgs& a) {
  // Names become directory names: refuse anything that is not a plain label before touching disk.
  for (const auto& n : a.names) ca::require_cluster_name(n);
  fs::path out(a.out);
  // Check the destination before keys are released, so a refused write releases nothing.
  std::vector<fs::path> targets{out / "root-cert.pem"};
  for (const auto& n : a.names)
    for (const char* f : {"ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem", "ca-crl.pem"})
      targets.push_back(out / n / f);
  check_targets(targets, a.force);
  auto bundles = ctx.backend().export_bundles(a.names);
  std::vector<PlannedFile> files{{out / "root-cert.pem", bundles.front().root_cert, false}};
  for (const auto& b : bundles) {
    fs::path dir = out / b.cluster;
    files.push_back({dir / "ca-cert.pem", b.ca_cert, false});
    if (!b.ca_key.empty()) files.push_back({dir / "ca-key.pem", b.ca_key, true});
    files.push_back({dir / "cert-chain.pem", b.cert_chain, false});
    files.push_back({dir / "root-cert.pem", b.root_cert, false});
    if (!b.ca_crl.empty()) files.push_back({dir / "ca-crl.pem", b.ca_crl, false});
  }
  write_files(files, a.force);
  if (ctx.output() == OutputFormat::Json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& b : bundles)
      arr.push_back({{"cluster", b.cluster}, {"serial", b.serial}, {"dir", (out / b.cluster).string()}, {"with_key", !b.ca_key.empty()}});
    std::cout << arr.dump() << "\n";
    return 0;
  }
  for (const auto& b : bundles) {
    std::cout << "wrote " << (out / b.cluster).string() << "/";
    if (b.ca_key.empty()) std::cout << " (no ca-key.pem: the cluster holds its own key)";
    std::cout << "\n";
  }
  return 0;
}

int run_workload(Context& ctx, const WorkloadArgs& a) {
  ca::WorkloadRequest r;
  r.ns = a.ns;
  r.cluster = a.cluster;
  r.service_account = a.service_account;
  if (a.days != 0) r.days = a.days;
  if (!a.trust_domain.empty()) r.trust_domain = a.trust_domain;
  fs::path out(a.out);
  const std::vector<fs::path> targets{out / "workload-cert.pem", out / "key.pem", out / "workload-cert-chain.pem",
                                      out / "root-cert.pem"};
  // Check the destination before issuing, so a refused write does not issue a certificate.
  check_targets(targets, a.force);
  auto w = ctx.backend().issue_workload(r);
  write_files({{targets[0], w.cert, false}, {targets[1], w.key, true}, {targets[2], w.chain, false}, {targets[3], w.root_cert, false}},
              a.force);
  if (ctx.output() == OutputFormat::Json)
    std::cout << nlohmann::json{{"serial", w.serial}, {"dir", out.string()}}.dump() << "\n";
  else
    std::cout << "issued workload certificate " << w.serial << " into " << out.string() << "/\n";
  return 0;
}

}  // namespace

void add_export_commands(CLI::App& app, Action& action) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export", "Write clusters' bundles in the Makefile layout (DIR/NAME/*.pem)");
  cmd->add_option("names", a->names, "Cluster names")->required();
  cmd->add_option("--out", a->out, "Output directory")->required();
  cmd->add_flag("--force", a->force, "Overwrite existing files");
  cmd->callback([&action, a] { action = [a](Context& ctx) { return run_export(ctx, *a); }; });

  auto w = std::make_shared<WorkloadArgs>();
  auto* wl = app.add_subcommand("workload", "Issue a VM workload certificate (the Makefile's <ns>-certs)");
  wl->add_option("namespace", w->ns, "Workload namespace")->required();
  wl->add_option("--cluster", w->cluster, "Cluster whose intermediate signs it")->required();
  wl->add_option("--service-account", w->service_account, "Service account (default: default)");
  wl->add_option("--days", w->days, "Lifetime in days (default 1)");
  wl->add_option("--trust-domain", w->trust_domain, "SPIFFE trust domain (default: the one set at init)");
  wl->add_option("--out", w->out, "Output directory")->required();
  wl->add_flag("--force", w->force, "Overwrite existing files");
  wl->callback([&action, w] { action = [w](Context& ctx) { return run_workload(ctx, *w); }; });
}

}  // namespace meshtrust::cli
