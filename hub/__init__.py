"""The Puhui Hub service: FastAPI app, storage, key store, CLI. Wires the domain packages together."""

__version__ = "0.1.0"
