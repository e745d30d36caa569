"""Transfers: an exactly-once saga that moves whole blocks between registries."""
