"""Chain ids: the identity of a layer together with every layer below it (image-spec)."""

from __future__ import annotations

from collections.abc import Sequence

from porter_specs.digest import Digest, from_bytes


def chain_ids(diff_ids: Sequence[Digest]) -> tuple[Digest, ...]:
    """ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))."""
    result: list[Digest] = []
    for diff_id in diff_ids:
        if not result:
            result.append(diff_id)
        else:
            result.append(from_bytes(f"{result[-1]} {diff_id}".encode()))
    return tuple(result)
