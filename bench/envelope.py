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

EXAMPLE = Path(__file__).resolve().parents[1] / "schemas/examples/credit-block/valid/kunshan-pv-399kw.json"


def main() -> None:
    record = json.loads(EXAMPLE.read_text("utf-8"))["instance"]
    key = Ed25519Key.generate()
    keys = JWKSet([key])
    payload = canonicalize(record)
    signature = key.sign(payload)
    token = sign_record(record, key)
    print(f"record: credit-block, {len(payload)} canonical bytes\n")

    raw_jcs = rate(lambda: rfc8785.dumps(record))
    raw_orjson = rate(lambda: orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
    raw_sign = rate(lambda: key.sign(payload))
    raw_verify = rate(lambda: key.verify(signature, payload))
    report(
        [
            ("canonicalize (ours)", rate(lambda: canonicalize(record)), "rfc8785.dumps", raw_jcs),
            ("canonicalize (ours)", rate(lambda: canonicalize(record)), "orjson sorted", raw_orjson),
            ("sign_record (JWS)", rate(lambda: sign_record(record, key)), "Ed25519 sign", raw_sign),
            ("verify_record (JWS)", rate(lambda: verify_record(token, keys)), "Ed25519 verify", raw_verify),
            ("validate credit-block", rate(lambda: validate("credit-block", record)), "Ed25519 verify", raw_verify),
        ]
    )


if __name__ == "__main__":
    main()
