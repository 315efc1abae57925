// rotate, revoke, crl, config: the certificate lifecycle after issuance.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "ca/errors.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/render.h"
#include "pki/crl.h"

namespace meshtrust::cli {

namespace {

struct RotateArgs {
  std::vector<std::string> names;
  bool all = false, due = false;
  std::string csr, profile, key_algorithm;
  int days = 0;
};

int run_rotate(Context& ctx, const RotateArgs& a) {
  const int modes = (!a.names.empty()) + a.all + a.due;
  if (modes != 1) throw ca::invalid("name the clusters to rotate, or pass --all or --due (one of the three)");
  ca::IssueOptions o;
  if (!a.profile.empty()) o.profile = a.profile;
  if (!a.key_algorithm.empty()) o.key_algorithm = a.key_algorithm;
  if (a.days != 0) o.days = a.days;
  auto& backend = ctx.backend();

  std::vector<ca::CertificateRecord> rotated;
  std::vector<std::pair<std::string, std::string>> skipped;
  if (!a.csr.empty()) {
    if (a.names.size() != 1) throw ca::invalid("--csr rotates one cluster's intermediate; name exactly one cluster");
    rotated.push_back(backend.issue_from_csr(a.names[0], read_input_file(a.csr, "CSR", 64 * 1024), o, true));
  } else {
    std::vector<std::string> names = a.names;
    if (a.all || a.due) {
      for (const auto& c : backend.status().clusters) {
        if (!c.intermediate || (a.due && c.rotation_due.empty())) continue;
        // A cluster that holds its own key rotates by sending a CSR: say so, do not fail the rest.
        if (c.intermediate->from_csr)
          skipped.emplace_back(c.cluster.name, "holds its own key: rotate it with a new CSR (--csr FILE)");
        else
          names.push_back(c.cluster.name);
      }
    }
    if (!names.empty()) {
      const bool live = ::isatty(STDERR_FILENO) && ctx.output() == OutputFormat::Text && names.size() > 1;
      rotated = backend.rotate(names, o, [&](size_t done, size_t total, const ca::CertificateRecord& r) {
        if (live) std::cerr << "\rrotated " << done << "/" << total << " (" << *r.cluster << ")\033[K" << std::flush;
      });
      if (live) std::cerr << "\r\033[K";
    }
  }

  if (ctx.output() == OutputFormat::Json) {
    nlohmann::json arr = nlohmann::json::array(), skip = nlohmann::json::array();
    for (const auto& r : rotated) arr.push_back(to_json(r));
    for (const auto& [n, why] : skipped) skip.push_back({{"cluster", n}, {"reason", why}});
    std::cout << nlohmann::json{{"rotated", arr}, {"skipped", skip}}.dump() << "\n";
    return 0;
  }
  if (rotated.empty() && skipped.empty()) std::cout << "nothing to rotate\n";
  if (!rotated.empty()) {
    Table t({"CLUSTER", "NEW SERIAL", "KEY", "NOT AFTER"});
    for (const auto& r : rotated) t.add({*r.cluster, r.serial, r.key_algorithm, date_utc(r.not_after)});
    t.print(std::cout);
    std::cout << "previous intermediates are superseded, not revoked: workload certificates they signed keep verifying\n";
  }
  for (const auto& [n, why] : skipped) std::cout << "skipped " << n << ": " << why << "\n";
  return 0;
}

int run_revoke(Context& ctx, const std::string& serial, const std::string& reason) {
  auto r = ctx.backend().revoke(serial, reason);
  if (ctx.output() == OutputFormat::Json)
    std::cout << nlohmann::json{{"serial", r.serial}, {"issuer_serial", r.issuer_serial}, {"reason", r.reason},
                                {"revoked_at", date_utc(r.revoked_at_ms / 1000)}, {"actor", r.actor},
                                {"crl_number", r.crl_number ? nlohmann::json(*r.crl_number) : nlohmann::json(nullptr)}}
                     .dump()
              << "\n";
  else
    std::cout << "revoked " << r.serial << " (" << r.reason << "); "
              << (r.crl_number ? "CRL #" + std::to_string(*r.crl_number) + " of " + r.issuer_serial + " lists it"
                               : "no CRL lists it: its issuer " + r.issuer_serial + " cannot sign CRLs")
              << "\n";
  return 0;
}

int run_crl(Context& ctx, const std::string& format, const std::string& out) {
  if (format != "pem" && format != "der") throw ca::invalid("--format must be pem or der");
  auto c = ctx.backend().crl();
  std::string bytes = format == "pem" ? pki::to_pem("X509 CRL", c.der) : std::string(pki::as_chars(c.der));
  if (out.empty()) {
    if (format == "der" && ::isatty(STDOUT_FILENO)) throw ca::invalid("DER is binary: pass --out FILE, or --format pem");
    std::cout << bytes;
    if (ctx.output() == OutputFormat::Text && format == "pem") {
      auto crl = pki::Crl::from_der(c.der);
      std::cerr << "CRL #" << crl.number() << ", " << crl.entries().size() << " revoked, next update "
                << date_utc(crl.next_update().time_since_epoch().count()) << "\n";
    }
    return 0;
  }
  write_files({{out, bytes, false}}, true);
  return 0;
}

int run_config(Context& ctx, const std::string& key, const std::string& value) {
  auto& a = ctx.authority();
  if (!key.empty()) a.configure(ctx.actor(), key, value);
  auto conf = a.configuration();
  if (ctx.output() == OutputFormat::Json) {
    std::cout << nlohmann::json(conf).dump() << "\n";
    return 0;
  }
  for (const auto& [k, v] : conf) std::cout << k << " = " << v << "\n";
  return 0;
}

}  // namespace

void add_lifecycle_commands(CLI::App& app, Action& action) {
  auto a = std::make_shared<RotateArgs>();
  auto* rotate = app.add_subcommand("rotate", "Replace clusters' intermediates with new ones (new keys, same root)");
  rotate->add_option("names", a->names, "Cluster names");
  rotate->add_flag("--all", a->all, "Every cluster that has an intermediate");
  rotate->add_flag("--due", a->due, "Clusters whose intermediate is due: revoked, under an old root, or near its end");
  rotate->add_option("--csr", a->csr, "Rotate to a certificate for this cluster-generated CSR (one cluster)");
  rotate->add_option("--days", a->days, "Lifetime in days (default: the profile's)");
  rotate->add_option("--key-algorithm", a->key_algorithm, "rsa-2048|rsa-3072|rsa-4096|ecdsa-p256|ecdsa-p384");
  rotate->add_option("--profile", a->profile, "default or makefile (default: the one chosen at init)");
  rotate->callback([&action, a] { action = [a](Context& ctx) { return run_rotate(ctx, *a); }; });

  auto serial = std::make_shared<std::string>(), reason = std::make_shared<std::string>();
  auto* revoke = app.add_subcommand("revoke", "Revoke an intermediate or workload certificate (its issuer's CRL lists it)");
  revoke->add_option("serial", *serial, "Serial number (lowercase hex)")->required();
  revoke->add_option("--reason", *reason, "RFC 5280 reason: keyCompromise, cACompromise, affiliationChanged, superseded, "
                                          "cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise, unspecified")
      ->required();
  revoke->callback([&action, serial, reason] { action = [serial, reason](Context& ctx) { return run_revoke(ctx, *serial, *reason); }; });

  auto format = std::make_shared<std::string>("pem"), out = std::make_shared<std::string>();
  auto* crl = app.add_subcommand("crl", "The root's CRL (regenerated when it is past half its life)");
  crl->add_option("--format", *format, "pem (default) or der");
  crl->add_option("--out", *out, "Write to this file instead of stdout");
  crl->callback([&action, format, out] { action = [format, out](Context& ctx) { return run_crl(ctx, *format, *out); }; });

  auto key = std::make_shared<std::string>(), value = std::make_shared<std::string>();
  auto* config = app.add_subcommand("config", "Show or change settings: bundle-crl (on|off), crl-days, renew-percent");
  config->require_subcommand(1);
  auto* list = config->add_subcommand("list", "Show every setting");
  list->callback([&action] { action = [](Context& ctx) { return run_config(ctx, "", ""); }; });
  auto* set = config->add_subcommand("set", "Change one setting (an audit event)");
  set->add_option("key", *key, "bundle-crl, crl-days or renew-percent")->required();
  set->add_option("value", *value, "The new value")->required();
  set->callback([&action, key, value] { action = [key, value](Context& ctx) { return run_config(ctx, *key, *value); }; });
}

}  // namespace meshtrust::cli
