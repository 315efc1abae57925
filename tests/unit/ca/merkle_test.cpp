// The Merkle tree against a reference written straight from RFC 6962 §2.1, over every tree
// size 0..70 and some random larger ones, and the RFC 9162 verifiers against both.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "ca/merkle.h"

using namespace meshtrust;
using ca::merkle::Hash;

namespace {

// ---- Reference: RFC 6962 §2.1, literally, over an in-memory list of leaves. ----
Hash ref_mth(const std::vector<std::string>& d, size_t lo, size_t hi) {
  size_t n = hi - lo;
  if (n == 0) return pki::sha256(pki::ByteView{});
  if (n == 1) {
    std::string buf = std::string(1, '\0') + d[lo];
    return pki::sha256(pki::as_bytes(buf));
  }
  size_t k = 1;
  while (k * 2 < n) k *= 2;  // largest power of two smaller than n
  Hash l = ref_mth(d, lo, lo + k), r = ref_mth(d, lo + k, hi);
  std::string buf = std::string(1, '\1') + std::string(l.begin(), l.end()) + std::string(r.begin(), r.end());
  return pki::sha256(pki::as_bytes(buf));
}

void ref_path(const std::vector<std::string>& d, size_t m, size_t lo, size_t hi, std::vector<Hash>& out) {
  size_t n = hi - lo;
  if (n <= 1) return;
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  if (m < k) {
    ref_path(d, m, lo, lo + k, out);
    out.push_back(ref_mth(d, lo + k, hi));
  } else {
    ref_path(d, m - k, lo + k, hi, out);
    out.push_back(ref_mth(d, lo, lo + k));
  }
}

void ref_subproof(const std::vector<std::string>& d, size_t m, size_t lo, size_t hi, bool b, std::vector<Hash>& out) {
  size_t n = hi - lo;
  if (m == n) {
    if (!b) out.push_back(ref_mth(d, lo, hi));
    return;
  }
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  if (m <= k) {
    ref_subproof(d, m, lo, lo + k, b, out);
    out.push_back(ref_mth(d, lo + k, hi));
  } else {
    ref_subproof(d, m - k, lo + k, hi, false, out);
    out.push_back(ref_mth(d, lo, lo + k));
  }
}

// ---- The implementation under test, fed through its append path like the store does. ----
struct Tree {
  std::vector<std::string> leaves;
  std::map<std::pair<unsigned, std::uint64_t>, Hash> nodes;
  ca::merkle::CompactRange range;

  void append(const std::string& leaf) {
    Hash h = ca::merkle::leaf_hash(pki::as_bytes(leaf));
    std::uint64_t i = leaves.size();
    leaves.push_back(leaf);
    nodes[{0, i}] = h;
    range.push(h, [this](unsigned level, std::uint64_t index, const Hash& node) { nodes[{level, index}] = node; });
  }
  ca::merkle::SubtreeReader reader() {
    return [this](unsigned level, std::uint64_t index) {
      auto it = nodes.find({level, index});
      REQUIRE_MESSAGE(it != nodes.end(), "missing subtree " << level << "/" << index);
      return it->second;
    };
  }
};

std::string leaf_text(size_t i) { return "{\"index\":" + std::to_string(i) + "}"; }

}  // namespace

TEST_CASE("ca.merkle: roots, inclusion and consistency proofs match RFC 6962 for sizes 0..70") {
  Tree t;
  CHECK(ca::merkle::root(0, t.reader()) == pki::sha256(pki::ByteView{}));
  for (size_t n = 1; n <= 70; ++n) {
    t.append(leaf_text(n - 1));
    Hash root = ca::merkle::root(n, t.reader());
    REQUIRE(root == ref_mth(t.leaves, 0, n));
    for (size_t m = 0; m < n; ++m) {
      std::vector<Hash> expected;
      ref_path(t.leaves, m, 0, n, expected);
      auto proof = ca::merkle::inclusion_proof(m, n, t.reader());
      REQUIRE(proof == expected);
      Hash leaf = ca::merkle::leaf_hash(pki::as_bytes(t.leaves[m]));
      REQUIRE(ca::merkle::verify_inclusion(m, n, leaf, proof, root));
    }
    for (size_t m = 1; m <= n; ++m) {
      std::vector<Hash> expected;
      ref_subproof(t.leaves, m, 0, n, true, expected);
      auto proof = ca::merkle::consistency_proof(m, n, t.reader());
      REQUIRE(proof == expected);
      REQUIRE(ca::merkle::verify_consistency(m, n, ref_mth(t.leaves, 0, m), root, proof));
    }
  }
}

TEST_CASE("ca.merkle: random larger trees agree with the reference") {
  std::mt19937_64 rng(6962);
  for (size_t n : {127u, 128u, 129u, 1000u, 1025u}) {
    Tree t;
    for (size_t i = 0; i < n; ++i) t.append(leaf_text(i) + std::to_string(rng()));
    Hash root = ca::merkle::root(n, t.reader());
    REQUIRE(root == ref_mth(t.leaves, 0, n));
    for (int k = 0; k < 20; ++k) {
      size_t m = rng() % n;
      std::vector<Hash> expected;
      ref_path(t.leaves, m, 0, n, expected);
      REQUIRE(ca::merkle::inclusion_proof(m, n, t.reader()) == expected);
      size_t first = 1 + rng() % n;
      std::vector<Hash> cexp;
      ref_subproof(t.leaves, first, 0, n, true, cexp);
      auto cp = ca::merkle::consistency_proof(first, n, t.reader());
      REQUIRE(cp == cexp);
      REQUIRE(ca::merkle::verify_consistency(first, n, ref_mth(t.leaves, 0, first), root, cp));
    }
  }
}

TEST_CASE("ca.merkle: verifiers reject altered proofs, leaves, roots and sizes") {
  Tree t;
  for (size_t i = 0; i < 23; ++i) t.append(leaf_text(i));
  Hash root = ca::merkle::root(23, t.reader());
  Hash leaf = ca::merkle::leaf_hash(pki::as_bytes(t.leaves[5]));
  auto proof = ca::merkle::inclusion_proof(5, 23, t.reader());
  REQUIRE(ca::merkle::verify_inclusion(5, 23, leaf, proof, root));

  auto bad = proof;
  bad[1][0] ^= 1;
  CHECK_FALSE(ca::merkle::verify_inclusion(5, 23, leaf, bad, root));
  CHECK_FALSE(ca::merkle::verify_inclusion(6, 23, leaf, proof, root));
  // (A size of 17..31 has the same path shape for index 5; the signed head binds the size.)
  CHECK_FALSE(ca::merkle::verify_inclusion(5, 16, leaf, proof, root));
  CHECK_FALSE(ca::merkle::verify_inclusion(5, 40, leaf, proof, root));
  CHECK_FALSE(ca::merkle::verify_inclusion(23, 23, leaf, proof, root));
  auto shorter = proof;
  shorter.pop_back();
  CHECK_FALSE(ca::merkle::verify_inclusion(5, 23, leaf, shorter, root));
  Hash other = ca::merkle::leaf_hash(pki::as_bytes(t.leaves[6]));
  CHECK_FALSE(ca::merkle::verify_inclusion(5, 23, other, proof, root));

  Hash old_root = ca::merkle::root(11, t.reader());
  auto cp = ca::merkle::consistency_proof(11, 23, t.reader());
  REQUIRE(ca::merkle::verify_consistency(11, 23, old_root, root, cp));
  auto cbad = cp;
  cbad.back()[3] ^= 0x80;
  CHECK_FALSE(ca::merkle::verify_consistency(11, 23, old_root, root, cbad));
  CHECK_FALSE(ca::merkle::verify_consistency(12, 23, old_root, root, cp));
  CHECK_FALSE(ca::merkle::verify_consistency(11, 23, root, root, cp));
  CHECK_FALSE(ca::merkle::verify_consistency(0, 23, old_root, root, cp));
  CHECK_FALSE(ca::merkle::verify_consistency(11, 23, old_root, root, {}));
  CHECK(ca::merkle::verify_consistency(23, 23, root, root, {}));
}

TEST_CASE("ca.merkle: proofs for out-of-range arguments are refused") {
  Tree t;
  t.append("a");
  CHECK_THROWS(ca::merkle::inclusion_proof(1, 1, t.reader()));
  CHECK_THROWS(ca::merkle::consistency_proof(0, 1, t.reader()));
  CHECK_THROWS(ca::merkle::consistency_proof(2, 1, t.reader()));
}
