"""What the C2SP routes answer: media types, cache headers, and the OpenAPI components that type
their (non-JSON) bodies."""

from __future__ import annotations

from typing import Any

from hub.records import MARKER

NO_CHECKPOINT = "7011"
TILE_MEDIA_TYPE = "application/octet-stream"
PROOF_MEDIA_TYPE = "text/plain"
# tlog-tiles: the checkpoint is mutable ("SHOULD prevent caching beyond a few seconds"); tiles,
# full and partial, never change once served
CHECKPOINT_CACHE = "public, max-age=2"
TILE_CACHE = "public, max-age=31536000, immutable"

MEDIA_COMPONENTS: dict[str, dict[str, Any]] = {
    "SignedNote": {
        "type": "string",
        "description": "A signed note (c2sp.org/signed-note): here a checkpoint (c2sp.org/tlog-checkpoint),"
        " the log's Ed25519 signatures then the witnesses' cosignatures (c2sp.org/tlog-cosignature).",
    },
    "TileBytes": {
        "type": "string",
        "format": "binary",
        "description": "A hash tile (concatenated SHA-256 hashes) or an entry bundle (uint16 big-endian"
        " length-prefixed entries), c2sp.org/tlog-tiles.",
    },
    "TlogPolicy": {
        "type": "string",
        "description": "A trust policy (c2sp.org/tlog-policy): log, witness, group and quorum lines.",
    },
    "TlogProof": {
        "type": "string",
        "description": "An offline inclusion proof (c2sp.org/tlog-proof): extra (the entry), index, the"
        " inclusion path, a blank line and the cosigned checkpoint.",
    },
}


def content(media_type: str, component: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route answering ``media_type`` typed by one of ``MEDIA_COMPONENTS``."""
    assert component in MEDIA_COMPONENTS
    return {200: {"content": {media_type: {"schema": {MARKER: component}}}}}
