"""Serial claims: the one place that says which operation holds which serials."""
