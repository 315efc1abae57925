// push: deliver cacerts Secrets through each cluster's Kubernetes API; manifest: the same Secret
// as YAML for GitOps.
#include <unistd.h>

#include <iostream>

#include "ca/errors.h"
#include "cli/commands.h"
#include "cli/render.h"
#include "kube/secret.h"

namespace meshtrust::cli {

namespace {

struct PushArgs {
  std::vector<std::string> names;
  bool all = false, dry_run = false, force = false;
  size_t concurrency = 32;
  int deadline_seconds = 60;
};

std::string detail_of(const ca::PushReport& r) {
  const auto& o = r.outcome;
  if (o.result == ca::PushResult::Failed) return o.error;
  std::string d;
  for (const auto& c : o.changes) d += (d.empty() ? "" : "; ") + c;
  if (o.namespace_created && d.find("namespace") == std::string::npos) d += std::string(d.empty() ? "" : "; ") + "namespace created";
  return d;
}

void print_text(const ca::PushRun& run, bool terminal) {
  if (terminal) {
    Table t({"CLUSTER", "RESULT", "SERIAL", "REQUESTS", "TIME", "DETAIL"});
    for (const auto& r : run.reports)
      t.add({r.cluster, to_string(r.outcome.result), r.serial.value_or("-"), std::to_string(r.outcome.attempts),
             std::to_string(r.duration_ms) + "ms", detail_of(r)});
    t.print(std::cout);
  } else {
    // Plain lines for logs and pipes: one per cluster, greppable by name.
    for (const auto& r : run.reports) {
      std::string d = detail_of(r);
      std::cout << r.cluster << ": " << to_string(r.outcome.result) << " (serial " << r.serial.value_or("-") << ", "
                << r.outcome.attempts << " requests, " << r.duration_ms << " ms)" << (d.empty() ? "" : ": " + d) << "\n";
    }
  }
  std::map<std::string, size_t> counts;
  for (const auto& r : run.reports) ++counts[to_string(r.outcome.result)];
  std::string summary;
  for (const auto& [result, n] : counts) summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " + result;
  std::cout << run.reports.size() << (run.reports.size() == 1 ? " cluster" : " clusters") << ": "
            << (summary.empty() ? "nothing to push" : summary) << "\n";
  for (const auto& [name, why] : run.skipped) std::cout << "skipped " << name << ": " << why << "\n";
}

int run_push(Context& ctx, const PushArgs& a) {
  if (a.all == !a.names.empty()) throw ca::invalid("name the clusters to push, or pass --all (not both)");
  ca::PushOptions o;
  o.dry_run = a.dry_run;
  o.force = a.force;
  o.concurrency = a.concurrency;
  o.deadline = std::chrono::seconds(a.deadline_seconds);
  const bool terminal = ::isatty(STDOUT_FILENO) != 0;
  const bool live = ::isatty(STDERR_FILENO) && ctx.output() == OutputFormat::Text;
  auto run = ctx.backend().push(a.names, o, [&](size_t done, size_t failed, size_t total) {
    if (live)
      std::cerr << "\rpushed " << done << "/" << total << ", " << failed << " failed, " << (total - done) << " remaining\033[K"
                << std::flush;
  });
  if (live) std::cerr << "\r\033[K";

  for (const auto& r : run.reports)
    for (const auto& w : r.outcome.warnings) std::cerr << "warning: cluster " << r.cluster << ": " << w << "\n";
  if (ctx.output() == OutputFormat::Json)
    std::cout << to_json(run).dump() << "\n";
  else
    print_text(run, terminal);

  std::string failed;
  size_t n = 0;
  for (const auto& r : run.reports)
    if (r.outcome.result == ca::PushResult::Failed) failed += (n++ ? ", " : "") + r.cluster;
  if (n == 0) return 0;
  std::cerr << "error: the push failed for " << n << (n == 1 ? " cluster: " : " clusters: ") << failed << "\n";
  return 1;
}

int run_manifest(Context& ctx, const std::string& name) {
  auto c = ctx.backend().cluster(name);
  // The manifest carries the key: fetching it is a key release, audited like export.
  auto bundles = ctx.backend().export_bundles({name});
  const auto& b = bundles.front();
  if (b.ca_key.empty())
    std::cerr << "warning: cluster " << name << " holds its own intermediate key; add ca-key.pem before applying\n";
  std::cout << kube::to_yaml(kube::cacerts_secret(b, c.ns, c.secret_name));
  return 0;
}

}  // namespace

void add_push_commands(CLI::App& app, Action& action) {
  auto a = std::make_shared<PushArgs>();
  auto* push = app.add_subcommand("push", "Push each cluster's cacerts Secret through its Kubernetes API");
  push->add_option("names", a->names, "Cluster names");
  push->add_flag("--all", a->all, "Every cluster that has a kubeconfig and an intermediate");
  push->add_option("--concurrency", a->concurrency, "Clusters pushed at once (default 32)");
  push->add_flag("--dry-run", a->dry_run, "Show what would change; write nothing");
  push->add_flag("--force", a->force, "Replace a Secret that meshtrust does not manage");
  push->add_option("--deadline", a->deadline_seconds, "Seconds one cluster may take, retries included (default 60)");
  push->callback([&action, a] { action = [a](Context& ctx) { return run_push(ctx, *a); }; });

  auto name = std::make_shared<std::string>();
  auto* manifest = app.add_subcommand("manifest", "Print a cluster's cacerts Secret as YAML (for kubectl apply -f - or GitOps)");
  manifest->add_option("name", *name, "Cluster name")->required();
  manifest->callback([&action, name] { action = [name](Context& ctx) { return run_manifest(ctx, *name); }; });
}

}  // namespace meshtrust::cli
