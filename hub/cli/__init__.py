"""The ``puhui`` command.

Libraries' deprecation and security notices (authlib's "use httpx2", joserfc's about "EdDSA", …)
are for this project's developers — the test suite sees them, and turns the project's own into
errors — not for the people running the command: the command keeps them out of their terminal.
"""

from __future__ import annotations

import warnings

# authlib installs an "always" filter for its own deprecation notices when first imported: import it
# first, so the filter below is the one that counts
from authlib.deprecate import AuthlibDeprecationWarning

LIBRARIES = (
    r"(authlib|joserfc|starlette|fastapi|httpx|sqlalchemy|sqlmodel|alembic|uvicorn|typer|click|pydantic)"
    r"(\..*)?"
)

warnings.filterwarnings("ignore", module=LIBRARIES)
warnings.filterwarnings("ignore", category=AuthlibDeprecationWarning)
