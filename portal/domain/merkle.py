"""A Merkle tree over a log, as RFC 9162 (Certificate Transparency 2.0) defines it.

SHA-256; a leaf's hash is ``SHA-256(0x00 || leaf)`` and an interior node's is
``SHA-256(0x01 || left || right)``, so a leaf can never pass for a node. The tree of ``n``
leaves splits at the largest power of two below ``n`` (RFC 9162, section 2.1.1).

- :func:`root` is the tree head of a list of leaves; :class:`Frontier` keeps the same head
  while leaves are appended one at a time, in O(log n) space (what a log's head row stores).
- :func:`inclusion_proof` / :func:`verify_inclusion`: the audit path of one leaf (2.1.3).
- :func:`consistency_proof` / :func:`verify_consistency`: that a tree of ``m`` leaves is a
  prefix of the tree of ``n`` (2.1.4), so a later checkpoint extends an earlier one.

Leaves and hashes are bytes; helpers take and give hex where the database keeps hex.
Standard library only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

#: The head of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes]) -> bytes:
    """The tree head of leaf hashes (already hashed with :func:`leaf_hash`)."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 for these leaves (raw leaf data, not yet hashed)."""
    return _mth([leaf_hash(x) for x in leaves])


@dataclass
class Frontier:
    """The right edge of a growing tree: one perfect subtree per 1-bit of ``size``.

    ``nodes`` holds the roots of those subtrees, largest (leftmost) first. Appending merges
    equal-sized subtrees like a binary counter; :meth:`root` folds them right to left, which
    gives exactly the RFC 9162 head for ``size`` leaves.
    """

    size: int = 0
    nodes: list[bytes] = field(default_factory=list)

    def append(self, leaf: bytes) -> None:
        node = leaf_hash(leaf)
        self.size += 1
        # a subtree is complete for every trailing 0-bit of the new size
        done = self.size
        while done % 2 == 0:
            node = node_hash(self.nodes.pop(), node)
            done //= 2
        self.nodes.append(node)

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        out = self.nodes[-1]
        for node in reversed(self.nodes[:-1]):
            out = node_hash(node, out)
        return out

    # stored as JSON in the log's head row
    def to_json(self) -> dict:
        return {"size": self.size, "nodes": [n.hex() for n in self.nodes]}

    @classmethod
    def from_json(cls, data: dict | None) -> Frontier:
        if not data:
            return cls()
        frontier = cls(int(data["size"]), [bytes.fromhex(n) for n in data["nodes"]])
        if len(frontier.nodes) != bin(frontier.size).count("1"):
            raise ValueError("a frontier has one node per 1-bit of its size")
        return frontier


def _path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    n = len(hashes)
    if n <= 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, hashes[:k]), _mth(hashes[k:])]
    return [*_path(m - k, hashes[k:]), _mth(hashes[:k])]


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf ``index`` (0-based) in the tree of ``leaves``."""
    if not 0 <= index < len(leaves):
        raise IndexError("leaf index outside the tree")
    return _path(index, [leaf_hash(x) for x in leaves])


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                     root_hash: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: does ``proof`` put ``leaf`` at ``index`` of the tree of
    ``size`` leaves whose head is ``root_hash``? Never raises for bad input."""
    if not (isinstance(index, int) and isinstance(size, int)) or not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in proof:
        if not isinstance(p, bytes) or len(p) != 32 or sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def _subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [_mth(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], whole), _mth(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), _mth(hashes[:k])]


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): the tree of the first ``old_size`` leaves is a prefix of this one."""
    if not 0 <= old_size <= len(leaves):
        raise IndexError("old size outside the tree")
    if old_size in (0, len(leaves)):
        return []
    return _subproof(old_size, [leaf_hash(x) for x in leaves], True)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2. Never raises for bad input."""
    if not (isinstance(old_size, int) and isinstance(new_size, int)):
        return False
    if not 0 <= old_size <= new_size:
        return False
    if any(not isinstance(p, bytes) or len(p) != 32 for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # the empty tree is a prefix of every tree
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
