"""The log in the C2SP formats: signed checkpoints (compare-and-swap, never two inconsistent ones),
tiles and entry bundles, cosignatures collected from witnesses."""
