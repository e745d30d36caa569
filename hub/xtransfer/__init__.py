"""Transfers between platforms of two peered hubs (docs/federation-transfers.md)."""
