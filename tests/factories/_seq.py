"""One counter for unique URNs, e-mail addresses and references across every factory."""

from __future__ import annotations

import itertools

_seq = itertools.count(1)


def next_number() -> int:
    return next(_seq)
