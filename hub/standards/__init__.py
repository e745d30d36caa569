"""Storage and HTTP for the standards domain: committee roots, published rulesets, the catalogue."""
