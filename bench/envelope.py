"""Canonicalize, sign, verify and validate a ~1 KB credit-block record, against the raw primitives.

Run: ``make bench`` (or ``.venv/bin/python -m bench.envelope``). Raw primitives, measured in the
same run: ``rfc8785.dumps`` and ``orjson.dumps(OPT_SORT_KEYS)`` for canonicalization, pyca's
Ed25519 ``sign``/``verify`` over the same bytes for signatures. Targets: DESIGN.md section 8.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import rfc8785

from bench.timing import rate, report
from schemas import Ed25519Key, JWKSet, canonicalize, sign_record, validate, verify_record

EXAMPLES = Path(__file__).resolve().parents[1] / "schemas" / "examples"
EXAMPLE = EXAMPLES / "credit-block" / "valid" / "kunshan-pv-399kw.json"
SORT = orjson.OPT_SORT_KEYS


def main() -> None:
    record = json.loads(EXAMPLE.read_text("utf-8"))["instance"]
    key = Ed25519Key.generate()
    keys = JWKSet([key])
    payload = canonicalize(record)
    signature = key.sign(payload)
    token = sign_record(record, key)
    print(f"record: credit-block, {len(payload)} canonical bytes\n")

    ours_jcs = rate(lambda: canonicalize(record))
    rows = [
        ("canonicalize (ours)", ours_jcs, "rfc8785.dumps", rate(lambda: rfc8785.dumps(record))),
        (
            "canonicalize (ours)",
            ours_jcs,
            "orjson sorted",
            rate(lambda: orjson.dumps(record, option=SORT)),
        ),
        (
            "sign_record (JWS)",
            rate(lambda: sign_record(record, key)),
            "Ed25519 sign",
            rate(lambda: key.sign(payload)),
        ),
    ]
    raw_verify = rate(lambda: key.verify(signature, payload))
    rows += [
        (
            "verify_record (JWS)",
            rate(lambda: verify_record(token, keys)),
            "Ed25519 verify",
            raw_verify,
        ),
        (
            "validate credit-block",
            rate(lambda: validate("credit-block", record)),
            "Ed25519 verify",
            raw_verify,
        ),
    ]
    report(rows)


if __name__ == "__main__":
    main()
