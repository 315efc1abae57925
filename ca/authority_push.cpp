// Distribution orchestration: which clusters get pushed, with which bundle, how many at once,
// and the record of every attempt. The HTTP is the gateway's (kube/); this file decides and
// records.
#include <chrono>
#include <set>

#include "ca/authority.h"
#include "ca/authority_impl.h"
#include "ca/pipeline.h"

namespace meshtrust::ca {

namespace {

using Steady = std::chrono::steady_clock;

constexpr size_t kMaxConcurrency = 1024;

// Why a cluster cannot be pushed at all, or "" if it can.
std::string unpushable_reason(const ClusterRecord& c, const std::optional<CertificateRecord>& inter) {
  if (!c.access) return "it has no kubeconfig (register it with 'meshtrust cluster add " + c.name + " --kubeconfig FILE')";
  if (!c.current_serial) return "it has no intermediate yet (run 'meshtrust issue " + c.name + "')";
  if (inter && !inter->key_id)
    return "it holds its own intermediate key (issued from a CSR), so meshtrust has no complete bundle to push; "
           "the cluster installs its Secret from GET /v1/clusters/" + c.name + "/cacerts";
  return "";
}

bool recorded(PushResult r, const PushOptions& o) {
  if (r == PushResult::WouldCreate || r == PushResult::WouldReplace) return false;  // dry runs touch nothing
  return r != PushResult::Unchanged || o.record_unchanged;
}

struct Pushed {
  size_t position = 0;
  PushReport report;
  std::string bundle_sha256;
  std::string ns, secret_name;
};

}  // namespace

std::string to_string(PushResult r) {
  switch (r) {
    case PushResult::Created: return "created";
    case PushResult::Replaced: return "replaced";
    case PushResult::Unchanged: return "unchanged";
    case PushResult::WouldCreate: return "would-create";
    case PushResult::WouldReplace: return "would-replace";
    case PushResult::Failed: return "failed";
  }
  return "failed";
}

PushResult push_result_from(const std::string& s) {
  constexpr PushResult kAll[] = {PushResult::Created,     PushResult::Replaced,     PushResult::Unchanged,
                                 PushResult::WouldCreate, PushResult::WouldReplace, PushResult::Failed};
  if (auto r = enum_from(s, kAll)) return *r;
  throw Error(ErrorKind::Storage, "unknown push result " + ca::quoted(s) + " in storage");
}

std::string to_string(RootsStatus s) {
  switch (s) {
    case RootsStatus::NotChecked: return "not-checked";
    case RootsStatus::TakenUp: return "taken-up";
    case RootsStatus::Pending: return "pending";
  }
  return "not-checked";
}

std::string to_string(DeliveryState s) {
  switch (s) {
    case DeliveryState::Unmanaged: return "unmanaged";
    case DeliveryState::InSync: return "in-sync";
    case DeliveryState::Drifted: return "drifted";
    case DeliveryState::Failing: return "failing";
  }
  return "unmanaged";
}

PushRun Authority::push(const std::string& actor, const std::vector<std::string>& names, const PushOptions& options,
                        ClusterGateway& gateway, const PushProgress& progress) {
  if (options.concurrency < 1 || options.concurrency > kMaxConcurrency)
    throw invalid("concurrency must be between 1 and " + std::to_string(kMaxConcurrency));
  if (options.deadline < std::chrono::seconds(1) || options.deadline > std::chrono::hours(1))
    throw invalid("the per-cluster deadline must be between 1 second and 1 hour");

  // Bundles that carry ca-crl.pem must not carry a CRL past half its life: refresh first.
  if (!options.dry_run && impl_->bundle_crl_on()) refresh_crls(actor);

  // Decide the targets up front: a named cluster that cannot be pushed is a usage error, and
  // nothing is sent to any cluster.
  PushRun run;
  std::vector<std::string> targets;
  {
    auto tx = impl_->read();
    impl_->require_initialized(*tx);
    auto inter_of = [&](const ClusterRecord& c) -> std::optional<CertificateRecord> {
      if (!c.current_serial) return std::nullopt;
      return tx->certificates().find(*c.current_serial);
    };
    if (names.empty()) {
      for (const auto& c : tx->clusters().list()) {
        std::string why = unpushable_reason(c, inter_of(c));
        if (why.empty())
          targets.push_back(c.name);
        else
          run.skipped.emplace_back(c.name, why);
      }
    } else {
      std::set<std::string> seen;
      std::vector<ClusterRecord> named;
      for (const auto& n : names) {  // every name is checked before any cluster is judged
        named.push_back(impl_->require_cluster(*tx, n));
        if (!seen.insert(n).second) throw invalid("cluster '" + n + "' is named twice");
      }
      for (const auto& c : named) {
        std::string why = unpushable_reason(c, inter_of(c));
        if (!why.empty()) throw denied("cannot push to cluster '" + c.name + "': " + why);
        targets.push_back(c.name);
      }
    }
    impl_->unlock(*tx);
    impl_->audit_signer(*tx);
  }

  // Workers fetch what one cluster needs in a short read, then talk to its API server; this
  // thread stores the outcomes in batches (one commit and one signed head per batch).
  const size_t total = targets.size();
  run.reports.resize(total);
  size_t done = 0, failed = 0;
  auto produce = [&](size_t i) -> Pushed {
    const std::string& name = targets[i];
    const auto started = Steady::now();
    Pushed p{i, {name, std::nullopt, {}, 0}, "", "", ""};
    std::optional<PushTarget> target;
    Bundle bundle;
    {
      auto tx = impl_->read();
      auto s = impl_->require_initialized(*tx);
      auto c = tx->clusters().find(name);
      if (c && c->current_serial) target = impl_->push_target(*tx, *c);
      if (!target) {
        p.report.outcome.error = "cluster '" + name + "' was removed or changed while the push ran";
      } else {
        bundle = impl_->cached_bundle(*tx, s, name, *c->current_serial);
        p.ns = c->ns;
        p.secret_name = c->secret_name;
      }
    }
    if (target) {
      p.report.serial = bundle.serial;
      p.bundle_sha256 = bundle.bundle_sha256;
      p.report.outcome = gateway.push(*target, bundle, options);
      wipe_secret(target->access.kubeconfig);
    }
    p.report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - started).count();
    return p;
  };
  auto store = [&](std::vector<Pushed>& batch) {
    std::vector<AuditEvent> events;
    auto tx = impl_->write();
    const std::int64_t now_ms = impl_->clock.now().time_since_epoch().count();
    for (const auto& p : batch) {
      const auto& o = p.report.outcome;
      if (!recorded(o.result, options)) continue;
      PushRecord rec{0, p.report.cluster, now_ms, actor, o.result, p.report.serial, p.bundle_sha256, o.error,
                     o.attempts, p.report.duration_ms};
      tx->pushes().insert(rec);
      nlohmann::json details = {{"result", to_string(o.result)},
                                {"namespace", p.ns},
                                {"secret_name", p.secret_name},
                                {"attempts", o.attempts},
                                {"duration_ms", p.report.duration_ms},
                                {"bundle_sha256", p.bundle_sha256},
                                {"forced", options.force}};
      if (o.namespace_created) details["namespace_created"] = true;
      if (!o.error.empty()) details["error"] = o.error;
      events.push_back({actor, "secret.push", p.report.cluster, p.report.serial, o.result != PushResult::Failed, details});
    }
    if (events.empty()) {
      tx.reset();  // nothing to store: no commit, no head
    } else {
      impl_->commit(*tx, events);
    }
    {
      std::lock_guard lock(impl_->observed_mu);
      for (const auto& p : batch) {
        ++impl_->push_counts[p.report.outcome.result];
        if (options.check_roots) impl_->observed_roots[p.report.cluster] = p.report.outcome.roots;
      }
    }
    for (auto& p : batch) {
      ++done;
      if (p.report.outcome.result == PushResult::Failed) ++failed;
      run.reports[p.position] = std::move(p.report);
    }
    if (progress) progress(done, failed, total);
  };
  run_pipeline<Pushed>(total, options.concurrency, 256, produce, store);
  return run;
}

PushRun Authority::reconcile(ClusterGateway& gateway, PushOptions options) {
  // Renew what is due first (near its end, revoked, or under a root being rotated away), and
  // keep the CRLs fresh, so that this pass pushes the result.
  const std::string actor = "system:reconciler";
  auto due = due_for_rotation();
  if (!due.due.empty()) rotate(actor, due.due, {});
  refresh_crls(actor);
  options.dry_run = false;
  options.force = false;  // the loop never takes over a Secret someone else manages
  options.check_roots = true;
  options.record_unchanged = false;
  return push(actor, {}, options, gateway);
}

std::vector<AccessCheck> Authority::check_cluster(const std::string& name, ClusterGateway& gateway,
                                                  std::chrono::milliseconds deadline) {
  std::optional<PushTarget> target;
  {
    auto tx = impl_->read();
    impl_->require_initialized(*tx);
    target = impl_->push_target(*tx, impl_->require_cluster(*tx, name));
    if (!target)
      throw denied("cluster '" + name + "' has no kubeconfig; register one with 'meshtrust cluster add " + name +
                   " --kubeconfig FILE'");
  }
  auto rows = gateway.check(*target, deadline);
  wipe_secret(target->access.kubeconfig);
  return rows;
}

std::vector<PushRecord> Authority::push_history(const std::string& name, std::uint32_t limit) {
  auto tx = impl_->read();
  impl_->require_initialized(*tx);
  require_cluster_name(name);
  return tx->pushes().history(name, limit);
}

DeliveryReport Authority::delivery() {
  auto tx = impl_->read();
  auto s = impl_->require_initialized(*tx);
  std::map<std::string, PushRecord> last, last_ok;
  for (auto& r : tx->pushes().latest_per_cluster()) last.emplace(r.cluster, std::move(r));
  for (auto& r : tx->pushes().latest_success_per_cluster()) last_ok.emplace(r.cluster, std::move(r));
  std::map<std::string, RootsStatus> roots;
  DeliveryReport report;
  {
    std::lock_guard lock(impl_->observed_mu);
    roots = impl_->observed_roots;
    report.pushes = impl_->push_counts;
  }
  auto& out = report.clusters;
  for (const auto& c : tx->clusters().list()) {
    ClusterDelivery d{c.name, DeliveryState::Unmanaged, "", std::nullopt, std::nullopt, RootsStatus::NotChecked};
    if (auto it = last.find(c.name); it != last.end()) d.last_attempt = it->second;
    if (auto it = last_ok.find(c.name); it != last_ok.end()) d.last_success = it->second;
    if (auto it = roots.find(c.name); it != roots.end()) d.roots = it->second;
    if (c.access) {
      if (c.current_serial)
        if (auto rec = tx->certificates().find(*c.current_serial))
          d.desired_bundle_sha256 = impl_->public_bundle(*tx, s, c.name, *rec).bundle_sha256;
      const std::string& desired = d.desired_bundle_sha256;
      if (d.last_attempt && d.last_attempt->result == PushResult::Failed)
        d.state = DeliveryState::Failing;
      else if (d.last_success && !desired.empty() && d.last_success->bundle_sha256 == desired)
        d.state = DeliveryState::InSync;
      else
        d.state = DeliveryState::Drifted;
    }
    out.push_back(std::move(d));
  }
  return report;
}

}  // namespace meshtrust::ca
