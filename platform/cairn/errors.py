"""Domain errors, mapped to HTTP status codes in one place (cairn.api.errors and cairn.web)."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Invalid(DomainError):
    status, code = 400, "invalid"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    """Also raised for things that exist but the actor may not see: the two look the same."""

    status, code = 404, "not_found"

    def __init__(self, message: str = "Not found.", fields=None) -> None:
        super().__init__(message, fields)


class Conflict(DomainError):
    status, code = 409, "conflict"


class RuleViolation(DomainError):
    status, code = 422, "rule_violated"


class Unavailable(DomainError):
    """The server is at a capacity limit (e.g. live-update streams); try again shortly."""

    status, code = 503, "unavailable"
