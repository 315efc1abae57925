#include <filesystem>
#include <iostream>

#include "ca/errors.h"
#include "ca/key_vault.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/render.h"

namespace meshtrust::cli {

namespace {

struct InitArgs {
  std::string profile = "default", key_algorithm, org = "Istio", cn = "Root CA", import_cert, import_key;
  std::string trust_domain = "cluster.local";
  int days = 0;
};

int run_init(Context& ctx, const InitArgs& a) {
  ca::InitOptions o;
  o.profile = a.profile;
  if (!a.key_algorithm.empty()) o.key_algorithm = a.key_algorithm;
  o.org = a.org;
  o.cn = a.cn;
  o.trust_domain = a.trust_domain;
  if (a.days != 0) o.days = a.days;
  if (!a.import_cert.empty()) o.import_cert_pem = read_input_file(a.import_cert, "root certificate");
  if (!a.import_key.empty()) o.import_key_pem = read_input_file(a.import_key, "root key");
  if (o.import_cert_pem && (o.key_algorithm || o.days))
    throw ca::invalid("--key-algorithm and --days do not apply to an imported root");

  ca::Authority& authority = ctx.authority_for_init();
  if (authority.initialized())
    throw ca::already_exists("data dir '" + ctx.data_dir() + "' is already initialised; nothing was changed");

  bool wrote_kek_file = false;
  if (auto pass = ctx.passphrase()) {
    o.kek_mode = ca::KekSettings::Mode::Passphrase;
    o.kek_secret = *pass;
  } else {
    o.kek_mode = ca::KekSettings::Mode::File;
    o.kek_secret = ca::new_kek_file_contents();
    write_files({{ctx.kek_path(), o.kek_secret, true}}, false);
    wrote_kek_file = true;
  }
  ca::CertificateRecord root;
  try {
    root = authority.init(ctx.actor(), o);
  } catch (...) {
    if (wrote_kek_file) std::filesystem::remove(ctx.kek_path());
    throw;
  }
  if (wrote_kek_file)
    std::cerr << "warning: no passphrase given (MESHTRUST_PASSPHRASE or --passphrase-file); keys are encrypted under "
              << ctx.kek_path() << " and so protected only by that file's permissions\n";

  if (ctx.output() == OutputFormat::Json) {
    std::cout << to_json(root).dump() << "\n";
  } else {
    std::cout << (o.import_cert_pem ? "imported" : "created") << " root " << root.serial << " (" << root.subject << ", "
              << root.key_algorithm << ", profile " << root.profile << ", expires " << date_utc(root.not_after) << ")\n";
  }
  return 0;
}

}  // namespace

void add_init_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<InitArgs>();
  auto* cmd = app.add_subcommand("init", "Create the mesh's root CA (or import one) in the data dir");
  cmd->add_option("--profile", a->profile, "Issuance profile: default or makefile")->check(CLI::IsMember({"default", "makefile"}));
  cmd->add_option("--key-algorithm", a->key_algorithm, "rsa-2048|rsa-3072|rsa-4096|ecdsa-p256|ecdsa-p384 (default: the profile's)");
  cmd->add_option("--org", a->org, "Root subject O (default Istio)");
  cmd->add_option("--cn", a->cn, "Root subject CN (default Root CA)");
  cmd->add_option("--days", a->days, "Root lifetime in days (default: the profile's)");
  cmd->add_option("--trust-domain", a->trust_domain, "SPIFFE trust domain for workload certificates");
  auto* ic = cmd->add_option("--import-cert", a->import_cert, "Import this root certificate (PEM) instead of generating one");
  auto* ik = cmd->add_option("--import-key", a->import_key, "The imported root's private key (PEM)");
  ic->needs(ik);
  ik->needs(ic);
  cmd->callback([&action, a] { action = [a](Context& ctx) { return run_init(ctx, *a); }; });
}

}  // namespace meshtrust::cli
