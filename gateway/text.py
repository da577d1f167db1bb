"""Text helpers shared by plugins: accent folding for search, LIKE patterns."""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "like_pattern"]


def fold(value: str) -> str:
    """Lowercase without accents: ``"Électricité Dupré"`` -> ``"electricite dupre"``.

    Stored beside searchable text so that SQLite and PostgreSQL find the same rows."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def like_pattern(value: str, *, prefix_only: bool = False) -> str:
    """A LIKE pattern matching ``value`` as a substring (or prefix), wildcards escaped."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix_only else f"%{escaped}%"
