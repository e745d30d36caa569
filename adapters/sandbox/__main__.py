"""``python -m adapters.sandbox CODE [--host 127.0.0.1] [--port 9001]``: serve one platform sandbox."""

from __future__ import annotations

import argparse

import uvicorn

from adapters.registry import available
from adapters.sandbox import BREAKABLE, create_sandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m adapters.sandbox", description=__doc__)
    parser.add_argument("code", choices=sorted(available()), help="the platform's registry code")
    parser.add_argument("--host", default="127.0.0.1", help="loopback by default")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument(
        "--break",
        dest="broken",
        action="append",
        default=[],
        choices=sorted(BREAKABLE),
        help="get this behaviour wrong on purpose (to see `puhui platform-check` fail naming it)",
    )
    args = parser.parse_args(argv)
    uvicorn.run(
        create_sandbox(args.code, broken=args.broken), host=args.host, port=args.port, log_level="info"
    )


if __name__ == "__main__":
    main()
