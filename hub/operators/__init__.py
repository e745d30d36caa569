"""Operator accounts managed by federation administrators: through the API (signed, logged) or,
on the hub's host, with ``puhui operators`` — both through ``OperatorService``."""
