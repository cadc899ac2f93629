"""The Merkle tree of portal/domain/merkle.py against RFC 9162's definitions: every size up to
64 exhaustively, larger ones by property, and every proof fails once anything is changed."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain import merkle


def leaves(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


def test_the_hashes_are_rfc_9162_domain_separated():
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.root([]) == hashlib.sha256(b"").digest()
    assert merkle.root([b"x"]) == merkle.leaf_hash(b"x")
    # three leaves: split at 2 (the largest power of two below 3)
    a, b, c = (merkle.leaf_hash(x) for x in (b"a", b"b", b"c"))
    assert merkle.root([b"a", b"b", b"c"]) == merkle.node_hash(merkle.node_hash(a, b), c)


def test_a_known_vector():
    # the empty-leaf tree of one leaf, as in the CT test vectors (SHA-256 of a single 0x00)
    assert merkle.root([b""]).hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")


@pytest.mark.parametrize("n", range(0, 65))
def test_the_frontier_gives_the_same_head_at_every_size(n):
    frontier = merkle.Frontier()
    for i, leaf in enumerate(leaves(n)):
        frontier.append(leaf)
        assert frontier.root() == merkle.root(leaves(i + 1))
    again = merkle.Frontier.from_json(frontier.to_json())
    assert again == frontier and again.root() == merkle.root(leaves(n))


def test_a_damaged_frontier_is_refused():
    with pytest.raises(ValueError):
        merkle.Frontier.from_json({"size": 3, "nodes": ["00" * 32]})


@pytest.mark.parametrize("n", range(1, 34))
def test_every_inclusion_proof_verifies_and_nothing_else_does(n):
    data = leaves(n)
    head = merkle.root(data)
    for i in range(n):
        proof = merkle.inclusion_proof(i, data)
        assert merkle.verify_inclusion(data[i], i, n, proof, head)
        assert not merkle.verify_inclusion(b"forged", i, n, proof, head)
        # (the size itself is bound by the signed checkpoint, not by the path)
        if n > 1:
            assert not merkle.verify_inclusion(data[i], (i + 1) % n, n, proof, head)
            assert not merkle.verify_inclusion(data[i], i, n, proof[:-1], head)
            flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            assert not merkle.verify_inclusion(data[i], i, n, flipped, head)
        assert not merkle.verify_inclusion(data[i], i, n, proof, b"\x00" * 32)
    with pytest.raises(IndexError):
        merkle.inclusion_proof(n, data)


def test_inclusion_rejects_nonsense_without_raising():
    data = leaves(5)
    head = merkle.root(data)
    proof = merkle.inclusion_proof(2, data)
    assert not merkle.verify_inclusion(data[2], -1, 5, proof, head)
    assert not merkle.verify_inclusion(data[2], 2, 0, proof, head)
    assert not merkle.verify_inclusion(data[2], 2, 5, [*proof, b"\x00" * 32], head)
    assert not merkle.verify_inclusion(data[2], 2, 5, [b"short"], head)


@pytest.mark.parametrize("n", range(1, 25))
def test_every_consistency_proof_verifies_and_a_rewritten_prefix_does_not(n):
    data = leaves(n)
    new_root = merkle.root(data)
    for m in range(0, n + 1):
        old_root = merkle.root(data[:m])
        proof = merkle.consistency_proof(m, data)
        assert merkle.verify_consistency(m, n, old_root, new_root, proof), (m, n)
        if 0 < m:
            rewritten = [b"changed", *data[1:]]
            assert not merkle.verify_consistency(
                m, n, old_root, merkle.root(rewritten), proof), (m, n)
            assert not merkle.verify_consistency(m, n, merkle.root(rewritten[:m]), new_root,
                                                 proof) or m == 0
        if 0 < m < n:
            assert not merkle.verify_consistency(m, n, old_root, new_root, proof[:-1])


@given(st.lists(st.binary(max_size=8), min_size=1, max_size=300), st.data())
def test_proofs_hold_for_any_log(data, draw):
    n = len(data)
    i = draw.draw(st.integers(0, n - 1))
    m = draw.draw(st.integers(0, n))
    head = merkle.root(data)
    assert merkle.verify_inclusion(data[i], i, n, merkle.inclusion_proof(i, data), head)
    assert merkle.verify_consistency(m, n, merkle.root(data[:m]), head,
                                     merkle.consistency_proof(m, data))
    frontier = merkle.Frontier()
    for leaf in data:
        frontier.append(leaf)
    assert frontier.root() == head


@given(st.lists(st.binary(max_size=4), min_size=2, max_size=64, unique=True), st.data())
def test_a_proof_never_vouches_for_another_leaf(data, draw):
    n = len(data)
    i = draw.draw(st.integers(0, n - 1))
    j = draw.draw(st.integers(0, n - 1).filter(lambda j: j != i))
    proof = merkle.inclusion_proof(i, data)
    assert not merkle.verify_inclusion(data[j], i, n, proof, merkle.root(data))
