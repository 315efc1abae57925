// meshtrust: a certificate authority and trust distribution for multi-cluster Istio meshes.
// Exit status: 0 success, 1 failure (one sentence on stderr), 2 usage error.
#include <iostream>

#include <CLI/CLI.hpp>

#include "ca/errors.h"
#include "cli/commands.h"
#include "kube/errors.h"
#include "pki/error.h"

using namespace meshtrust;

int main(int argc, char** argv) {
  CLI::App app{"meshtrust: the mesh's root CA, per-cluster intermediates and their delivery", "meshtrust"};
  app.require_subcommand(1);
  cli::GlobalOptions options;
  app.add_option("--server", options.server, "Run against this meshtrust server (https://host:port) instead of a data dir");
  app.add_option("--token", options.token, "Bearer token for --server (else env MESHTRUST_TOKEN)");
  app.add_option("--ca-file", options.ca_file, "CA to verify --server with (e.g. the mesh's root-cert.pem)");
  app.add_option("--client-cert", options.client_cert, "Client certificate for --server (mutual TLS; instead of --token)");
  app.add_option("--client-key", options.client_key, "The key of --client-cert (PEM)");
  app.add_option("--data-dir", options.data_dir, "Data directory (default ./meshtrust-data, env MESHTRUST_DATA_DIR)");
  app.add_option("--output", options.output, "Output format: text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--passphrase-file", options.passphrase_file, "File holding the key passphrase (else env MESHTRUST_PASSPHRASE)");

  cli::Action action;
  cli::add_init_command(app, action);
  cli::add_cluster_commands(app, action);
  cli::add_issue_command(app, action);
  cli::add_export_commands(app, action);
  cli::add_report_commands(app, action);
  cli::add_audit_commands(app, action);
  cli::add_token_commands(app, action);
  cli::add_push_commands(app, action);
  cli::add_lifecycle_commands(app, action);
  cli::add_root_commands(app, action);
  cli::add_serve_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << " (see 'meshtrust --help')\n";
    return 2;
  }

  try {
    cli::Context ctx(options);
    return action ? action(ctx) : 2;
  } catch (const ca::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
  } catch (const pki::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
  } catch (const kube::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "error: unexpected failure: " << e.what() << "\n";
  }
  return 1;
}
