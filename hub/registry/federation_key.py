"""The federation's pseudonymization key (HMAC-SHA256), shared by the platforms' adapters.

Kept in a file readable only by its owner (``PUHUI_FEDERATION_KEY_FILE``, default
``$PUHUI_DATA_DIR/federation.key``), created on first use. Platforms receive it out of band and
pseudonymize on their side (``puhui import``); the hub uses it only for formats that carry no
personal identifiers (e.g. to hash an owner's unified social credit code).
"""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path

from adapters.privacy import Pseudonymizer
from hub.keystore import write_private_file


def federation_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process created it first
            write_private_file(path, secrets.token_hex(32))
    if path.stat().st_mode & 0o077:
        raise PermissionError(f"{path} is readable by others; chmod 600 it")
    return bytes.fromhex(path.read_text("ascii").strip())


def pseudonymizer(path: Path) -> Pseudonymizer:
    return Pseudonymizer(federation_key(path))


__all__ = ["federation_key", "pseudonymizer"]
