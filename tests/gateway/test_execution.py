"""The breadth-first executor on a small in-memory schema: what it covers answers exactly
as graphql-core's executor does (data, key order, errors and their paths), batch
resolvers are called once per position, per-object resolvers get a correct ``info``,
and what it does not cover goes to graphql-core, counted."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncGenerator, Sequence
from typing import Annotated, Any, NewType

import dateutil.tz
import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from fiche.execution import FALLBACKS, BatchResolverError, BreadthFirstExecutor, batched, executor_class
from fiche.execution.executor import _row_builder
from tests.differential import comparable

CALLS: list[tuple[str, Any]] = []


@strawberry.enum(description="A colour.")
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface(description="Something with a name.")
class Named:
    name: str = strawberry.field(description="The name.")


@strawberry.type(description="A pet.")
class Pet(Named):
    colour: Colour = strawberry.field(description="Its colour.")
    owner_id: strawberry.Private[int]

    @strawberry.field(description="Its owner, through a batch resolver.")
    @batched
    async def owner(pets: Sequence[Pet], info: strawberry.Info) -> list[Person | None]:
        CALLS.append(("owner", [pet.name for pet in pets]))
        return [PEOPLE.get(pet.owner_id) for pet in pets]

    @strawberry.field(description="Fails for the pet called Rex.")
    def risky(self) -> str | None:
        if self.name == "Rex":
            raise ValueError("Rex bites")
        return "fine"

    @strawberry.field(description="A non-null field that fails for Rex.")
    def strict(self) -> str:
        if self.name == "Rex":
            raise ValueError("Rex refuses")
        return "ok"


@strawberry.type(description="A person.")
class Person(Named):
    id: int = strawberry.field(description="The person's number.")

    @strawberry.field(description="The person's pets, with a per-object resolver.")
    async def pets(self, info: strawberry.Info, first: int = 10) -> list[Pet]:
        CALLS.append(("pets", (info.field_name, info.path.as_list(), info.variable_values)))
        return [pet for pet in PETS if pet.owner_id == self.id][:first]

    @strawberry.field(description="A greeting with an argument, batched.")
    @batched
    async def greeting(people: Sequence[Person], info: strawberry.Info, punctuation: str = "!") -> list[str]:
        CALLS.append(("greeting", len(people)))
        return [f"Hello {person.name}{punctuation}" for person in people]


PEOPLE = {1: Person(id=1, name="Ada"), 2: Person(id=2, name="Bob")}
PETS = [Pet(name="Tom", colour=Colour.RED, owner_id=1), Pet(name="Rex", colour=Colour.BLUE, owner_id=1), Pet(name="Kit", colour=Colour.RED, owner_id=2)]

# Written by the executor in one orjson call when it can (UTC or naive datetimes, dates),
# by isoformat() value by value otherwise (another offset): the same text either way.
MOMENTS = [
    dt.datetime(2026, 11, 29, 16, 30, tzinfo=dt.UTC),
    dt.datetime(5, 1, 2, 3, 4, 5, 6),
    None,
    dt.datetime(2026, 1, 1, 0, 0, 0, 999999, tzinfo=dt.UTC),
    dt.datetime(1999, 12, 31, 23, 59, 59, 100000, tzinfo=dt.UTC),
]
OFFSET = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
UNHASHABLE_UTC = dt.datetime(2026, 1, 1, tzinfo=dateutil.tz.tzutc())  # dateutil's tzutc cannot be hashed

Thing = Annotated[Pet | Person, strawberry.union("Thing", description="A pet or a person.")]


Blank = NewType("Blank", str)
BLANK_SCALAR = strawberry.scalar(name="Blank", serialize=lambda value: None, parse_value=lambda value: value, description="Serialises to nothing.")


@strawberry.type(description="Root.")
class Query:
    @strawberry.field(description="A value its scalar cannot serialise.")
    def blank(self) -> Blank | None:
        return Blank("x")

    @strawberry.field(description="Instants, with another offset than UTC among them when asked.")
    def moments(self, offset: bool = False) -> list[dt.datetime | None]:
        return [*MOMENTS, UNHASHABLE_UTC, OFFSET] if offset else MOMENTS

    @strawberry.field(description="Days.")
    def days(self) -> list[dt.date | None]:
        return [dt.date(2026, 11, 29), None, dt.date(7, 1, 1)]

    @strawberry.field(description="Everyone.")
    def people(self) -> list[Person]:
        return list(PEOPLE.values())

    @strawberry.field(description="Every pet.")
    def pets(self) -> list[Pet]:
        return PETS

    @strawberry.field(description="Pets and people.")
    def things(self) -> list[Thing]:
        return [*PETS, *PEOPLE.values()]

    @strawberry.field(description="Named things.")
    def named(self) -> list[Named]:
        return [*PEOPLE.values(), *PETS]

    @strawberry.field(description="Pets, a person among them, a person cast as a pet and a plain dict.")
    def odd_pets(self) -> list[Pet | None]:
        return [PETS[0], PEOPLE[2], PETS[1], strawberry.cast(Pet, Person(id=3, name="Eve")), None, {"name": "Fake"}, PETS[2]]  # type: ignore[list-item]

    @strawberry.field(description="Non-null pets whose strict field may fail.")
    def strict_pets(self) -> list[Pet] | None:
        return PETS


LOG: list[str] = []


@strawberry.type(description="Changes.")
class Mutation:
    @strawberry.field(description="Appends to the log.")
    async def append(self, text: str) -> list[str]:
        LOG.append(text)
        return list(LOG)


@strawberry.type(description="Events.")
class Subscription:
    @strawberry.subscription(description="Pets, one per event.")
    async def pet_events(self) -> AsyncGenerator[Pet, None]:
        for pet in PETS:
            yield pet


def _schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    kwargs: dict[str, Any] = {
        "query": Query,
        "mutation": Mutation,
        "subscription": Subscription,
        "types": [Pet, Person],
        "config": StrawberryConfig(scalar_map={Blank: BLANK_SCALAR}),
    }
    return strawberry.Schema(**kwargs, execution_context_class=BreadthFirstExecutor), strawberry.Schema(**kwargs)


BREADTH, REFERENCE = _schemas()

ALIASES_AND_FRAGMENTS = """
query Q($skip: Boolean!, $punct: String) {
  people {
    __typename
    who: name
    hi: greeting(punctuation: $punct)
    hello: greeting
    pets(first: 2) { name colour ...PetOwner }
    ... on Named { name }
    skipped: name @skip(if: $skip)
  }
  things {
    __typename
    ... on Pet { name colour }
    ... on Person { id name }
  }
  named { name ... on Person { id } ... on Pet { owner { name } } }
}
fragment PetOwner on Pet { owner { who: name id } colour }
"""
FIELD_ERRORS = "{ pets { name risky } people { pets { name risky } } }"
NON_NULL_ERRORS = "{ strictPets { name strict } people { name } }"
BLANK = "{ blank pets { name } }"
INTROSPECTION = "{ __schema { queryType { name } } }"
TYPE_INTROSPECTION = '{ __type(name: "Pet") { name } people { name } }'
APPEND = 'mutation { first: append(text: "a") second: append(text: "b") }'
PET_EVENTS = "subscription { petEvents { __typename name owner { name } } }"


async def _both(document: str, variables: dict[str, Any] | None = None) -> tuple[Any, Any]:
    ours = await BREADTH.execute(document, variable_values=variables)
    theirs = await REFERENCE.execute(document, variable_values=variables)
    return ours, theirs


@pytest.mark.parametrize("skip", [True, False])
async def test_aliases_fragments_directives_and_typename_answer_as_graphql_core(skip: bool) -> None:
    # given
    variables = {"skip": skip, "punct": "?"}
    # when
    ours, theirs = await _both(ALIASES_AND_FRAGMENTS, variables)
    # then
    assert ours.errors is None and theirs.errors is None
    assert comparable(ours.data, []) == comparable(theirs.data, [])
    assert ours.data["people"][0]["hi"] == "Hello Ada?"
    assert ("skipped" in ours.data["people"][0]) is not skip


async def test_a_batch_resolver_is_called_once_per_position() -> None:
    # given
    CALLS.clear()
    # when
    result = await BREADTH.execute(ALIASES_AND_FRAGMENTS, variable_values={"skip": True})
    # then
    assert result.errors is None
    greetings = [call for call in CALLS if call[0] == "greeting"]
    assert greetings == [("greeting", 2), ("greeting", 2)]  # two aliases, two positions
    owners = [call for call in CALLS if call[0] == "owner"]
    # people.pets.owner: one call for the 3 pets of both people; named ... on Pet: one call
    assert sorted(len(names) for _, names in owners) == [3, 3]


async def test_a_per_object_resolver_gets_its_own_path_and_the_variables() -> None:
    # given
    CALLS.clear()
    # when
    result = await BREADTH.execute(ALIASES_AND_FRAGMENTS, variable_values={"skip": False, "punct": "."})
    # then
    assert result.errors is None
    pets_calls = [call[1] for call in CALLS if call[0] == "pets"]
    assert pets_calls == [
        ("pets", ["people", 0, "pets"], {"skip": False, "punct": "."}),
        ("pets", ["people", 1, "pets"], {"skip": False, "punct": "."}),
    ]


async def test_field_errors_have_the_paths_and_nulls_of_graphql_core() -> None:
    # when
    ours, theirs = await _both(FIELD_ERRORS)
    # then
    assert comparable(ours.data, ours.errors) == comparable(theirs.data, theirs.errors)
    assert [error.path for error in ours.errors] == [["pets", 1, "risky"], ["people", 0, "pets", 1, "risky"]]
    assert ours.data["pets"][1] == {"name": "Rex", "risky": None}


async def test_a_non_null_failure_nulls_the_nearest_nullable_parent() -> None:
    # when
    ours, theirs = await _both(NON_NULL_ERRORS)
    # then
    assert comparable(ours.data, ours.errors) == comparable(theirs.data, theirs.errors)
    assert ours.data == {"strictPets": None, "people": [{"name": "Ada"}, {"name": "Bob"}]}
    assert [(error.message, error.path) for error in ours.errors] == [("Rex refuses", ["strictPets", 1, "strict"])]


async def test_a_leaf_its_scalar_cannot_serialise_fails_as_in_graphql_core() -> None:
    # when
    ours, theirs = await _both(BLANK)
    # then
    assert comparable(ours.data, ours.errors) == comparable(theirs.data, theirs.errors)
    assert [(error.message, error.path) for error in ours.errors] == [
        ("Expected `Blank.coerce_output_value('x')` to return non-nullable value, returned: None", ["blank"])
    ]


async def test_datetimes_and_dates_are_written_as_their_isoformat() -> None:
    # when
    ours, theirs = await _both("{ moments days offsetMoments: moments(offset: true) }")
    # then
    assert ours.errors is None and comparable(ours.data, []) == comparable(theirs.data, [])
    assert ours.data["moments"] == [None if moment is None else moment.isoformat() for moment in MOMENTS]
    assert ours.data["offsetMoments"][-2:] == ["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+05:30"]
    assert ours.data["days"] == ["2026-11-29", None, "0007-01-01"]


async def test_objects_of_another_class_or_cast_answer_as_in_graphql_core() -> None:
    # given: pets already seen once in the operation, then a list mixing them with a
    # person, a person cast as a pet, a null and a dict
    document = "{ pets { name } oddPets { __typename name colour } }"
    # when
    ours, theirs = await _both(document)
    # then: both people pass the type's check (a Named, a cast) and fail on the field a
    # person lacks; the dict fails the check; exactly as graphql-core answers
    assert comparable(ours.data, ours.errors) == comparable(theirs.data, theirs.errors)
    assert [item and item["name"] for item in ours.data["oddPets"]] == ["Tom", None, "Rex", None, None, None, "Kit"]
    assert sorted(error.path for error in ours.errors) == [["oddPets", 1, "colour"], ["oddPets", 3, "colour"], ["oddPets", 5]]


@pytest.mark.parametrize("document", [INTROSPECTION, TYPE_INTROSPECTION])
async def test_introspection_goes_to_graphql_core_and_is_counted(document: str) -> None:
    # given
    before = FALLBACKS["introspection"]
    # when
    ours, theirs = await _both(document)
    # then
    assert FALLBACKS["introspection"] == before + 1
    assert ours.errors is None
    assert ours.data == theirs.data


async def test_a_covered_query_is_not_a_fallback() -> None:
    # given
    before = sum(FALLBACKS.values())
    # when
    result = await BREADTH.execute(FIELD_ERRORS)
    # then
    assert result.data is not None
    assert sum(FALLBACKS.values()) == before


async def test_mutation_root_fields_run_one_at_a_time_in_order() -> None:
    # given
    LOG.clear()
    # when
    result = await BREADTH.execute(APPEND)
    # then
    assert result.errors is None
    assert result.data == {"first": ["a"], "second": ["a", "b"]}


async def test_a_subscription_is_executed_breadth_first_for_each_event() -> None:
    # given
    CALLS.clear()
    # when
    ours = [result async for result in await BREADTH.subscribe(PET_EVENTS)]
    theirs = [result async for result in await REFERENCE.subscribe(PET_EVENTS)]
    # then
    assert [result.data for result in ours] == [result.data for result in theirs]
    assert [result.data["petEvents"]["owner"] for result in ours] == [{"name": "Ada"}, {"name": "Ada"}, {"name": "Bob"}]
    assert len([call for call in CALLS if call[0] == "owner"]) == 6  # 3 events, each executor once per event


def test_a_batch_resolver_must_return_a_list() -> None:
    # given
    async def owners(pets: Sequence[Pet], info: strawberry.Info) -> Person:
        raise AssertionError("never called")

    # when / then
    with pytest.raises(BatchResolverError, match="list"):
        batched(owners)


COUNTER: list[int] = [0]


@strawberry.type(description="Root whose answer changes on every call.")
class Unstable:
    @strawberry.field(description="A new number on every call.")
    def tick(self) -> int:
        COUNTER[0] += 1
        return COUNTER[0]


TICK = "query Tick { tick }"


async def test_the_differential_check_reports_executors_that_disagree() -> None:
    # given: a resolver that answers differently each time it is called
    from tests import differential

    schema = strawberry.Schema(query=Unstable, execution_context_class=differential.DifferentialExecutor)
    compared = differential.COMPARED[0]
    # when
    result = await schema.execute(TICK)
    found = list(differential.DIFFERENCES)
    differential.DIFFERENCES.clear()  # expected here: do not fail this test for it
    # then
    assert result.data == {"tick": COUNTER[0] - 1}  # the breadth-first answer is the one returned
    assert differential.COMPARED[0] == compared + 1
    assert len(found) == 1 and found[0].startswith("Tick:")


def test_an_unknown_executor_setting_is_refused() -> None:
    # when / then
    with pytest.raises(ValueError, match="FICHE_EXECUTOR must be one of breadth, graphql-core"):
        executor_class("depth-first")


def test_a_row_builder_makes_the_response_object_in_key_order() -> None:
    # given
    names = ("b", "__typename", "a", "_0")
    # when
    row = _row_builder(names)(1, "Pet", None, [2])
    # then
    assert list(row.items()) == [("b", 1), ("__typename", "Pet"), ("a", None), ("_0", [2])]
    assert _row_builder(names) is _row_builder(names)  # compiled once per set of keys
