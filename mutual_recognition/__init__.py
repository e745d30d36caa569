"""The rules of the exchange: automated checks, recognition and transfer state machines,
deduplication and certificates. Pure domain code: no web, no database.

The check codes every check reports are published in ``schemas.codes`` (they are part of the
exchange format); the checks themselves land with the recognition and transfer issue.
"""
