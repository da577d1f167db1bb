"""Errors clients can act on.

Expected failures of a mutation (bad input, a missing or forbidden object, a conflict) are
returned in the payload as ``errors: [UserError!]!``. Services raise :class:`UserErrors`;
the mutation helper turns them into the payload and rolls the transaction back (one that
escapes a payload is still shown, never masked).
:class:`PublicError` is for the rest (an unauthenticated request, a forbidden field): a
top-level GraphQL error whose message is safe to show and whose ``extensions.code`` says
what happened. Anything else is a bug and is masked outside debug mode.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import strawberry

__all__ = ["ErrorCode", "PublicError", "UserError", "UserErrors"]


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
