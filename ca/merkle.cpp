#include "ca/merkle.h"

#include <bit>
#include <stdexcept>

namespace meshtrust::ca::merkle {

namespace {

// Largest power of two strictly less than n (n >= 2).
std::uint64_t split_point(std::uint64_t n) { return std::bit_floor(n - 1); }

// MTH(D[start:start+size]) where the range either is a complete aligned subtree (one read) or
// splits into a complete left part and a recursively handled right part.
Hash range_hash(std::uint64_t start, std::uint64_t size, const SubtreeReader& read) {
  if (std::has_single_bit(size) && start % size == 0) {
    unsigned level = static_cast<unsigned>(std::countr_zero(size));
    return read(level, start >> level);
  }
  std::uint64_t k = split_point(size);
  return node_hash(range_hash(start, k, read), range_hash(start + k, size - k, read));
}

void path(std::uint64_t m, std::uint64_t start, std::uint64_t n, const SubtreeReader& read, std::vector<Hash>& out) {
  if (n <= 1) return;
  std::uint64_t k = split_point(n);
  if (m < k) {
    path(m, start, k, read, out);
    out.push_back(range_hash(start + k, n - k, read));
  } else {
    path(m - k, start + k, n - k, read, out);
    out.push_back(range_hash(start, k, read));
  }
}

void subproof(std::uint64_t m, std::uint64_t start, std::uint64_t n, bool b, const SubtreeReader& read,
              std::vector<Hash>& out) {
  if (m == n) {
    if (!b) out.push_back(range_hash(start, n, read));
    return;
  }
  std::uint64_t k = split_point(n);
  if (m <= k) {
    subproof(m, start, k, b, read, out);
    out.push_back(range_hash(start + k, n - k, read));
  } else {
    subproof(m - k, start + k, n - k, false, read, out);
    out.push_back(range_hash(start, k, read));
  }
}

}  // namespace

Hash leaf_hash(pki::ByteView leaf) {
  static constexpr std::uint8_t kPrefix = 0x00;
  return pki::sha256({pki::ByteView(&kPrefix, 1), leaf});
}

Hash node_hash(const Hash& left, const Hash& right) {
  static constexpr std::uint8_t kPrefix = 0x01;
  return pki::sha256({pki::ByteView(&kPrefix, 1), left, right});
}

Hash empty_root() { return pki::sha256(pki::ByteView{}); }

Hash root(std::uint64_t n, const SubtreeReader& read) {
  if (n == 0) return empty_root();
  return range_hash(0, n, read);
}

std::vector<Hash> inclusion_proof(std::uint64_t m, std::uint64_t n, const SubtreeReader& read) {
  if (m >= n) throw std::out_of_range("inclusion proof index is not below the tree size");
  std::vector<Hash> out;
  path(m, 0, n, read, out);
  return out;
}

std::vector<Hash> consistency_proof(std::uint64_t m, std::uint64_t n, const SubtreeReader& read) {
  if (m == 0 || m > n) throw std::out_of_range("consistency proof needs 0 < first <= second");
  std::vector<Hash> out;
  subproof(m, 0, n, true, read, out);
  return out;
}

bool verify_inclusion(std::uint64_t index, std::uint64_t tree_size, const Hash& leaf, const std::vector<Hash>& proof,
                      const Hash& root_hash) {
  if (index >= tree_size) return false;
  std::uint64_t fn = index, sn = tree_size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = node_hash(p, r);
      if (!(fn & 1))
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root_hash;
}

bool verify_consistency(std::uint64_t first, std::uint64_t second, const Hash& first_root, const Hash& second_root,
                        const std::vector<Hash>& proof_in) {
  if (first == 0 || first > second) return false;
  if (first == second) return proof_in.empty() && first_root == second_root;
  if (proof_in.empty()) return false;
  std::vector<Hash> proof = proof_in;
  // If first is an exact power of two, prepend first_root (RFC 9162 step 1).
  if (std::has_single_bit(first)) proof.insert(proof.begin(), first_root);
  std::uint64_t fn = first - 1, sn = second - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = proof[0], sr = proof[0];
  for (size_t i = 1; i < proof.size(); ++i) {
    const Hash& c = proof[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      if (!(fn & 1))
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == first_root && sr == second_root && sn == 0;
}

CompactRange CompactRange::of(std::uint64_t size, const SubtreeReader& read) {
  CompactRange r;
  std::uint64_t start = 0;
  for (int bit = 63; bit >= 0; --bit) {
    std::uint64_t span = std::uint64_t{1} << bit;
    if (size & span) {
      r.frontier_.emplace_back(static_cast<unsigned>(bit), read(static_cast<unsigned>(bit), start >> bit));
      start += span;
    }
  }
  r.size_ = size;
  return r;
}

Hash CompactRange::root() const {
  if (frontier_.empty()) return empty_root();
  Hash r = frontier_.back().second;
  for (size_t i = frontier_.size() - 1; i-- > 0;) r = node_hash(frontier_[i].second, r);
  return r;
}


}  // namespace meshtrust::ca::merkle
