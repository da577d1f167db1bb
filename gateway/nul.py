"""The NUL character (``\\u0000``) refused in every client string, once for the schema.

PostgreSQL cannot store it in text (nor in ``jsonb``) and asyncpg fails the whole
statement; SQLite would store it and truncate it in places. No field, search or filter
has a use for it, so it is refused before execution, wherever it is written: in a string
literal of the document (a validation rule, cached with the other rules) or anywhere in
the variables (a schema extension: variables are not part of validation). Either way the
client gets ``BAD_USER_INPUT`` with the path of the offending value in
``extensions.inputPath`` (the argument and input fields of a literal, the variable and
its fields for a variable).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from graphql import ArgumentNode, GraphQLError, ListValueNode, ObjectFieldNode, StringValueNode, ValidationRule
from strawberry.extensions import SchemaExtension

__all__ = ["NUL", "NulInLiterals", "NulInVariables", "nul_error"]

NUL = "\x00"


def nul_error(path: Sequence[str | int], nodes: Any = None) -> GraphQLError:
    shown = ".".join(str(part) for part in path)
    return GraphQLError(
        f"`{shown}` must not contain the NUL character (\\u0000).",
        nodes,
        extensions={"code": "BAD_USER_INPUT", "inputPath": list(path)},
    )


class NulInLiterals(ValidationRule):
    """A string literal with a NUL character, reported with its argument path."""

    def enter_string_value(self, node: StringValueNode, _key: Any, parent: Any, path: Any, ancestors: Any) -> None:
        if NUL not in node.value:
            return
        # ``path[i]`` is the key of the next node inside ``chain[i]``.
        chain = [*ancestors, parent]
        names: list[str | int] = []
        for index, container in enumerate(chain):
            if isinstance(container, ArgumentNode | ObjectFieldNode):
                names.append(container.name.value)
            elif isinstance(container, tuple | list) and index and isinstance(chain[index - 1], ListValueNode):
                names.append(path[index])
        self.report_error(nul_error(names, node))


def _nul_paths(value: Any, path: list[str | int]) -> Iterator[list[str | int]]:
    """Paths inside a JSON value of the strings (values or keys) that hold a NUL."""
    stack: list[tuple[Any, list[str | int]]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                yield where
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and NUL in key:
                    yield where
                stack.append((child, [*where, key]))
        elif isinstance(item, list):
            stack.extend((child, [*where, index]) for index, child in enumerate(item))


class NulInVariables(SchemaExtension):
    """Variables with a NUL character anywhere: the operation is refused before validation
    ends, like an invalid document."""

    def on_validate(self) -> Iterator[None]:
        variables = self.execution_context.variables or {}
        paths = sorted((path for name, value in variables.items() for path in _nul_paths(value, [f"${name}"])), key=str)
        if paths:
            errors = list(self.execution_context.pre_execution_errors or [])
            self.execution_context.pre_execution_errors = [*errors, *(nul_error(path) for path in paths)]
        yield
