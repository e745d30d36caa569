"""Service metadata: health, readiness, the published schemas and the hub's public keys."""
