// Audit log at scale: appends N events in batches (durable commits, a signed head per batch),
// then measures filtered queries, inclusion proofs and full verification, and writes every
// leaf's bytes to a file so the caller can time `openssl dgst -sha256` over the same bytes.
//
// usage: audit_bench DIR [EVENTS=1000000] [BATCH=1000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "ca/audit.h"
#include "ca/audit_verify.h"
#include "ca/clock.h"
#include "storage/sqlite_store.h"

using namespace meshtrust;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: audit_bench DIR [EVENTS] [BATCH]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::uint64_t events = argc > 2 ? std::stoull(argv[2]) : 1000000;
  const std::uint64_t batch = argc > 3 ? std::stoull(argv[3]) : 1000;
  const int clusters = 1000;
  storage::SqliteStore store(dir + "/bench.db");
  auto key = pki::PrivateKey::generate({pki::KeySpec::Type::Ec, 256});
  const std::int64_t t0_ms = 1780315200000LL;  // 2026-06-01
  ca::FixedClock clock{ca::TimePoint(std::chrono::milliseconds(t0_ms))};
  std::mt19937_64 rng(42);

  auto start = Clock::now();
  for (std::uint64_t done = 0; done < events;) {
    auto tx = store.begin(ca::Store::Mode::Write);
    ca::AuditWriter writer(tx->audit());
    for (std::uint64_t i = 0; i < batch && done < events; ++i, ++done) {
      char cluster[16], serial[40];
      std::snprintf(cluster, sizeof cluster, "c%04d", static_cast<int>(rng() % clusters));
      std::snprintf(serial, sizeof serial, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                    static_cast<unsigned long long>(rng()));
      ca::AuditEvent e{"local:bench", (done % 3 == 0) ? "intermediate.issue" : "push.attempt", std::string(cluster),
                       std::string(serial), done % 50 != 0,
                       {{"fingerprint_sha256", std::string(serial) + std::string(serial)}, {"profile", "default"}}};
      writer.append(e, clock.now());
      clock.advance(std::chrono::seconds(1));  // 1M events span ~12 days
    }
    writer.sign_head(key, clock.now());
    tx->commit();
  }
  double append_s = ms_since(start) / 1000.0;
  std::printf("append: %llu events in %.2f s = %.0f events/s (batches of %llu, durable commits)\n",
              static_cast<unsigned long long>(events), append_s, static_cast<double>(events) / append_s,
              static_cast<unsigned long long>(batch));

  // Filtered query: one cluster over a one-hour window, first page of 100.
  std::vector<double> q;
  for (int i = 0; i < 1000; ++i) {
    char cluster[16];
    std::snprintf(cluster, sizeof cluster, "c%04d", static_cast<int>(rng() % clusters));
    std::int64_t since = t0_ms + static_cast<std::int64_t>(rng() % events) * 1000;
    ca::AuditFilter f;
    f.cluster = cluster;
    f.since_ms = since;
    f.until_ms = since + 3600 * 1000;
    f.limit = 100;
    auto t = Clock::now();
    auto tx = store.begin(ca::Store::Mode::Read);
    auto page = tx->audit().query(f);
    q.push_back(ms_since(t));
    if (page.size() > 100) return 1;
  }
  std::printf("query (one cluster, one-hour window, limit 100): p50 %.3f ms, p99 %.3f ms\n", percentile(q, 0.5), percentile(q, 0.99));

  std::vector<double> p;
  for (int i = 0; i < 1000; ++i) {
    std::uint64_t idx = rng() % events;
    auto t = Clock::now();
    auto tx = store.begin(ca::Store::Mode::Read);
    auto proof = ca::merkle::inclusion_proof(idx, events, ca::subtree_reader(tx->audit()));
    p.push_back(ms_since(t));
    if (proof.empty()) return 1;
  }
  std::printf("inclusion proof at size %llu: p50 %.3f ms, p99 %.3f ms\n", static_cast<unsigned long long>(events),
              percentile(p, 0.5), percentile(p, 0.99));

  {
    std::ofstream out(dir + "/leaves.bin", std::ios::binary);
    auto tx = store.begin(ca::Store::Mode::Read);
    std::uint64_t bytes = 0;
    tx->audit().scan_leaves([&](std::uint64_t, std::string_view leaf, pki::ByteView) {
      out.write(leaf.data(), static_cast<std::streamsize>(leaf.size()));
      bytes += leaf.size();
      return true;
    });
    std::printf("leaf bytes: %llu (%.1f per event)\n", static_cast<unsigned long long>(bytes),
                static_cast<double>(bytes) / static_cast<double>(events));
  }

  auto v = Clock::now();
  ca::AuditVerifyReport report;
  {
    auto tx = store.begin(ca::Store::Mode::Read);
    report = ca::verify_audit_log(tx->audit(), key.public_key());
  }
  double verify_s = ms_since(v) / 1000.0;
  std::printf("verify: %s, %llu events, %llu heads in %.3f s\n", report.ok ? "ok" : report.problem.c_str(),
              static_cast<unsigned long long>(report.tree_size), static_cast<unsigned long long>(report.heads_checked), verify_s);
  std::printf("RESULT append_eps=%.0f query_p99_ms=%.3f proof_p99_ms=%.3f verify_s=%.3f\n", static_cast<double>(events) / append_s,
              percentile(q, 0.99), percentile(p, 0.99), verify_s);
  return report.ok ? 0 : 1;
}
