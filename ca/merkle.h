// RFC 6962 Merkle tree hashing over leaves held elsewhere. Every computation reads only
// complete aligned subtrees (cached by the store), so roots and proofs cost O(log n) reads.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "pki/crypto.h"

namespace meshtrust::ca::merkle {

using Hash = pki::Sha256Digest;

Hash leaf_hash(pki::ByteView leaf);                // SHA-256(0x00 || leaf)
Hash node_hash(const Hash& left, const Hash& right);  // SHA-256(0x01 || left || right)
Hash empty_root();                                 // SHA-256("")

// Returns the hash of the complete subtree at `level` covering leaves [index<<level, (index+1)<<level).
using SubtreeReader = std::function<Hash(unsigned level, std::uint64_t index)>;

// MTH(D[0:n]).
Hash root(std::uint64_t n, const SubtreeReader& read);
// PATH(m, D[0:n]) of RFC 6962 §2.1.1; requires m < n.
std::vector<Hash> inclusion_proof(std::uint64_t m, std::uint64_t n, const SubtreeReader& read);
// PROOF(m, D[0:n]) of RFC 6962 §2.1.2; requires 0 < m <= n.
std::vector<Hash> consistency_proof(std::uint64_t m, std::uint64_t n, const SubtreeReader& read);

// RFC 9162 §2.1.3.2.
bool verify_inclusion(std::uint64_t index, std::uint64_t tree_size, const Hash& leaf, const std::vector<Hash>& path,
                      const Hash& root);
// RFC 9162 §2.1.4.2.
bool verify_consistency(std::uint64_t first, std::uint64_t second, const Hash& first_root, const Hash& second_root,
                        const std::vector<Hash>& proof);

// The right edge of a growing tree: the complete subtrees, largest first, that together cover
// every leaf so far. Appending merges equal-sized subtrees; the root folds them right to left.
class CompactRange {
 public:
  CompactRange() = default;
  // The range over the first `size` leaves of a stored tree.
  static CompactRange of(std::uint64_t size, const SubtreeReader& read);

  // Appends a leaf hash; `completed(level, index, hash)` is told of each subtree it completes.
  template <class F>
  void push(const Hash& leaf, F&& completed) {
    Hash h = leaf;
    unsigned level = 0;
    while (!frontier_.empty() && frontier_.back().first == level) {
      h = node_hash(frontier_.back().second, h);
      frontier_.pop_back();
      ++level;
      completed(level, size_ >> level, h);
    }
    frontier_.emplace_back(level, h);
    ++size_;
  }
  void push(const Hash& leaf) {
    push(leaf, [](unsigned, std::uint64_t, const Hash&) {});
  }
  Hash root() const;
  std::uint64_t size() const { return size_; }

 private:
  std::vector<std::pair<unsigned, Hash>> frontier_;
  std::uint64_t size_ = 0;
};

}  // namespace meshtrust::ca::merkle
