"""Receipts: the signed requests the hub received, exactly as received (non-repudiation)."""
