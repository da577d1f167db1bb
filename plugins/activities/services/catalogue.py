"""Rules of the catalogue admins manage (A1, A4): type and form names, icons, colours."""

from __future__ import annotations

import re

from gateway.errors import UserErrors

__all__ = ["check_colour", "check_icon", "check_name", "optional_text"]

COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
ICON_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def check_name(value: str, max_length: int, *path: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise UserErrors.invalid("The name must not be empty.", *path)
    if len(cleaned) > max_length:
        raise UserErrors.invalid(f"The name is longer than {max_length} characters.", *path)
    return cleaned


def optional_text(value: str | None, max_length: int, *path: str) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > max_length:
        raise UserErrors.invalid(f"The text is longer than {max_length} characters.", *path)
    return cleaned or None


def check_colour(value: str, *path: str) -> str:
    """``#RRGGBB`` (stored upper-case)."""
    cleaned = value.strip()
    if not COLOUR_RE.match(cleaned):
        raise UserErrors.invalid("A colour is written `#RRGGBB`, e.g. `#1565C0`.", *path)
    return cleaned.upper()


def check_icon(value: str, *path: str) -> str:
    cleaned = value.strip()
    if not ICON_RE.match(cleaned):
        raise UserErrors.invalid("An icon is a name of lowercase letters, digits and dashes, e.g. `map-pin`.", *path)
    return cleaned
