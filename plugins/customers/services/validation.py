"""Checks of single input values: names, e-mails, phone numbers, coordinates, countries."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from fiche.accounts.services import EMAIL_RE
from fiche.errors import UserErrors

__all__ = [
    "IntegrityRule",
    "check_coordinates",
    "check_country",
    "check_email",
    "check_phone",
    "optional_text",
    "required_text",
    "translate_integrity_error",
]

PHONE_RE = re.compile(r"^\+?[0-9 ().\-/]+$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


def required_text(value: str | None, max_length: int, label: str, *path: str) -> str:
    """``value`` stripped; INVALID when empty or longer than ``max_length``."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise UserErrors.invalid(f"{label} must not be empty.", *path)
    if len(cleaned) > max_length:
        raise UserErrors.invalid(f"{label} is longer than {max_length} characters.", *path)
    return cleaned


def optional_text(value: str | None, max_length: int, label: str, *path: str) -> str | None:
    """``value`` stripped, None when blank; INVALID when longer than ``max_length``."""
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    if len(cleaned) > max_length:
        raise UserErrors.invalid(f"{label} is longer than {max_length} characters.", *path)
    return cleaned


def check_email(value: str | None, *path: str) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        return None
    if len(cleaned) > 254 or not EMAIL_RE.match(cleaned):
        raise UserErrors.invalid(f"{cleaned!r} is not a valid e-mail address.", *path)
    return cleaned


def check_phone(value: str | None, *path: str) -> str | None:
    """A phone number as people write it (``+33 6 12 34 56 78``, ``01.23.45.67.89``):
    digits with spaces, dots, dashes, slashes or brackets, 6 to 15 digits (E.164's limit)."""
    cleaned = " ".join((value or "").split())
    if not cleaned:
        return None
    digits = sum(ch.isdigit() for ch in cleaned)
    if len(cleaned) > 40 or not PHONE_RE.match(cleaned) or not 6 <= digits <= 15:
        raise UserErrors.invalid(f"{cleaned!r} is not a valid phone number.", *path)
    return cleaned


def check_country(value: str | None, *path: str) -> str:
    cleaned = (value or "FR").strip().upper()
    if not COUNTRY_RE.match(cleaned):
        raise UserErrors.invalid("The country is a two-letter ISO 3166 code, e.g. `FR`.", *path)
    return cleaned


def check_coordinates(latitude: float | None, longitude: float | None, *path: str) -> tuple[float | None, float | None]:
    """Both or neither; latitude within [-90, 90], longitude within [-180, 180]."""
    if latitude is None and longitude is None:
        return None, None
    if latitude is None:
        raise UserErrors.invalid("A longitude needs a latitude.", *path, "latitude")
    if longitude is None:
        raise UserErrors.invalid("A latitude needs a longitude.", *path, "longitude")
    if not math.isfinite(latitude) or not -90 <= latitude <= 90:
        raise UserErrors.invalid("The latitude must be between -90 and 90.", *path, "latitude")
    if not math.isfinite(longitude) or not -180 <= longitude <= 180:
        raise UserErrors.invalid("The longitude must be between -180 and 180.", *path, "longitude")
    return latitude, longitude


class IntegrityRule:
    """How to recognise one constraint in a driver's error, and what to tell the user.

    PostgreSQL names the constraint; SQLite names the table and columns instead."""

    def __init__(self, postgres_name: str, sqlite_text: str, message: str, path: Sequence[str]) -> None:
        self.postgres_name = postgres_name
        self.sqlite_text = sqlite_text
        self.message = message
        self.path = tuple(path)

    def matches(self, error: str) -> bool:
        return self.postgres_name in error or self.sqlite_text in error


def translate_integrity_error(exc: IntegrityError, rules: Sequence[IntegrityRule]) -> UserErrors:
    """A CONFLICT for a constraint a concurrent transaction won; re-raises anything else."""
    text = str(exc.orig)
    for rule in rules:
        if rule.matches(text):
            return UserErrors.conflict(rule.message, *rule.path)
    raise exc
