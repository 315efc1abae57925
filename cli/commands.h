// Each command group registers its subcommands on the app. A command parses, calls the
// authority and renders; it holds no rules of its own.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"

namespace meshtrust::cli {

// Set by a command's callback; run after parsing so errors map to exit codes in one place.
using Action = std::function<int(Context&)>;

void add_init_command(CLI::App& app, Action& action);
void add_cluster_commands(CLI::App& app, Action& action);
void add_issue_command(CLI::App& app, Action& action);
void add_export_commands(CLI::App& app, Action& action);  // export, workload
void add_report_commands(CLI::App& app, Action& action);  // certs list, status
void add_audit_commands(CLI::App& app, Action& action);   // audit list, verify, proof, consistency, head
void add_token_commands(CLI::App& app, Action& action);   // token create, list, revoke
void add_push_commands(CLI::App& app, Action& action);    // push, manifest
void add_lifecycle_commands(CLI::App& app, Action& action);  // rotate, revoke, crl, config
void add_root_commands(CLI::App& app, Action& action);    // root rotate start|advance|status|abort
void add_serve_command(CLI::App& app, Action& action);    // serve

}  // namespace meshtrust::cli
