"""``PlatformClient``: what a provincial platform's developers use to talk to the hub.

It depends only on httpx, authlib and the ``schemas`` package, so a platform can vendor it.
"""

from hub.client.errors import (
    AuthenticationFailed,
    HubClientError,
    HubProblem,
    HubUnreachable,
    NotFound,
    PermissionDenied,
    RateLimited,
    Refused,
)
from hub.client.platform_client import PlatformClient

__all__ = [
    "AuthenticationFailed",
    "HubClientError",
    "HubProblem",
    "HubUnreachable",
    "NotFound",
    "PermissionDenied",
    "PlatformClient",
    "RateLimited",
    "Refused",
]
