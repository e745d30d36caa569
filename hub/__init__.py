"""The Puhui Hub service: FastAPI app, storage, key store, CLI; wires the domain packages."""

__version__ = "0.1.0"
