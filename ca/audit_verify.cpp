#include "ca/audit_verify.h"

#include <algorithm>
#include <charconv>
#include <array>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "ca/audit.h"
#include "ca/merkle.h"

namespace meshtrust::ca {

namespace {

using merkle::Hash;

// Keeps the most telling problem. Direct evidence on an event (its hash, its position, a gap)
// names it exactly; a wrong cached subtree names a range (the lowest level is the narrowest);
// a head that does not match names only its size. Within a kind, the lowest index wins.
struct Findings {
  enum Kind { Event = 0, Subtree = 1, Head = 2 };
  AuditVerifyReport& report;
  std::tuple<int, unsigned, std::uint64_t> best{3, 0, 0};
  void add(std::uint64_t index, const std::string& problem, Kind kind = Event, unsigned level = 0) {
    std::tuple<int, unsigned, std::uint64_t> key{kind, level, index};
    if (report.ok || key < best) {
      best = key;
      report.ok = false;
      report.first_bad_index = index;
      report.problem = problem;
    }
  }
};

// The index an event's leaf claims. Keys are sorted and only "details" nests, so the last
// `,"index":` in the leaf is the top-level one (quotes inside strings are escaped).
std::optional<std::uint64_t> claimed_index(std::string_view leaf) {
  static constexpr std::string_view kKey = ",\"index\":";
  size_t pos = leaf.rfind(kKey);
  if (pos == std::string_view::npos) return std::nullopt;
  const char* begin = leaf.data() + pos + kKey.size();
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(begin, leaf.data() + leaf.size(), v);
  if (ec != std::errc() || ptr == begin) return std::nullopt;
  return v;
}

// Rebuilds the tree from the leaves, remembering every cached-size subtree it completes so
// the stored cache can be compared afterwards.
class Recomputer {
 public:
  void push(const Hash& leaf) {
    range_.push(leaf, [this](unsigned level, std::uint64_t index, const Hash& h) {
      if (level < kSubtreeCacheFloor) return;
      if (completed_.size() <= level) completed_.resize(level + 1);
      (void)index;  // subtrees complete in index order at each level
      completed_[level].push_back(h);
    });
  }
  Hash root() const { return range_.root(); }
  std::uint64_t size() const { return range_.size(); }
  const Hash* completed(unsigned level, std::uint64_t index) const {
    if (level >= completed_.size() || index >= completed_[level].size()) return nullptr;
    return &completed_[level][index];
  }

 private:
  merkle::CompactRange range_;
  std::vector<std::vector<Hash>> completed_;
};

}  // namespace

namespace {

// Leaves travel from the scanning thread to the hashing thread in chunks, so that SQLite's row
// decoding and SHA-256 run on two cores at once.
struct LeafChunk {
  struct Entry {
    std::uint64_t index;
    size_t offset, length;
    std::array<std::uint8_t, 32> stored_hash;
    bool stored_hash_ok;  // the stored hash had the right length
  };
  std::string bytes;
  std::vector<Entry> entries;
};

class ChunkQueue {
 public:
  void push(LeafChunk chunk) {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return queue_.size() < kDepth || stopped_; });
    queue_.push_back(std::move(chunk));
    ready_.notify_one();
  }
  std::optional<LeafChunk> pop() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return std::nullopt;
    LeafChunk c = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    return c;
  }
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    ready_.notify_all();
  }
  void stop() {  // the consumer has seen enough
    std::lock_guard lock(mu_);
    stopped_ = true;
    space_.notify_all();
  }
  bool stopped() {
    std::lock_guard lock(mu_);
    return stopped_;
  }

 private:
  static constexpr size_t kDepth = 4;
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<LeafChunk> queue_;
  bool closed_ = false, stopped_ = false;
};

}  // namespace

AuditVerifyReport verify_audit_log(AuditRepository& repo, const pki::PublicKey& audit_key) {
  AuditVerifyReport report;
  Findings findings{report};
  std::vector<TreeHead> heads = repo.heads();
  size_t next_head = 0;
  Recomputer tree;

  auto check_head = [&](const TreeHead& h) {
    ++report.heads_checked;
    Hash r = tree.root();
    std::uint64_t at = h.tree_size == 0 ? 0 : h.tree_size - 1;
    if (h.root_hash.size() != r.size() || !std::equal(r.begin(), r.end(), h.root_hash.begin()))
      findings.add(at, "the signed tree head for size " + std::to_string(h.tree_size) +
                           " does not match the stored events (events before it were altered, removed or reordered)",
                   Findings::Head);
    else if (!pki::verify_sha256(audit_key, pki::as_bytes(tree_head_message(h.tree_size, h.root_hash, h.timestamp_ms)), h.signature))
      findings.add(at, "the signature on the tree head for size " + std::to_string(h.tree_size) + " does not verify",
                   Findings::Head);
  };
  while (next_head < heads.size() && heads[next_head].tree_size == 0) check_head(heads[next_head++]);

  // Hashing thread: checks each leaf against its stored hash and position, rebuilds the tree
  // and checks each head as the log reaches its size.
  ChunkQueue queue;
  std::uint64_t expected = 0;
  std::jthread hasher([&] {
    while (auto chunk = queue.pop()) {
      for (const auto& e : chunk->entries) {
        if (e.index != expected) {
          findings.add(expected, "event " + std::to_string(expected) + " is missing (the next stored event is " +
                                     std::to_string(e.index) + ")");
          queue.stop();  // positions after a gap cannot be checked against the heads
          while (queue.pop()) {
          }
          return;
        }
        std::string_view leaf(chunk->bytes.data() + e.offset, e.length);
        Hash h = merkle::leaf_hash(pki::as_bytes(leaf));
        if (!e.stored_hash_ok || std::memcmp(e.stored_hash.data(), h.data(), h.size()) != 0)
          findings.add(e.index, "event " + std::to_string(e.index) + " does not match its stored leaf hash (it was altered)");
        auto claimed = claimed_index(leaf);
        if (!claimed || *claimed != e.index)
          findings.add(e.index, "the event stored at position " + std::to_string(e.index) + " names index " +
                                    (claimed ? std::to_string(*claimed) : std::string("none")) + " (events were moved)");
        tree.push(h);
        ++expected;
        while (next_head < heads.size() && heads[next_head].tree_size == expected) check_head(heads[next_head++]);
      }
    }
  });

  // This thread: the SQLite scans (the connection stays on its own thread).
  constexpr size_t kChunkEvents = 4096;
  LeafChunk chunk;
  try {
    repo.scan_leaves([&](std::uint64_t index, std::string_view leaf, pki::ByteView stored) {
      LeafChunk::Entry e{index, chunk.bytes.size(), leaf.size(), {}, stored.size() == 32};
      if (e.stored_hash_ok) std::memcpy(e.stored_hash.data(), stored.data(), 32);
      chunk.bytes.append(leaf);
      chunk.entries.push_back(e);
      if (chunk.entries.size() == kChunkEvents) {
        queue.push(std::move(chunk));
        chunk = LeafChunk{};
        if (queue.stopped()) return false;
      }
      return true;
    });
    if (!chunk.entries.empty()) queue.push(std::move(chunk));
  } catch (...) {
    queue.stop();
    queue.close();
    throw;
  }
  queue.close();
  // While the hasher finishes, read the cached subtrees.
  struct Cached {
    unsigned level;
    std::uint64_t index;
    std::array<std::uint8_t, 32> hash;
    bool ok;
  };
  std::vector<Cached> cached;
  repo.scan_subtrees([&](unsigned level, std::uint64_t index, pki::ByteView hash) {
    Cached c{level, index, {}, hash.size() == 32};
    if (c.ok) std::memcpy(c.hash.data(), hash.data(), 32);
    cached.push_back(c);
    return true;
  });
  hasher.join();
  report.tree_size = expected;

  if (next_head < heads.size())
    findings.add(expected, "a signed tree head covers " + std::to_string(heads.back().tree_size) + " events but only " +
                               std::to_string(expected) + " are stored (the log was truncated)");
  else if (heads.empty() ? expected > 0 : heads.back().tree_size < expected)
    findings.add(heads.empty() ? 0 : heads.back().tree_size,
                 "events from index " + std::to_string(heads.empty() ? 0 : heads.back().tree_size) +
                     " on are not covered by any signed tree head");

  // Cached subtree hashes serve proofs; a wrong or missing one would make proofs lie or fail.
  std::vector<std::uint64_t> next_index;  // per level, the next cached index expected
  auto missing = [&](unsigned level, std::uint64_t index) {
    findings.add(index << level, "the cached hash of events " + std::to_string(index << level) + ".." +
                                     std::to_string(((index + 1) << level) - 1) + " is missing",
                 Findings::Subtree, level);
  };
  for (const auto& c : cached) {
    const unsigned level = c.level;
    const std::uint64_t index = c.index;
    if (next_index.size() <= level) next_index.resize(level + 1, 0);
    if (index > next_index[level] && tree.completed(level, next_index[level])) missing(level, next_index[level]);
    next_index[level] = index + 1;
    const Hash* want = level >= kSubtreeCacheFloor ? tree.completed(level, index) : nullptr;
    std::uint64_t first_leaf = index << level;
    if (!want) {
      if (first_leaf < expected)
        findings.add(first_leaf, "a cached subtree hash (level " + std::to_string(level) + ") does not belong to the log",
                     Findings::Subtree, level);
      continue;
    }
    if (!c.ok || std::memcmp(c.hash.data(), want->data(), want->size()) != 0)
      findings.add(first_leaf, "the cached hash of events " + std::to_string(first_leaf) + ".." +
                                   std::to_string(first_leaf + (std::uint64_t{1} << level) - 1) +
                                   " differs from the events (an event or the cache was altered)",
                   Findings::Subtree, level);
  }
  for (unsigned level = kSubtreeCacheFloor;; ++level) {
    std::uint64_t have = level < next_index.size() ? next_index[level] : 0;
    if (!tree.completed(level, 0)) break;
    if (tree.completed(level, have)) missing(level, have);
  }
  return report;
}

}  // namespace meshtrust::ca
