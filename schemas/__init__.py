"""The exchange format of the federation.

JSON Schema 2020-12 documents (one per record type, package data under ``v1/``), the code that
loads and validates them, RFC 8785 canonical JSON, and signed envelopes (JWS with EdDSA/Ed25519,
``kid`` = RFC 7638 thumbprint). This package depends on nothing else of ours.
"""

from schemas.canonical import canonicalize
from schemas.catalog import SchemaCatalog, SchemaInfo, catalog
from schemas.codes import CHECK_CODES, CheckCode
from schemas.jwk import Ed25519Key, JWKSet, thumbprint
from schemas.jws import (
    JWSError,
    sign_compact,
    sign_detached,
    sign_record,
    verify_compact,
    verify_detached,
    verify_record,
)
from schemas.validation import Issue, validate

__all__ = [
    "CHECK_CODES",
    "CheckCode",
    "Ed25519Key",
    "Issue",
    "JWKSet",
    "JWSError",
    "SchemaCatalog",
    "SchemaInfo",
    "canonicalize",
    "catalog",
    "sign_compact",
    "sign_detached",
    "sign_record",
    "thumbprint",
    "validate",
    "verify_compact",
    "verify_detached",
    "verify_record",
]
