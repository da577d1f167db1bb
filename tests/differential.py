"""Differential execution: every query the suite runs is executed by the breadth-first
executor and again by graphql-core's stock executor, and the two answers must agree.

``install()`` (called by conftest unless ``FICHE_EXECUTOR_DIFFERENTIAL=0``) makes
``FICHE_EXECUTOR=breadth`` build :class:`DifferentialExecutor`, so every transport is
covered: ``TestOrg.gql``, HTTP through the app, WebSocket subscriptions' queries. Only
queries are re-run (mutations and subscriptions have side effects). The reference run
shares the operation's context (same viewer, same loaders), and the statements it sends
are left out of ``count_statements`` so statement-count assertions keep measuring the
executor under test. A disagreement is recorded in :data:`DIFFERENCES`; an autouse
fixture fails the test that produced it.
"""

from __future__ import annotations

import contextvars
import copy
import json
from typing import Any

from graphql import GraphQLError
from graphql.execution.executor import CollectedErrors
from graphql.language import OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from fiche import execution
from fiche.execution.executor import BreadthFirstExecutor

__all__ = ["DIFFERENCES", "REFERENCE_RUN", "DifferentialExecutor", "comparable", "install"]

# Set while the reference executor runs: its SQL is not the executor's under test.
REFERENCE_RUN: contextvars.ContextVar[bool] = contextvars.ContextVar("fiche_reference_run", default=False)
# Disagreements found since the current test started (cleared by the fixture).
DIFFERENCES: list[str] = []
# How many operations were compared (lets a test prove the comparison runs at all).
COMPARED: list[int] = [0]


def comparable(data: Any, errors: list[GraphQLError]) -> tuple[str, list[tuple[str, str, Any]]]:
    """Data as canonical JSON (key order included) and errors as (path, message, code),
    sorted: the order in which concurrent fields fail is not part of GraphQL's contract."""
    described = sorted(
        (json.dumps(error.path), error.message, (error.extensions or {}).get("code")) for error in errors
    )
    return json.dumps(data, default=str), described


class DifferentialExecutor(BreadthFirstExecutor):
    """The breadth-first executor, checked against graphql-core's on every query."""

    def execute_collected_root_fields(self, root_type: Any, root_value: Any, grouped_field_set: Any, serially: bool, new_defer_usages: Any) -> Any:
        result = super().execute_collected_root_fields(root_type, root_value, grouped_field_set, serially, new_defer_usages)
        if self.operation.operation is not OperationType.QUERY or not self.is_awaitable(result):
            return result
        reference = copy.copy(self)
        reference.collected_errors = CollectedErrors()

        async def compare() -> Any:
            data = await result
            token = REFERENCE_RUN.set(True)
            try:
                expected = StrawberryGraphQLCoreExecutionContext.execute_collected_root_fields(
                    reference, root_type, root_value, grouped_field_set, serially, new_defer_usages
                )
                if reference.is_awaitable(expected):  # synchronous resolvers only: a dict
                    expected = await expected
            except GraphQLError as error:  # a non-null root field failed: data is null
                reference.collected_errors.add(error, None)
                expected = None
            finally:
                REFERENCE_RUN.reset(token)
            COMPARED[0] += 1
            # Our errors are only in collected_errors once the root completes; compare
            # after both ran.
            ours = comparable(data, self.collected_errors.errors)
            theirs = comparable(expected, reference.collected_errors.errors)
            if ours != theirs:
                name = self.operation.name.value if self.operation.name else "(anonymous)"
                DIFFERENCES.append(f"{name}:\n breadth-first: {ours}\n graphql-core:  {theirs}")
            return data

        return compare()


def install() -> None:
    """Make ``FICHE_EXECUTOR=breadth`` build the differential executor."""
    execution.EXECUTORS["breadth"] = DifferentialExecutor
