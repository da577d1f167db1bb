"""Enumerations shared by the tables and the GraphQL schema (stored by member name)."""

from __future__ import annotations

import enum

import strawberry

__all__ = ["FieldType", "GpsStatus"]


@strawberry.enum(description="Where an activity stands with GPS verification (A5).")
class GpsStatus(enum.Enum):
    NOT_VERIFIED = strawberry.enum_value("not_verified", description="No position has been checked yet.")
    VERIFIED = strawberry.enum_value(
        "verified", description="A position within the organisation's radius was sent inside the time window."
    )
    OUT_OF_RANGE = strawberry.enum_value(
        "out_of_range", description="The last position sent was farther than the organisation's radius."
    )


@strawberry.enum(description="The type of a report form field (A4).")
class FieldType(enum.Enum):
    TEXT = strawberry.enum_value("text", description="Free text; rules: length, pattern.")
    NUMBER = strawberry.enum_value("number", description="A number; rules: minimum, maximum.")
    BOOLEAN = strawberry.enum_value("boolean", description="Yes or no.")
    CHOICE = strawberry.enum_value("choice", description="One of the field's choices.")
    DATE = strawberry.enum_value("date", description="A calendar date, `YYYY-MM-DD`.")
    RATING = strawberry.enum_value("rating", description="A whole rating from 1 to 5.")
