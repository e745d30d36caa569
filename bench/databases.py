"""Where a benchmark runs: a fresh database every run, so figures never depend on what an earlier
run left behind."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def bench_database(postgres: str | None) -> Iterator[str]:
    """A fresh database URL: a scratch SQLite file, or a scratch database created on the server
    of ``postgres`` (and dropped afterwards), so every run starts empty."""
    if postgres is None:
        with tempfile.TemporaryDirectory() as scratch:
            yield f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        return
    server = make_url(postgres)
    name = f"puhui_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
