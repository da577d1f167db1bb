"""What a document must respect before it runs: depth, tokens, aliases and the
introspection switch, each refusal carrying the ``extensions.code`` that names it.

The rules are Strawberry's and graphql-core's own; :func:`coded_rule` only tags the errors
they report, so a client (and the operation log) can tell a limit from a typo without
reading the message. The token limit is enforced by the parser (``MaxTokensLimiter``),
so its syntax error is recognised by :func:`is_token_limit` when errors are shaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, cast

from graphql import GraphQLError, GraphQLSyntaxError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule, ValidationContext
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.extensions import ParserCache as _StrawberryParserCache

__all__ = [
    "INTROSPECTION_DISABLED",
    "NO_INTROSPECTION",
    "QUERY_TOO_DEEP",
    "TOO_MANY_ALIASES",
    "TOO_MANY_TOKENS",
    "ParserCache",
    "alias_rules",
    "coded_rule",
    "depth_rules",
    "is_token_limit",
]

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"

# graphql-core's parser stops with this description once ``max_tokens`` is passed.
_TOKEN_LIMIT = re.compile(r"Document contains more than \d+ tokens\. Parsing aborted\.$")


class _CodingContext:
    """A validation context whose reported errors carry ``code``; everything else is the
    wrapped context's. Some rules report from ``__init__`` through the context they are
    given, others through ``self.report_error``: both end here."""

    def __init__(self, context: ValidationContext, code: str) -> None:
        self._context = context
        self._code = code

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": self._code}
        self._context.report_error(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def coded_rule(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    """``rule`` whose errors carry ``extensions.code = code``.

    Build it once per schema: ``ValidationCache`` keys its entries by the rule classes."""

    class CodedRule(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(cast(ValidationContext, _CodingContext(context, code)))

    CodedRule.__name__ = CodedRule.__qualname__ = f"{rule.__name__}[{code}]"
    return CodedRule


def depth_rules(max_depth: int) -> list[type[ASTValidationRule]]:
    """Refuse operations nested deeper than ``max_depth`` (``QUERY_TOO_DEEP``)."""
    return [coded_rule(rule, QUERY_TOO_DEEP) for rule in QueryDepthLimiter(max_depth=max_depth).validation_rules]


def alias_rules(max_aliases: int) -> list[type[ASTValidationRule]]:
    """Refuse documents with more than ``max_aliases`` aliases (``TOO_MANY_ALIASES``)."""
    return [coded_rule(rule, TOO_MANY_ALIASES) for rule in MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules]


# ``__schema`` and ``__type`` refused while ``__typename`` stays allowed (INTROSPECTION_DISABLED).
NO_INTROSPECTION = coded_rule(NoSchemaIntrospectionCustomRule, INTROSPECTION_DISABLED)


def is_token_limit(error: GraphQLError) -> bool:
    """True for the syntax error of a document longer than ``max_tokens``."""
    return isinstance(error, GraphQLSyntaxError) and _TOKEN_LIMIT.search(error.message) is not None


class ParserCache(_StrawberryParserCache):
    """Strawberry's parser cache, minus its failure mode: a document that does not parse
    (a syntax error, the token limit) is left to Strawberry's own parse step, which turns
    the error into a result. Raised from this hook instead, it escapes the streaming path
    used by WebSocket operations, where it ends as a bare ``complete`` (graphql-transport-ws)
    or as no answer at all (graphql-ws)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        except GraphQLError:
            context.graphql_document = None
        yield
