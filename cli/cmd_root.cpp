// root rotate start|advance|status|abort: the multi-root rotation, against the local data dir.
// Each step changes the state and then pushes every cluster that has a kubeconfig (unless
// --no-push), so that the next step's precondition can come true.
#include <iostream>

#include "ca/errors.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/render.h"

namespace meshtrust::cli {

namespace {

struct RootArgs {
  std::string key_algorithm, cn, import_cert, import_key;
  int days = 0;
  double workload_ttl_hours = 24;
  bool cross_sign = false, no_push = false, ignore_unmanaged = false;
};

nlohmann::json status_json(const ca::RootRotationStatus& st) {
  nlohmann::json j = {{"signing_root", st.signing_root}, {"trust", st.trust},   {"blockers", st.blockers},
                      {"abort_blockers", st.abort_blockers}, {"next_step", st.next_step}, {"phase", nullptr}};
  if (st.state) {
    j["phase"] = ca::to_string(st.state->phase);
    j["old_root"] = st.state->old_root;
    j["new_root"] = st.state->new_root;
    j["started_at"] = date_utc(st.state->started_at_ms / 1000);
    j["phase_at"] = date_utc(st.state->phase_at_ms / 1000);
    j["workload_ttl_s"] = st.state->workload_ttl_s;
    if (!st.state->cross_signed.empty()) j["cross_signed_pem"] = pki::to_pem("CERTIFICATE", st.state->cross_signed);
  }
  return j;
}

void print_status(Context& ctx, const ca::RootRotationStatus& st) {
  if (ctx.output() == OutputFormat::Json) {
    std::cout << status_json(st).dump() << "\n";
    return;
  }
  std::cout << "phase:        " << (st.state ? ca::to_string(st.state->phase) : "none") << "\n"
            << "signing root: " << st.signing_root << "\n"
            << "trusted:      ";
  for (size_t i = 0; i < st.trust.size(); ++i) std::cout << (i ? ", " : "") << st.trust[i];
  std::cout << "\nnext:         " << st.next_step << "\n";
  for (const auto& b : st.blockers) std::cout << "waiting for:  " << b << "\n";
  if (st.state && st.state->phase == ca::RotationPhase::TrustBoth)
    for (const auto& b : st.abort_blockers) std::cout << "abort waits:  " << b << "\n";
}

// Pushes every pushable cluster after a step; failures are reported, the step stands.
int push_after(Context& ctx, bool no_push) {
  if (no_push) return 0;
  ca::PushOptions o;
  auto run = ctx.authority().push(ctx.actor(), {}, o, ctx.gateway());
  size_t failed = 0;
  std::string names;
  for (const auto& r : run.reports)
    if (r.outcome.result == ca::PushResult::Failed) {
      names += (failed++ ? ", " : "") + r.cluster;
      std::cerr << "warning: push to " << r.cluster << " failed: " << r.outcome.error << "\n";
    }
  if (ctx.output() == OutputFormat::Text)
    std::cout << "pushed " << run.reports.size() << " cluster(s)" << (failed ? ", " + std::to_string(failed) + " failed" : "") << "\n";
  if (!failed) return 0;
  // The step itself is done (and audited); what failed is delivering it.
  std::cerr << "error: the step is done, but pushing it failed for " << names
            << "; run 'meshtrust push --all' once they are reachable (the next step waits for them)\n";
  return 1;
}

int run_start(Context& ctx, const RootArgs& a) {
  ca::RootRotateOptions o;
  if (!a.key_algorithm.empty()) o.key_algorithm = a.key_algorithm;
  if (!a.cn.empty()) o.cn = a.cn;
  if (a.days != 0) o.days = a.days;
  if (a.import_cert.empty() != a.import_key.empty()) throw ca::invalid("--import-cert and --import-key go together");
  if (!a.import_cert.empty()) {
    o.import_cert_pem = read_input_file(a.import_cert, "root certificate", 64 * 1024);
    o.import_key_pem = read_input_file(a.import_key, "root key", 64 * 1024);
  }
  if (a.workload_ttl_hours < 0 || a.workload_ttl_hours > 24 * 365) throw ca::invalid("--workload-ttl must be 0 to 8760 hours");
  o.workload_ttl = std::chrono::seconds(static_cast<std::int64_t>(a.workload_ttl_hours * 3600));
  o.cross_sign = a.cross_sign;
  auto r = ctx.authority().root_rotate_start(ctx.actor(), o);
  if (ctx.output() == OutputFormat::Text)
    std::cout << "new root " << r.new_root << " created; every bundle now trusts " << r.old_root << " and " << r.new_root << "\n";
  int rc = push_after(ctx, a.no_push);
  print_status(ctx, ctx.authority().root_rotation(a.ignore_unmanaged));
  return rc;
}

int run_advance(Context& ctx, const RootArgs& a) {
  auto before = ctx.authority().root_rotation(a.ignore_unmanaged);
  auto r = ctx.authority().root_rotate_advance(ctx.actor(), a.ignore_unmanaged);
  auto after = ctx.authority().root_rotation(a.ignore_unmanaged);
  if (ctx.output() == OutputFormat::Text) {
    if (!after.state)
      std::cout << "root rotation complete: " << r.new_root << " is the only root; " << r.old_root << " is archived\n";
    else
      std::cout << "advanced from " << (before.state ? ca::to_string(before.state->phase) : "none") << " to "
                << ca::to_string(after.state->phase) << "\n";
  }
  int rc = push_after(ctx, a.no_push);
  print_status(ctx, ctx.authority().root_rotation(a.ignore_unmanaged));
  return rc;
}

int run_abort(Context& ctx, const RootArgs& a) {
  auto r = ctx.authority().root_rotate_abort(ctx.actor(), a.ignore_unmanaged);
  auto after = ctx.authority().root_rotation(a.ignore_unmanaged);
  if (ctx.output() == OutputFormat::Text)
    std::cout << (after.state ? "aborted to trust-both: intermediates are back under " + r.old_root
                              : "root rotation aborted: " + r.new_root + " is archived, " + r.old_root + " is the only root")
              << "\n";
  int rc = push_after(ctx, a.no_push);
  print_status(ctx, after);
  return rc;
}

}  // namespace

void add_root_commands(CLI::App& app, Action& action) {
  auto a = std::make_shared<RootArgs>();
  auto* root = app.add_subcommand("root", "The mesh root");
  root->require_subcommand(1);
  auto* rotate = root->add_subcommand("rotate", "Rotate the root without a mesh outage (old+new trusted, then new only)");
  rotate->require_subcommand(1);
  auto* start = rotate->add_subcommand("start", "Create (or import) the new root; every bundle trusts both roots");
  start->add_option("--key-algorithm", a->key_algorithm, "Key of the new root (default: the profile's)");
  start->add_option("--cn", a->cn, "Common name of the new root (default: 'Root CA <date>')");
  start->add_option("--days", a->days, "Lifetime of the new root in days (default: the profile's)");
  start->add_option("--import-cert", a->import_cert, "Use this root certificate (PEM) instead of generating one");
  start->add_option("--import-key", a->import_key, "The key of --import-cert (PEM)");
  start->add_flag("--cross-sign", a->cross_sign, "Also certify the new root's key with the old root (for clients pinning it)");
  start->add_option("--workload-ttl", a->workload_ttl_hours,
                    "Hours old intermediates' workload certificates may live before the old root is dropped (default 24)");
  auto* advance = rotate->add_subcommand("advance", "Take the next step, if its precondition holds");
  auto* status = rotate->add_subcommand("status", "The phase, and what the next step waits for");
  auto* abort = rotate->add_subcommand("abort", "Return to the last safe state");
  for (auto* c : {start, advance, abort}) c->add_flag("--no-push", a->no_push, "Change the state only; push later");
  for (auto* c : {advance, status, abort})
    c->add_flag("--ignore-unmanaged", a->ignore_unmanaged, "Clusters without a kubeconfig do not block");
  start->callback([&action, a] { action = [a](Context& ctx) { return run_start(ctx, *a); }; });
  advance->callback([&action, a] { action = [a](Context& ctx) { return run_advance(ctx, *a); }; });
  abort->callback([&action, a] { action = [a](Context& ctx) { return run_abort(ctx, *a); }; });
  status->callback([&action, a] {
    action = [a](Context& ctx) {
      print_status(ctx, ctx.authority().root_rotation(a->ignore_unmanaged));
      return 0;
    };
  });
}

}  // namespace meshtrust::cli
