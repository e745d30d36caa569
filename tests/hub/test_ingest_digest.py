"""The ingest digest, hashed record by record, equals the hash of the whole canonical batch."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.registry.ingest import Records, batch_digest
from schemas.canonical import canonicalize

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.floats(allow_nan=False,
    allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
RECORDS = st.lists(st.dictionaries(st.text(max_size=6), JSON, max_size=4), max_size=4)


@settings(max_examples=200, deadline=None)
@given(RECORDS, RECORDS, RECORDS)
def test_batch_digest_is_the_digest_of_the_whole_batch(
    projects: list[dict[str, Any]], blocks: list[dict[str, Any]], batches: list[dict[str, Any]]
) -> None:
    whole = canonicalize({"projects": projects, "blocks": blocks, "batches": batches})
    digest, canonical_blocks = batch_digest(Records(projects=projects, blocks=blocks, batches=batches))
    assert digest == hashlib.sha256(whole).hexdigest()
    assert canonical_blocks == [canonicalize(block) for block in blocks]
