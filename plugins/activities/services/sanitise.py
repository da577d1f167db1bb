"""Rich-text descriptions, cleaned with nh3 (the Rust ``ammonia`` sanitiser) against an
allow-list: formatting, lists, quotes and links survive; scripts, styles, event handlers
and dangerous URL schemes do not."""

from __future__ import annotations

from html.parser import HTMLParser

import nh3

from fiche.errors import UserErrors

__all__ = ["ALLOWED_TAGS", "MAX_DESCRIPTION", "clean_description", "plain_text"]

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "a", "blockquote", "code", "pre", "h3", "h4"}
)
# Elements whose edges separate words: ``<li>tarifs</li><li>délais</li>`` reads
# "tarifs délais", never "tarifsdélais". Inline elements (``<strong>``, ``<a>``) do not.
BREAKING_TAGS = frozenset({"p", "br", "ul", "ol", "li", "blockquote", "pre", "h3", "h4", "div", "tr", "td", "th", "hr"})
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


class _TextCollector(HTMLParser):
    """The text of an HTML fragment, with a space at every block boundary."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BREAKING_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in BREAKING_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(description: str | None) -> str:
    """The words of a sanitised HTML description on one line (entities decoded, block
    elements and list items kept apart)."""
    if not description:
        return ""
    collector = _TextCollector()
    collector.feed(description)
    collector.close()
    return " ".join("".join(collector.parts).split())
