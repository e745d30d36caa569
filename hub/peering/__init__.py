"""Peered hubs: the registry of other hubs this one trusts (their origin, keys, base URL and the
registries they serve), hub-to-hub signed requests, and the client that sends them."""
