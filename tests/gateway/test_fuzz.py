"""Property-based fuzzing of the whole application (every built-in plugin) over HTTP, with
an admin's token, on SQLite holding a demo organisation: operations generated from the
schema, valid and invalid, and request bodies of every wrong shape. No request may end in
an HTTP 5xx, a 200 that is not JSON, or a masked "Unexpected error.": whatever a client
sends, a client error tells it what is wrong.

Deterministic (``derandomize``) and bounded; ``bench/fuzz.py`` runs thousands more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_SECRET, Databases
from tests.fuzzing import FuzzTarget, bodies, operations

FUZZ = settings(
    max_examples=250,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def target(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """The real application on the shared SQLite test database, with a demo organisation."""
    upload_dir: Path = tmp_path_factory.mktemp("fuzz-uploads")
    with FuzzTarget(databases.url("sqlite"), secret_key=TEST_SECRET, demo_size=5, upload_dir=str(upload_dir)) as fuzz_target:
        yield fuzz_target


def test_the_target_reaches_real_objects(target: FuzzTarget) -> None:
    # then: forged IDs sit next to the demo's own, and the token is accepted
    assert len(target.real_ids) >= 10
    assert target.real_cursors


@FUZZ
@given(data=st.data())
def test_generated_operations_never_fail_on_the_server(target: FuzzTarget, data: st.DataObject) -> None:
    # given
    document = data.draw(operations(target.schema_sdl, target.real_ids, target.real_cursors), label="document")
    # when
    failure = target.operation(document)
    # then
    assert failure is None, failure


@FUZZ
@given(data=st.data())
def test_malformed_bodies_are_client_errors(target: FuzzTarget, data: st.DataObject) -> None:
    # given
    body = data.draw(bodies(target.real_ids), label="body")
    # when
    failure = target.body(body)
    # then
    assert failure is None, failure
