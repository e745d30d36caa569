"""What the console shows to vouch for a certificate: the signature checked against the hub's
published keys, and the log entry it names proven included in the current tree."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from hub.keystore import KeyStore
from hub.log.reader import LogReader
from hub.recognition.certificates import certificate_digest
from hub.recognition.models import Recognition
from schemas.jwk import JWKSet
from schemas.jws import JWSError, verify_record
from transparency import leaf_hash, verify_inclusion


def certificate_verification(session: Session, keystore: KeyStore, item: Recognition) -> dict[str, Any]:
    result: dict[str, Any] = {
        "signature": False,
        "kid": None,
        "logged": False,
        "included": False,
        "log_index": None,
        "tree_size": None,
        "root": None,
        "error": None,
    }
    try:
        verified = verify_record(item.certificate_jws or "", JWKSet.from_dict(keystore.jwks()))
        result["signature"], result["kid"] = verified.json() == item.certificate, verified.kid
    except JWSError as exc:
        result["error"] = f"[{exc.code}] {exc.message}"
        return result
    index = int((item.certificate or {}).get("log_index", -1))
    reader = LogReader(session)
    entry = reader.entry(index)
    if entry is None:
        return result
    data = json.loads(entry.entry).get("data", {})
    result["logged"] = data.get("certificate_digest") == certificate_digest(item.certificate or {})
    size = reader.size()
    path, root = reader.inclusion(index, size), reader.root(size)
    result["included"] = verify_inclusion(leaf_hash(entry.entry), index, size, path, root)
    result["log_index"], result["tree_size"], result["root"] = index, size, root.hex()
    return result
