"""Deduplication across peered hubs: each hub publishes its claims (project fingerprints and
periods, pseudonymous personal activities) in a feed its peers pull, and stores its peers' claims
beside its own, so the registry's checks (4001, 4002) see them. See docs/federation-dedup.md."""
