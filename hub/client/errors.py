"""Typed errors of the platform client, each carrying the hub's problem details."""

from __future__ import annotations

from typing import Any

import httpx


class HubClientError(Exception):
    """Base of every error the client raises."""


class HubUnreachable(HubClientError):
    """The hub could not be reached (network, TLS, timeout)."""


class HubProblem(HubClientError):
    """The hub answered with an error; ``problem`` is its RFC 9457 body (or RFC 6749 error)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code: str | None = problem.get("code")
        self.errors: list[dict[str, Any]] = list(problem.get("errors", []))
        detail = problem.get("detail") or problem.get("error_description") or problem.get("title")
        super().__init__(f"{status} {detail}" + (f" [{self.code}]" if self.code else ""))


class AuthenticationFailed(HubProblem):
    """401: no valid token, a refused client assertion, or a refused request signature."""


class PermissionDenied(HubProblem):
    """403: the token lacks a scope, or the caller's role may not act on this object."""


class NotFound(HubProblem):
    """404: no such object, or one this client may not see."""


class RateLimited(HubProblem):
    """429: too many requests; ``retry_after`` seconds to wait."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: int) -> None:
        super().__init__(status, problem)
        self.retry_after = retry_after


class Refused(HubProblem):
    """Any other 4xx: the request is invalid or conflicts with the hub's state."""


def raise_for_problem(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        problem = response.json()
        if not isinstance(problem, dict):
            raise ValueError
    except ValueError:
        problem = {"title": response.reason_phrase, "status": response.status_code}
    status = response.status_code
    if status == 401:
        raise AuthenticationFailed(status, problem)
    if status == 403:
        raise PermissionDenied(status, problem)
    if status == 404:
        raise NotFound(status, problem)
    if status == 429:
        raise RateLimited(status, problem, int(response.headers.get("retry-after", "1")))
    raise Refused(status, problem) if status < 500 else HubProblem(status, problem)
