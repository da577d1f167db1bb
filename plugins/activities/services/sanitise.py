"""Rich-text descriptions, cleaned with nh3 (the Rust ``ammonia`` sanitiser) against an
allow-list: formatting, lists, quotes and links survive; scripts, styles, event handlers
and dangerous URL schemes do not."""

from __future__ import annotations

import nh3

from fiche.errors import UserErrors

__all__ = ["ALLOWED_TAGS", "MAX_DESCRIPTION", "clean_description"]

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "a", "blockquote", "code", "pre", "h3", "h4"}
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
MAX_DESCRIPTION = 20_000


def clean_description(value: str | None, *path: str) -> str | None:
    """Sanitised HTML, or None when nothing is left; INVALID when too long."""
    if value is None:
        return None
    if len(value) > MAX_DESCRIPTION:
        raise UserErrors.invalid(f"The description is longer than {MAX_DESCRIPTION} characters.", *path)
    cleaned = nh3.clean(
        value,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    ).strip()
    return cleaned or None
