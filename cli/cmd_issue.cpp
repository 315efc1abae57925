#include <unistd.h>

#include <iostream>

#include "ca/errors.h"
#include "cli/commands.h"
#include "cli/files.h"
#include "cli/render.h"

namespace meshtrust::cli {

namespace {

struct IssueArgs {
  std::vector<std::string> names;
  std::string profile, key_algorithm, csr;
  int days = 0;
};

int run_issue(Context& ctx, const IssueArgs& a) {
  ca::IssueOptions o;
  if (!a.profile.empty()) o.profile = a.profile;
  if (!a.key_algorithm.empty()) o.key_algorithm = a.key_algorithm;
  if (a.days != 0) o.days = a.days;
  auto& backend = ctx.backend();

  std::vector<ca::CertificateRecord> issued;
  if (!a.csr.empty()) {
    if (a.names.size() != 1) throw ca::invalid("--csr signs one cluster's request; name exactly one cluster");
    std::string pem = read_input_file(a.csr, "CSR", 64 * 1024);
    issued.push_back(backend.issue_from_csr(a.names[0], pem, o));
  } else {
    const bool live = ::isatty(STDERR_FILENO) && ctx.output() == OutputFormat::Text && a.names.size() > 1;
    issued = backend.issue(a.names, o, [&](size_t done, size_t total, const ca::CertificateRecord& r) {
      if (live) std::cerr << "\rissued " << done << "/" << total << " (" << *r.cluster << ")\033[K" << std::flush;
    });
    if (live) std::cerr << "\r\033[K";
  }

  if (ctx.output() == OutputFormat::Json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : issued) arr.push_back(to_json(r));
    std::cout << arr.dump() << "\n";
    return 0;
  }
  Table t({"CLUSTER", "SERIAL", "KEY", "NOT AFTER"});
  for (const auto& r : issued)
    t.add({*r.cluster, r.serial, r.from_csr ? r.key_algorithm + " (cluster's)" : r.key_algorithm, date_utc(r.not_after)});
  t.print(std::cout);
  return 0;
}

}  // namespace

void add_issue_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<IssueArgs>();
  auto* cmd = app.add_subcommand("issue", "Issue intermediate CAs for registered clusters");
  cmd->add_option("names", a->names, "Cluster names")->required();
  cmd->add_option("--days", a->days, "Lifetime in days (default: the profile's; never past the root's end)");
  cmd->add_option("--key-algorithm", a->key_algorithm, "rsa-2048|rsa-3072|rsa-4096|ecdsa-p256|ecdsa-p384");
  cmd->add_option("--profile", a->profile, "default or makefile (default: the one chosen at init)");
  cmd->add_option("--csr", a->csr, "Sign this cluster-generated CSR (PEM) instead of generating a key");
  cmd->callback([&action, a] { action = [a](Context& ctx) { return run_issue(ctx, *a); }; });
}

}  // namespace meshtrust::cli
