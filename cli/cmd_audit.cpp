#include <cstdio>
#include <ctime>
#include <iostream>

#include "ca/audit.h"
#include "ca/errors.h"
#include "ca/names.h"
#include "cli/commands.h"
#include "cli/render.h"
#include "pki/encoding.h"

namespace meshtrust::cli {

namespace {

struct ListArgs {
  std::string since, until, actor, action, cluster, serial, outcome, cursor;
  unsigned limit = 100;
};

struct ProofArgs {
  std::int64_t index = -1, tree_size = -1, first = -1, second = -1;
};

// RFC 3339 UTC ("2026-11-22T10:00:00Z", optional .mmm) or a date ("2026-11-22"), to unix ms.
std::int64_t parse_time(const std::string& text, const std::string& what) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0, n = 0;
  bool ok = false;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi, &s, &ms, &n) == 7 && text.size() == size_t(n))
    ok = true;
  else if (ms = 0; std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &n) == 6 && text.size() == size_t(n))
    ok = true;
  else if (h = mi = s = 0; std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && text.size() == size_t(n))
    ok = true;
  if (!ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    throw ca::invalid(what + " " + ca::quoted(text) + " is not a UTC time like 2026-11-22T10:00:00Z or a date like 2026-11-22");
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

std::uint64_t parse_cursor(const std::string& c) {
  std::uint64_t v = 0;
  if (c.empty() || c.size() > 19 || c.find_first_not_of("0123456789") != std::string::npos)
    throw ca::invalid("cursor " + ca::quoted(c) + " is not one this server gave out");
  for (char ch : c) v = v * 10 + static_cast<std::uint64_t>(ch - '0');
  return v;
}

int run_list(Context& ctx, const ListArgs& a) {
  ca::AuditFilter f;
  if (!a.since.empty()) f.since_ms = parse_time(a.since, "--since");
  if (!a.until.empty()) f.until_ms = parse_time(a.until, "--until");
  auto opt = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); };
  f.actor = opt(a.actor);
  f.action = opt(a.action);
  f.cluster = opt(a.cluster);
  f.serial = opt(a.serial);
  f.outcome = opt(a.outcome);
  if (!a.cursor.empty()) f.after_index = parse_cursor(a.cursor);
  f.limit = a.limit;
  auto page = ctx.backend().audit_events(f);
  const auto& events = page.events;
  const auto& next = page.next_cursor;
  if (ctx.output() == OutputFormat::Json) {
    for (const auto& e : events) {
      auto j = nlohmann::json::parse(e.leaf);
      j["leaf"] = e.leaf;
      std::cout << j.dump() << "\n";
    }
  } else {
    Table t({"INDEX", "TIME", "ACTOR", "ACTION", "CLUSTER", "SERIAL", "OUTCOME"});
    for (const auto& e : events)
      t.add({std::to_string(e.index), ca::format_rfc3339_ms(e.time_ms), e.actor, e.action, e.cluster.value_or("-"),
             e.serial.value_or("-"), e.outcome});
    t.print(std::cout);
  }
  if (next) std::cerr << "more events: continue with --cursor " << *next << "\n";
  return 0;
}

nlohmann::json hex_list(const std::vector<pki::Bytes>& hs) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& h : hs) arr.push_back(pki::to_hex(h));
  return arr;
}

}  // namespace

void add_audit_commands(CLI::App& app, Action& action) {
  auto* group = app.add_subcommand("audit", "Query and verify the tamper-evident audit log");
  group->require_subcommand(1);

  auto l = std::make_shared<ListArgs>();
  auto* list = group->add_subcommand("list", "List events (oldest first)");
  list->add_option("--since", l->since, "Events at or after this UTC time");
  list->add_option("--until", l->until, "Events before this UTC time");
  list->add_option("--actor", l->actor, "e.g. local:alice, cluster:c1");
  list->add_option("--action", l->action, "e.g. intermediate.issue");
  list->add_option("--cluster", l->cluster, "Cluster name");
  list->add_option("--serial", l->serial, "Certificate serial (hex)");
  list->add_option("--outcome", l->outcome, "success or failure")->check(CLI::IsMember({"success", "failure"}));
  list->add_option("--limit", l->limit, "Events per page (1-1000, default 100)");
  list->add_option("--cursor", l->cursor, "Continue from a previous page");
  list->callback([&action, l] { action = [l](Context& ctx) { return run_list(ctx, *l); }; });

  auto* verify = group->add_subcommand("verify", "Recompute every leaf hash, the tree and every signed head");
  verify->callback([&action] {
    action = [](Context& ctx) {
      auto r = ctx.backend().verify_audit();
      if (ctx.output() == OutputFormat::Json) {
        std::cout << nlohmann::json{{"ok", r.ok},
                                    {"tree_size", r.tree_size},
                                    {"heads_checked", r.heads_checked},
                                    {"first_bad_index", r.first_bad_index ? nlohmann::json(*r.first_bad_index) : nlohmann::json(nullptr)},
                                    {"problem", r.ok ? nlohmann::json(nullptr) : nlohmann::json(r.problem)}}
                         .dump()
                  << "\n";
      } else if (r.ok) {
        std::cout << "audit log verified: " << r.tree_size << " events, " << r.heads_checked << " signed tree heads\n";
      }
      if (!r.ok) {
        std::cerr << "error: audit log verification failed at index " << *r.first_bad_index << ": " << r.problem << "\n";
        return 1;
      }
      return 0;
    };
  });

  auto p = std::make_shared<ProofArgs>();
  auto* proof = group->add_subcommand("proof", "Inclusion proof of one event in the tree (JSON)");
  proof->add_option("--index", p->index, "Event index")->required()->check(CLI::NonNegativeNumber);
  proof->add_option("--tree-size", p->tree_size, "Tree size (default: the latest signed head's)")->check(CLI::PositiveNumber);
  proof->callback([&action, p] {
    action = [p](Context& ctx) {
      auto r = ctx.backend().audit_inclusion(static_cast<std::uint64_t>(p->index),
                                               p->tree_size > 0 ? std::optional<std::uint64_t>(p->tree_size) : std::nullopt);
      std::cout << nlohmann::json{{"index", r.index},
                                  {"tree_size", r.tree_size},
                                  {"leaf_hash", pki::to_hex(r.leaf_hash)},
                                  {"audit_path", hex_list(r.audit_path)}}
                       .dump()
                << "\n";
      return 0;
    };
  });

  auto* consistency = group->add_subcommand("consistency", "Consistency proof between two tree sizes (JSON)");
  consistency->add_option("--first", p->first, "Earlier tree size")->required()->check(CLI::PositiveNumber);
  consistency->add_option("--second", p->second, "Later tree size")->required()->check(CLI::PositiveNumber);
  consistency->callback([&action, p] {
    action = [p](Context& ctx) {
      auto r = ctx.backend().audit_consistency(static_cast<std::uint64_t>(p->first), static_cast<std::uint64_t>(p->second));
      std::cout << nlohmann::json{{"first", r.first}, {"second", r.second}, {"proof", hex_list(r.proof)}}.dump() << "\n";
      return 0;
    };
  });

  auto* head = group->add_subcommand("head", "The latest signed tree head (JSON)");
  head->callback([&action] {
    action = [](Context& ctx) {
      std::cout << ca::to_json(ctx.backend().audit_head()).dump() << "\n";
      return 0;
    };
  });

  auto* key = group->add_subcommand("public-key", "The audit signing key (PEM), to verify tree heads with");
  key->callback([&action] {
    action = [](Context& ctx) {
      std::cout << ctx.backend().audit_public_key_pem();
      return 0;
    };
  });
}

}  // namespace meshtrust::cli
