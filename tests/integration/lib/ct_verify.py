#!/usr/bin/env python3
"""Independent RFC 9162 verifier for meshtrust's audit proofs (standard library only).

usage: ct_verify.py inclusion LEAF_FILE PROOF_JSON HEAD_JSON
       ct_verify.py consistency OLD_HEAD_JSON NEW_HEAD_JSON PROOF_JSON
Exits 0 if the proof verifies, 1 otherwise."""
import hashlib
import json
import sys


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def verify_inclusion(index, size, leaf_hash, path, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second or not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_root] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def main():
    kind = sys.argv[1]
    if kind == "inclusion":
        leaf = open(sys.argv[2], "rb").read()
        proof = json.load(open(sys.argv[3]))
        head = json.load(open(sys.argv[4]))
        leaf_hash = hashlib.sha256(b"\x00" + leaf).digest()
        if leaf_hash.hex() != proof["leaf_hash"]:
            print("leaf hash differs from the proof's", file=sys.stderr)
            return 1
        ok = proof["tree_size"] == head["tree_size"] and verify_inclusion(
            proof["index"], proof["tree_size"], leaf_hash,
            [bytes.fromhex(h) for h in proof["audit_path"]], bytes.fromhex(head["root_hash"]))
    else:
        old = json.load(open(sys.argv[2]))
        new = json.load(open(sys.argv[3]))
        proof = json.load(open(sys.argv[4]))
        ok = verify_consistency(old["tree_size"], new["tree_size"], bytes.fromhex(old["root_hash"]),
                                bytes.fromhex(new["root_hash"]), [bytes.fromhex(h) for h in proof["proof"]])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
