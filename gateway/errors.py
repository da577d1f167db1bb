"""Errors clients can act on.

Expected failures of a mutation (bad input, a missing or forbidden object, a conflict) are
returned in the payload as ``errors: [UserError!]!``. Services raise :class:`UserErrors`;
the mutation helper turns them into the payload and rolls the transaction back (one that
escapes a payload is still shown, never masked).
:class:`PublicError` is for the rest (an unauthenticated request, a forbidden field): a
top-level GraphQL error whose message is safe to show and whose ``extensions.code`` says
what happened. Anything else is a bug and is masked outside debug mode.

:func:`error_code` gives every other top-level error a code too (a syntax error, a
validation error, a bad variable), so a client never has to parse a message to know what
went wrong, and :func:`is_unexpected` tells the bugs (masked, logged with a traceback)
from the client's mistakes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from sqlalchemy import exc as sa_exc

from fiche.limits import TOO_MANY_TOKENS, is_token_limit

__all__ = [
    "BAD_USER_INPUT",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "INTERNAL_SERVER_ERROR",
    "SERVICE_UNAVAILABLE",
    "TOO_MANY_SUBSCRIPTIONS",
    "UNAVAILABLE_MESSAGE",
    "ErrorCode",
    "PublicError",
    "UserError",
    "UserErrors",
    "error_code",
    "exception_code",
    "is_stale_connection",
    "is_unavailable",
    "is_unexpected",
    "once_more_if_stale",
    "without_suggestions",
]

T = TypeVar("T")

GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
# A user opening one subscription more than ``max_subscriptions_per_user`` allows.
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
# The database could not be reached or dropped the connection: nothing is wrong with the
# request, and the same request later may well succeed.
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The database cannot be reached at the moment: try again in a few seconds."
# PostgreSQL's words for "not now": the server is starting or shutting down, or has no
# connection slot left (SQLSTATE classes 57P and 53300).
_NOT_NOW_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})

# Strawberry's own words about a malformed request (no query, an unknown operation name).
_REQUEST_ERRORS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)
# graphql-core appends these to validation and coercion messages (see ``did_you_mean``).
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


@strawberry.enum(description="What kind of expected failure a `UserError` reports.")
class ErrorCode(enum.Enum):
    INVALID = strawberry.enum_value("INVALID", description="An input value is not acceptable.")
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="No such object in your organisation (or you may not see it)."
    )
    FORBIDDEN = strawberry.enum_value("FORBIDDEN", description="Your role does not allow this action.")
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="The action clashes with the current state (duplicate, blocked, closed)."
    )
    LIMIT_EXCEEDED = strawberry.enum_value("LIMIT_EXCEEDED", description="A size or count limit was exceeded.")


@strawberry.type(description="An expected failure of a mutation, with the input field it concerns.")
class UserError:
    code: ErrorCode = strawberry.field(description="What kind of failure this is.")
    message: str = strawberry.field(description="A human-readable explanation, safe to show to the user.")
    path: list[str] = strawberry.field(
        default_factory=list,
        description="Path to the input field concerned, e.g. `[\"input\", \"email\"]`; empty when general.",
    )


class UserErrors(Exception):
    """Raised by services; carries one or more :class:`UserError`."""

    def __init__(self, errors: Sequence[UserError]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = list(errors)
        # Read by graphql-core when one escapes to the top level (outside a payload).
        self.extensions = {"code": self.errors[0].code.value if self.errors else ErrorCode.INVALID.value}

    @classmethod
    def one(cls, code: ErrorCode, message: str, *path: str) -> UserErrors:
        return cls([UserError(code=code, message=message, path=list(path))])

    @classmethod
    def invalid(cls, message: str, *path: str) -> UserErrors:
        return cls.one(ErrorCode.INVALID, message, *path)

    @classmethod
    def not_found(cls, message: str, *path: str) -> UserErrors:
        return cls.one(ErrorCode.NOT_FOUND, message, *path)

    @classmethod
    def forbidden(cls, message: str, *path: str) -> UserErrors:
        return cls.one(ErrorCode.FORBIDDEN, message, *path)

    @classmethod
    def conflict(cls, message: str, *path: str) -> UserErrors:
        return cls.one(ErrorCode.CONFLICT, message, *path)


class PublicError(Exception):
    """A top-level GraphQL error whose message the client may see (never masked)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.extensions = {"code": code}

    @classmethod
    def unauthenticated(cls) -> PublicError:
        return cls("Authentication required: send `Authorization: Bearer <token>`.", "UNAUTHENTICATED")

    @classmethod
    def forbidden(cls, message: str = "You are not allowed to do this.") -> PublicError:
        return cls(message, "FORBIDDEN")

    @classmethod
    def bad_request(cls, message: str) -> PublicError:
        return cls(message, "BAD_USER_INPUT")


def is_stale_connection(exc: BaseException | None) -> bool:
    """A pooled database connection that turned out to be dead (the server restarted, a
    proxy cut it). SQLAlchemy then drops the whole pool's connections, so the same read on a
    new connection is expected to work."""
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


async def once_more_if_stale(read: Callable[[], Awaitable[T]]) -> T:
    """``read()``, run a second time when it met a dead pooled connection (see
    :func:`is_stale_connection`). Only for reads: a write may have reached the database."""
    try:
        return await read()
    except Exception as exc:
        if not is_stale_connection(exc):
            raise
    return await read()


def is_unavailable(exc: BaseException | None) -> bool:
    """The database was out of reach rather than the request wrong: refused or cut
    connections, a dead pooled connection, no connection free in time, a server that is
    starting, stopping or full."""
    if exc is None:
        return False
    if isinstance(exc, (ConnectionError, sa_exc.TimeoutError)) or is_stale_connection(exc):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        original = exc.orig
        state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        return state in _NOT_NOW_STATES or isinstance(original, ConnectionError)
    return False


def is_unexpected(error: GraphQLError) -> bool:
    """A bug rather than a client's mistake: masked outside debug mode, logged with its traceback.

    A ``GraphQLError`` as the original error is graphql-core describing the request (a
    variable of the wrong type, a missing required variable): the client needs it."""
    original = error.original_error
    return original is not None and not isinstance(original, (PublicError, UserErrors, GraphQLError, *_REQUEST_ERRORS))


def error_code(error: GraphQLError, *, before_execution: bool) -> str | None:
    """The ``extensions.code`` of a top-level error: its own, or what kind of mistake it is.

    ``before_execution`` says the error stopped the operation before it ran (parsing or
    validation); an error without a path after that is a variable that did not coerce."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if is_unavailable(error.original_error):
        return SERVICE_UNAVAILABLE
    if is_unexpected(error):
        return INTERNAL_SERVER_ERROR
    if isinstance(error, GraphQLSyntaxError):
        return TOO_MANY_TOKENS if is_token_limit(error) else GRAPHQL_PARSE_FAILED
    original = error.original_error
    if isinstance(original, (GraphQLError, *_REQUEST_ERRORS)):
        return BAD_USER_INPUT
    if original is None and before_execution:
        return GRAPHQL_VALIDATION_FAILED
    if original is None and error.path is None:
        return BAD_USER_INPUT
    return None


def exception_code(exc: BaseException) -> str:
    """The code of an exception that ended an operation outside any result (raised by an
    extension hook, or Strawberry refusing the request itself): its own, BAD_USER_INPUT for
    a malformed request, INTERNAL_SERVER_ERROR for a bug."""
    extensions = getattr(exc, "extensions", None)
    code = extensions.get("code") if isinstance(extensions, dict) else None
    if isinstance(code, str):
        return code
    if is_unavailable(exc) or is_unavailable(getattr(exc, "__cause__", None)):
        return SERVICE_UNAVAILABLE
    return BAD_USER_INPUT if isinstance(exc, _REQUEST_ERRORS) else INTERNAL_SERVER_ERROR


def without_suggestions(message: str) -> str:
    """``message`` without graphql-core's "Did you mean ...?" hints, which name schema
    fields, arguments, types and enum values a client could not otherwise discover."""
    return _SUGGESTION.sub("", message)
