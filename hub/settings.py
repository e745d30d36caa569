"""Settings from ``PUHUI_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the hub reads from its environment. See docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="PUHUI_", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="Embedded database, keys, demo files.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file under data_dir."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = Field(
        default=None, description="Base URL the hub is reached at; default http://host:port."
    )
    keys_dir: Path | None = Field(default=None, description="Hub signing keys; default data_dir/keys.")
    federation_key_file: Path | None = Field(
        default=None, description="The federation's pseudonymization key; default data_dir/federation.key."
    )
    demo: bool = Field(default=False, description="Demo mode: seeds and serves the demo federation.")
    webhook_private_addresses: bool = Field(
        default=False,
        description="Let platforms' webhooks go to loopback, private or link-local addresses (demo: yes).",
    )
    log_level: str = "info"
    processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Hub processes serving the port (uvicorn workers), each with its workers.",
    )

    allow_client_secret_basic: bool | None = Field(
        default=None,
        description="Accept client_secret_basic at the token endpoint; default: only in demo mode.",
    )
    access_token_ttl: int = Field(default=600, ge=30, le=86400, description="Seconds.")
    assertion_max_lifetime: int = Field(
        default=3600,
        description="Seconds a client assertion's exp may lie ahead (authlib sends 3600).",
    )
    clock_skew: int = Field(default=300, ge=0, description="Seconds of iat skew a signed request may have.")
    key_grace_period: int = Field(
        default=86400, ge=0, description="Seconds a platform's replaced keys stay honoured."
    )
    rate_limit_per_minute: int = Field(default=600, ge=1, description="Requests per client per minute.")
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="Largest request body.")

    four_eyes_tonnes: int = Field(
        default=1000, ge=1, description="Recognitions of more tonnes need two distinct operators."
    )

    transfer_deadline: int = Field(
        default=3600, ge=1, description="Seconds a transfer may take before it is terminated and compensated."
    )

    webhook_worker: bool = Field(
        default=True,
        description="Run the background workers (webhooks, transfers, notices, checkpoints, peers) in the"
        " served process; off: another process runs them (puhui work).",
    )
    worker_poll_interval: float = Field(
        default=1.0,
        ge=0.01,  # an idle worker looks at most 100 times a second (1e-9 made each spin)
        le=60,
        description="Seconds an idle worker waits before looking for work again (transfers, notices, "
        "webhooks); a proposal committed in the worker's own process wakes it at once.",
    )
    webhook_max_attempts: int = Field(default=8, ge=1, description="Attempts before a delivery is dead.")
    # every number of seconds below has a ceiling: one past the calendar (inf, 1e308) was taken, and
    # the workers failed each round on it (a lease or a next attempt no datetime can hold)
    webhook_backoff: float = Field(
        default=5.0, gt=0, le=3600, description="Seconds before the first retry; doubles (up to an hour)."
    )
    webhook_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Seconds to wait for a receiver: a webhook's, a platform's API, a peered hub.",
    )

    origin: str | None = Field(
        default=None,
        description="The log's origin (c2sp.org/tlog-checkpoint) and the hub's name among hubs; "
        "default: the public URL without its scheme, then /log.",
    )
    checkpoint_interval: float = Field(
        default=5.0,
        ge=0.01,  # at most 100 rounds a second (a tiny interval would make the thread spin)
        le=86400,
        description="Seconds between checkpoints of the log (signed and sent to witnesses).",
    )
    witness_policy: Path | None = Field(
        default=None,
        description="The hub's witness policy (c2sp.org/tlog-policy): the witnesses, with their submission "
        "URLs, that cosign its checkpoints, and the quorum; none: only the peers' witnesses.",
    )
    witness_timeout: float = Field(
        default=5.0, gt=0, le=600, description="Seconds to wait for a witness or a witnessed log's server."
    )
    witness_monitor: bool = Field(
        default=True,
        description="Fetch the witnessed logs' checkpoints every checkpoint interval (with the workers).",
    )

    claims_pull_interval: float = Field(
        default=30.0,
        ge=0.01,  # at most 100 rounds a second (a tiny interval would make the thread spin)
        le=86400,
        description="Seconds between pulls of each peered hub's claim feed (cross-hub deduplication).",
    )

    @property
    def client_secret_basic_enabled(self) -> bool:
        return self.demo if self.allow_client_secret_basic is None else self.allow_client_secret_basic

    @property
    def private_receivers_allowed(self) -> bool:
        """Whether webhooks may go to non-public addresses (hub.receivers): set, or demo mode."""
        return self.webhook_private_addresses or self.demo

    @property
    def issuer(self) -> str:
        return self.resolved_public_url

    @property
    def token_endpoint(self) -> str:
        return f"{self.resolved_public_url}/oauth/token"

    @property
    def revocation_endpoint(self) -> str:
        return f"{self.resolved_public_url}/oauth/revoke"

    @property
    def introspection_endpoint(self) -> str:
        return f"{self.resolved_public_url}/oauth/introspect"

    @property
    def assertion_audiences(self) -> list[str]:
        """What a client assertion's ``aud`` may name: the issuer or one of the authorization
        server's own endpoints (as its RFC 8414 metadata advertises them), nothing else. Stock
        clients (authlib's ``PrivateKeyJWT`` without a fixed endpoint) name the endpoint they call."""
        return [self.issuer, self.token_endpoint, self.revocation_endpoint, self.introspection_endpoint]

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.sqlite3').resolve()}"

    @cached_property
    def resolved_keys_dir(self) -> Path:
        return (self.keys_dir or self.data_dir / "keys").resolve()

    @cached_property
    def resolved_federation_key_file(self) -> Path:
        return (self.federation_key_file or self.data_dir / "federation.key").resolve()

    @cached_property
    def log_origin(self) -> str:
        """The checkpoint origin line and note key name: ``host[:port][/path]/log`` by default."""
        if self.origin:
            return self.origin
        return self.resolved_public_url.split("://", 1)[-1] + "/log"

    @cached_property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
