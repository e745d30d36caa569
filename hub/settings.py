"""Settings from ``PUHUI_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the hub reads from its environment. See docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="PUHUI_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./var"), description="Embedded database, keys, demo files."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file under data_dir."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = Field(
        default=None, description="Base URL the hub is reached at; default http://host:port."
    )
    keys_dir: Path | None = Field(
        default=None, description="Hub signing keys; default data_dir/keys."
    )
    demo: bool = Field(
        default=False, description="Demo mode: seeds and serves the demo federation."
    )
    log_level: str = "info"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.sqlite3').resolve()}"

    @cached_property
    def resolved_keys_dir(self) -> Path:
        return (self.keys_dir or self.data_dir / "keys").resolve()

    @cached_property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
