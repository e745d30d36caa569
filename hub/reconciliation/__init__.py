"""Reconciliation of a platform's holdings with the hub's registry (ITL style)."""
