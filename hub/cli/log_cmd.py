"""``puhui log checkpoint``: sign the log's checkpoint now (the checkpointer does it every
``checkpoint_interval`` seconds in a running hub); ``puhui log policy``: print the hub's policy."""

from __future__ import annotations

import typer

from hub.cli.common import console, fail
from hub.database import Database
from hub.keystore import KeyStore
from hub.settings import Settings
from hub.tlog.checkpointer import sign_checkpoint
from hub.tlog.checkpoints import LogInconsistent
from hub.tlog.policy import WitnessLines, policy_text

app = typer.Typer(help="The log in the C2SP formats (checkpoints, tiles, proofs).", no_args_is_help=True)


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign the checkpoint of the log's current size (after checking it extends the last one)
    and print it; refused (7010) if the stored log was rewritten."""
    settings = Settings()
    database = Database.from_url(settings.resolved_database_url)
    try:
        signed = sign_checkpoint(database, settings, KeyStore(settings.resolved_keys_dir))
    except LogInconsistent as exc:
        fail(f"[{exc.code}] {exc.detail}")
    finally:
        database.dispose()
    console.print(signed.render(), end="", highlight=False, markup=False, soft_wrap=True)


@app.command("policy")
def policy() -> None:
    """Print this hub's tlog-policy (its log keys; no witnesses, quorum none) for verifiers."""
    settings = Settings()
    text = policy_text(settings, KeyStore(settings.resolved_keys_dir), WitnessLines())
    console.print(text, end="", highlight=False, markup=False, soft_wrap=True)
