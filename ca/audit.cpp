#include "ca/audit.h"

#include <algorithm>
#include <optional>
#include <ctime>
#include <cstdio>

#include "ca/errors.h"
#include "pki/encoding.h"

namespace meshtrust::ca {

std::string canonical_json(const nlohmann::json& value) {
  // nlohmann::json's default object type is a std::map, so keys come out sorted bytewise at
  // every level; dump() without indent writes no insignificant whitespace. Invalid UTF-8
  // is replaced rather than thrown on, so a hostile value cannot stop an event being written.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string tree_head_message(std::uint64_t tree_size, const pki::Bytes& root_hash, std::int64_t timestamp_ms) {
  return "meshtrust-tree-head-v1\n" + std::to_string(tree_size) + "\n" + pki::to_hex(root_hash) + "\n" +
         std::to_string(timestamp_ms) + "\n";
}

std::string format_rfc3339_ms(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  int ms = static_cast<int>(unix_ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

namespace {
[[noreturn]] void missing_subtree(unsigned level, std::uint64_t index) {
  throw Error(ErrorKind::Storage, "audit log is missing the hash of subtree " + std::to_string(level) + "/" +
                                      std::to_string(index) + "; run 'meshtrust audit verify'");
}
}  // namespace

merkle::SubtreeReader subtree_reader(AuditRepository& repo) {
  return [&repo](unsigned level, std::uint64_t index) {
    if (level > 0 && level < kSubtreeCacheFloor) {
      const std::uint64_t count = std::uint64_t{1} << level;
      auto leaves = repo.leaf_hashes(index << level, count);
      if (leaves.size() != count) missing_subtree(level, index);
      std::vector<merkle::Hash> row;
      for (const auto& l : leaves) {
        if (l.size() != 32) missing_subtree(level, index);
        merkle::Hash h;
        std::copy(l.begin(), l.end(), h.begin());
        row.push_back(h);
      }
      while (row.size() > 1) {
        for (size_t i = 0; i < row.size() / 2; ++i) row[i] = merkle::node_hash(row[2 * i], row[2 * i + 1]);
        row.resize(row.size() / 2);
      }
      return row[0];
    }
    auto h = repo.subtree(level, index);
    if (!h || h->size() != 32)
      throw Error(ErrorKind::Storage, "audit log is missing the hash of subtree " + std::to_string(level) + "/" +
                                          std::to_string(index) + "; run 'meshtrust audit verify'");
    merkle::Hash out;
    std::copy(h->begin(), h->end(), out.begin());
    return out;
  };
}

merkle::Hash tree_root(AuditRepository& repo, std::uint64_t size) { return merkle::root(size, subtree_reader(repo)); }

AuditRecord AuditWriter::append(const AuditEvent& event, TimePoint now) {
  Edge& e = edge();
  AuditRecord rec;
  rec.index = e.range.size();
  // Keep event times non-decreasing along the log even if the clock steps back, so that a
  // time window is an index range.
  rec.time_ms = std::max<std::int64_t>(now.time_since_epoch().count(), e.last_time_ms);
  rec.actor = event.actor;
  rec.action = event.action;
  rec.cluster = event.cluster;
  rec.serial = event.serial;
  rec.outcome = event.success ? "success" : "failure";
  nlohmann::json j = {
      {"index", rec.index},
      {"time", format_rfc3339_ms(rec.time_ms)},
      {"actor", rec.actor},
      {"action", rec.action},
      {"cluster", rec.cluster ? nlohmann::json(*rec.cluster) : nlohmann::json(nullptr)},
      {"serial", rec.serial ? nlohmann::json(*rec.serial) : nlohmann::json(nullptr)},
      {"outcome", rec.outcome},
      {"details", event.details.is_object() ? event.details : nlohmann::json::object()},
  };
  rec.leaf = canonical_json(j);
  merkle::Hash lh = merkle::leaf_hash(pki::as_bytes(rec.leaf));
  rec.leaf_hash.assign(lh.begin(), lh.end());
  repo_.append(rec);
  e.range.push(lh, [&](unsigned level, std::uint64_t index, const merkle::Hash& h) {
    if (level >= kSubtreeCacheFloor) repo_.put_subtree(level, index, pki::Bytes(h.begin(), h.end()));
  });
  e.last_time_ms = rec.time_ms;
  return rec;
}

AuditWriter::Edge& AuditWriter::edge() {
  if (edge_) return *edge_;
  Edge e;
  std::uint64_t size = repo_.size();
  if (size > 0)
    if (auto last = repo_.get(size - 1)) e.last_time_ms = last->time_ms;
  e.range = merkle::CompactRange::of(size, subtree_reader(repo_));
  return edge_.emplace(std::move(e));
}

TreeHead AuditWriter::sign_head(const pki::PrivateKey& audit_key, TimePoint now) {
  TreeHead head;
  const Edge& e = edge();
  head.tree_size = e.range.size();
  merkle::Hash r = e.range.root();
  head.root_hash.assign(r.begin(), r.end());
  head.timestamp_ms = now.time_since_epoch().count();
  head.signature = audit_key.sign_sha256(pki::as_bytes(tree_head_message(head.tree_size, head.root_hash, head.timestamp_ms)));
  repo_.put_head(head);
  return head;
}

}  // namespace meshtrust::ca
