"""Probe plugins for the gateway's own tests.

The module itself is the main probe plugin (register it with
``[("probe", probe_plugins)]``): one ``@hookimpl`` function per gateway hook, each doing
something small and observable, so a test can prove the host calls the hook and uses its
answer. Hooks whose answers would clash with the main probe or with built-in plugins
(an async ``authenticate``, a ``Customer`` type for the timeline, deliberate schema clashes)
live in small classes below, registered only by the tests that need them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import AsyncGenerator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import strawberry
from aiodataloader import DataLoader
from strawberry.file_uploads import Upload
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from fiche import hookimpl
from fiche.accounts import models as accounts
from fiche.auth import Identity
from fiche.directory import CustomerLocation
from fiche.errors import PublicError, UserError, UserErrors
from fiche.notifications import NotificationKind, notify
from fiche.org_settings import OrganizationSettingSpec
from fiche.relay import Node, decode_id, encode_id
from fiche.schema import TypeExtension
from fiche.timeline import TimelineEntry, TimelineQuery, latest_per_location

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext
    from fiche.demo import DemoContext
    from fiche.settings import Settings

PROBE_TOKEN_PREFIX = "probe-token:"
PING = NotificationKind("PROBE_PING", "A probe pinged you.", default_enabled=True)
DIGEST = NotificationKind("PROBE_DIGEST", "A probe digest (off unless you turn it on).", default_enabled=False)
SETTINGS = (
    OrganizationSettingSpec("probe.radius_m", int, 100, "A probe radius in metres.", minimum=10, maximum=5000),
    OrganizationSettingSpec("probe.ratio", float, 0.5, "A probe ratio.", minimum=0, maximum=1),
    OrganizationSettingSpec("probe.enabled", bool, False, "A probe switch."),
    OrganizationSettingSpec("probe.label", str, "probe", "A probe label."),
)
# Facts the probe hooks record for the tests to inspect.
SEEN_DEMOS: list[DemoContext] = []
CREATED_TASKS: list[dict[str, Any]] = []
UPLOADS: list[Upload] = []
BRANCHES: dict[int, list[int]] = {1: [2, 3], 2: [3]}
_LOADER_SERIALS = itertools.count(1)


# -- types -------------------------------------------------------------------------------
@strawberry.type(description="A thing only the probe plugin knows; reachable only through `node(id:)`.")
class ProbeThing(Node):
    label: str = strawberry.field(description="The thing's label.")


@strawberry.type(description="The outcome of `probeNotify`.")
class ProbeNotifyPayload:
    notified: list[strawberry.ID] = strawberry.field(default_factory=list, description="Users who got an inbox row.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed.")


class ProbeNumbersLoader(DataLoader[int, int]):
    """Numbers times ten; counts its batches and carries a serial to tell instances apart."""

    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context
        self.serial = next(_LOADER_SERIALS)
        self.batches = 0

    async def batch_load_fn(self, keys: list[int]) -> list[int]:  # type: ignore[override]
        self.batches += 1
        return [key * 10 for key in keys]


def _user_pks(ids: Sequence[strawberry.ID]) -> list[int]:
    return [decode_id(global_id, "User")[1] for global_id in ids]


@strawberry.type
class ProbeQueries:
    @strawberry.field(description="Serial number of this operation's probe loader.")
    def probe_loader_serial(self, info: strawberry.Info) -> int:
        return int(info.context.loaders["probe_numbers"].serial)

    @strawberry.field(description="A number loaded through the probe loader.")
    async def probe_number(self, info: strawberry.Info, key: int) -> int:
        return int(await info.context.loaders["probe_numbers"].load(key))

    @strawberry.field(description="Loads `key`, then says how many batches this operation's probe loader ran.")
    async def probe_batches_after_loading(self, info: strawberry.Info, key: int) -> int:
        loader = info.context.loaders["probe_numbers"]
        await loader.load(key)
        return int(loader.batches)

    @strawberry.field(description="Always fails with an unexpected error.")
    def probe_boom(self) -> str:
        raise RuntimeError("probe internals: password=hunter2")

    @strawberry.field(description="Always fails with a public error.")
    def probe_public_error(self) -> str:
        raise PublicError.forbidden("The probe refuses, publicly.")

    @strawberry.field(description="Always fails with user errors raised outside a mutation payload.")
    def probe_user_errors(self) -> str:
        raise UserErrors.invalid("The probe finds this input wrong.", "input")


@strawberry.type
class ProbeMutations:
    @strawberry.mutation(description="Reads an uploaded file (kept in `UPLOADS`) and returns its size in bytes.")
    async def probe_upload(self, file: Upload) -> int:
        UPLOADS.append(file)
        return len(await file.read())  # type: ignore[attr-defined]

    @strawberry.mutation(description="Notify users with a probe kind; `fail` then raises a user error.")
    async def probe_notify(
        self, info: strawberry.Info, recipient_ids: list[strawberry.ID], kind: str = "PROBE_PING", fail: bool = False
    ) -> ProbeNotifyPayload:
        context: OperationContext = info.context

        async def change() -> ProbeNotifyPayload:
            notified = await notify(context, _user_pks(recipient_ids), kind, message=f"{kind} from the probe", link="/probe")
            if fail:
                raise UserErrors.invalid("The probe was asked to fail.", "fail")
            return ProbeNotifyPayload(notified=[strawberry.ID(encode_id("User", pk)) for pk in notified])

        return await context.mutate(change, ProbeNotifyPayload)

    @strawberry.mutation(description="Fails with an unexpected error after writing a team.")
    async def probe_mutation_boom(self, info: strawberry.Info) -> ProbeNotifyPayload:
        context: OperationContext = info.context

        async def change() -> ProbeNotifyPayload:
            session = await context.session()
            session.add(accounts.Team(name="Written before the crash"))
            await session.flush()
            raise RuntimeError("probe mutation internals")

        return await context.mutate(change, ProbeNotifyPayload)


@strawberry.type
class ProbeSubscriptions:
    @strawberry.subscription(description="Counts to `to`, with this operation's loader serial.")
    async def probe_count(self, info: strawberry.Info, to: int = 3) -> AsyncGenerator[str, None]:
        for number in range(1, to + 1):
            yield f"{number}:{info.context.loaders['probe_numbers'].serial}"

    @strawberry.subscription(description="The connected user's handle, once.")
    async def probe_who_am_i(self, info: strawberry.Info) -> AsyncGenerator[str, None]:
        yield info.context.require_viewer().handle

    @strawberry.subscription(description="Yields once, then fails with an unexpected error.")
    async def probe_explode(self) -> AsyncGenerator[int, None]:
        yield 1
        raise RuntimeError("probe subscription internals: password=hunter2")


def probe_shout(root: Any) -> str:
    return str(root.name).upper()


probe_shout_field = strawberry.field(resolver=probe_shout, name="probeShout", description="The user's name, shouted.")
probe_orphan_field = strawberry.field(resolver=probe_shout, name="probeOrphan", description="On a type nobody provides.")


class ProbeStorage:
    """An in-memory file storage, to prove the ``file_storage`` hook replaces the default."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.files: dict[str, bytes] = {}

    async def save(self, data: bytes, *, suffix: str = "") -> str:
        key = f"probe-{len(self.files)}{suffix}"
        self.files[key] = data
        return key

    async def read(self, key: str) -> bytes:
        try:
            return self.files[key]
        except KeyError:
            raise FileNotFoundError(key) from None

    async def delete(self, key: str) -> None:
        self.files.pop(key, None)


async def _probe_things(context: OperationContext, pks: Sequence[int]) -> list[ProbeThing | None]:
    # Even primary keys exist, odd ones do not.
    return [ProbeThing(pk=pk, label=f"thing {pk}") if pk % 2 == 0 else None for pk in pks]


# -- the main probe plugin's hook implementations -------------------------------------------
@hookimpl
def register_types() -> list[type]:
    return [ProbeThing]


@hookimpl
def register_queries() -> list[type]:
    return [ProbeQueries]


@hookimpl
def register_mutations() -> list[type]:
    return [ProbeMutations]


@hookimpl
def register_subscriptions() -> list[type]:
    return [ProbeSubscriptions]


@hookimpl
def register_type_extensions() -> list[TypeExtension]:
    return [TypeExtension("User", [probe_shout_field]), TypeExtension("NoSuchType", [probe_orphan_field])]


@hookimpl
def register_loaders(context: OperationContext) -> dict[str, DataLoader[Any, Any]]:
    return {"probe_numbers": ProbeNumbersLoader(context)}


@hookimpl
def register_node_types() -> dict[str, Any]:
    return {"ProbeThing": _probe_things}


@hookimpl
def register_subject_types() -> list[str]:
    return ["ProbeThing"]


@hookimpl
def register_notification_kinds() -> list[NotificationKind]:
    return [PING, DIGEST]


@hookimpl
def register_settings() -> Sequence[OrganizationSettingSpec]:
    return SETTINGS


@hookimpl
def register_routes(settings: Settings) -> list[BaseRoute]:
    async def probe_route(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"probe route of {settings.public_url}")

    return [Route("/probe/hello", probe_route)]


@hookimpl
def authenticate(token: str) -> Identity | None:
    # Accepts "probe-token:<user id>:<organisation id>"; anything else is left to the JWT check.
    if not token.startswith(PROBE_TOKEN_PREFIX):
        return None
    user_id, _, organization_id = token.removeprefix(PROBE_TOKEN_PREFIX).partition(":")
    return Identity(user_id=int(user_id), organization_id=int(organization_id))


@hookimpl
def file_storage(settings: Settings) -> ProbeStorage:
    return ProbeStorage(settings)


@hookimpl
async def seed_demo(demo: DemoContext) -> None:
    SEEN_DEMOS.append(demo)
    demo.session.add(accounts.Team(name=f"Probe team of {demo.size}"))


@hookimpl
async def customer_branches(session: AsyncSession, customer_ids: Sequence[int]) -> Mapping[int, Sequence[int]]:
    return {customer_id: BRANCHES.get(customer_id, []) for customer_id in customer_ids}


@hookimpl
def customer_locations(session: AsyncSession, customer_ids: Sequence[int]) -> Mapping[int, CustomerLocation]:
    return {
        customer_id: CustomerLocation(
            customer_id=customer_id,
            parent_id=None,
            display_name=f"Probe customer {customer_id}",
            latitude=48.85,
            longitude=2.35,
            preferred_contact_id=None,
        )
        for customer_id in customer_ids
        if customer_id < 100  # 100 and above do not exist
    }


@hookimpl
async def create_task(
    context: OperationContext, body: str, assignee_id: int, target_id: str | None, due_at: dt.datetime | None
) -> str:
    viewer = context.require_viewer()
    if not body.strip():
        raise UserErrors.invalid("A task needs a text.", "body")
    CREATED_TASKS.append(
        {"by": viewer.user_id, "body": body, "assignee_id": assignee_id, "target_id": target_id, "due_at": due_at}
    )
    return encode_id("ProbeTask", len(CREATED_TASKS))


# -- probes registered only by the tests that need them --------------------------------------
class AsyncAuthProbe:
    """An asynchronous ``authenticate``: ``async-token:<user id>:<organisation id>``."""

    @hookimpl
    async def authenticate(self, token: str, settings: Settings) -> Identity | None:
        if not token.startswith("async-token:"):
            return None
        user_id, _, organization_id = token.removeprefix("async-token:").partition(":")
        return Identity(user_id=int(user_id), organization_id=int(organization_id))


class MisspeltHookProbe:
    """A hook implementation whose name is no hook: ``check_pending`` must refuse it."""

    @hookimpl
    def register_querys(self) -> list[type]:
        return []


@strawberry.type
class ClashingQueries:
    @strawberry.field(description="Clashes with the probe's field of the same name.")
    def probe_boom(self) -> str:
        return "no boom"


class DuplicateRootFieldProbe:
    @hookimpl
    def register_queries(self) -> list[type]:
        return [ClashingQueries]


class ClashingExtensionProbe:
    """Adds ``User.email``, a field ``User`` already has."""

    @hookimpl
    def register_type_extensions(self) -> list[TypeExtension]:
        return [TypeExtension("User", [strawberry.field(resolver=probe_shout, name="email", description="Clash.")])]


class ClashingExtensionsProbe:
    """Adds ``User.probeShout`` again: two plugins extending a type with one name."""

    @hookimpl
    def register_type_extensions(self) -> list[TypeExtension]:
        return [TypeExtension("User", [strawberry.field(resolver=probe_shout, name="probeShout", description="Clash.")])]


# -- a timeline with a stand-in Customer (only with the customers plugin disabled) ------------
@strawberry.type(name="Customer", description="A stand-in customer for timeline tests.")
class ProbeCustomer(Node):
    pass


@strawberry.type(description="A timeline entry from the probe's SQL source.")
class ProbeMembershipEntry(TimelineEntry):
    pass


@strawberry.type(description="A timeline entry from the probe's in-memory source.")
class ProbeMemoEntry(TimelineEntry):
    pass


@strawberry.type
class ProbeCustomerQueries:
    @strawberry.field(description="A stand-in customer by primary key.")
    def probe_customer(self, pk: int) -> ProbeCustomer:
        return ProbeCustomer(pk=pk)


async def _customers(context: OperationContext, pks: Sequence[int]) -> list[ProbeCustomer]:
    return [ProbeCustomer(pk=pk) for pk in pks]


@dataclasses.dataclass
class Memo:
    location_pk: int
    pk: int
    occurred_at: dt.datetime
    kind: str = "MEMO"


class TimelineCustomerProbe:
    """Provides ``Customer`` (a team's primary key stands for a customer's)."""

    @hookimpl
    def register_types(self) -> list[type]:
        return [ProbeCustomer, ProbeMembershipEntry, ProbeMemoEntry]

    @hookimpl
    def register_queries(self) -> list[type]:
        return [ProbeCustomerQueries]

    @hookimpl
    def register_node_types(self) -> dict[str, Any]:
        return {"Customer": _customers}


class TimelineSqlProbe:
    """Entries ``JOINED``: one per team membership at its user's ``created_at``, located at
    the team, found with :func:`fiche.timeline.latest_per_location`. ``calls`` records
    every hook call, to prove batching."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], TimelineQuery, int]] = []

    @hookimpl
    async def timeline_entries(
        self, context: OperationContext, location_ids: Sequence[int], query: TimelineQuery, limit: int
    ) -> list[TimelineEntry]:
        self.calls.append((list(location_ids), query, limit))
        if not query.wants("JOINED"):
            return []
        stmt = select(accounts.TeamMembership.id, accounts.TeamMembership.team_id, accounts.User.created_at, accounts.User.name).join(
            accounts.User, accounts.User.id == accounts.TeamMembership.user_id
        )
        async with context.read() as session:
            return await latest_per_location(
                session,
                stmt,
                location=accounts.TeamMembership.team_id,
                occurred=accounts.User.created_at,
                pk=accounts.TeamMembership.id,
                source="members",
                location_ids=location_ids,
                query=query,
                limit=limit,
                build=lambda row: ProbeMembershipEntry(
                    occurred_at=row.created_at,
                    kind="JOINED",
                    summary=f"{row.name} joined",
                    location_pk=row.team_id,
                    source="members",
                    source_pk=row.id,
                ),
            )


class TimelineMemoProbe:
    """Entries ``MEMO`` from a plain list: filtering by hand, as a plugin without SQL would."""

    def __init__(self, memos: Sequence[Memo]) -> None:
        self.memos = list(memos)

    @hookimpl
    def timeline_entries(self, location_ids: Sequence[int], query: TimelineQuery, limit: int) -> list[TimelineEntry]:
        entries = []
        for location in location_ids:
            mine = [
                memo
                for memo in self.memos
                if memo.location_pk == location
                and query.wants(memo.kind)
                and (query.date_from is None or memo.occurred_at >= query.date_from)
                and (query.date_to is None or memo.occurred_at < query.date_to)
                and (query.before is None or (memo.occurred_at, "memos", memo.pk) < query.before)
            ]
            mine.sort(key=lambda memo: (memo.occurred_at, memo.pk), reverse=True)
            entries.extend(
                ProbeMemoEntry(
                    occurred_at=memo.occurred_at,
                    kind=memo.kind,
                    summary=f"memo {memo.pk}",
                    location_pk=memo.location_pk,
                    source="memos",
                    source_pk=memo.pk,
                )
                for memo in mine[:limit]
            )
        return entries


MIGRATION_TEMPLATE = '''"""probe table

Revision ID: probe0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "probe0001"
down_revision = None
branch_labels = ("probe",)
depends_on = "gateway0001"


def upgrade() -> None:
    op.create_table("probe_migrated", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("probe_migrated")
'''


class MigrationsProbe:
    """A plugin whose migrations live in ``directory`` (written by the test)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "probe0001_probe_table.py").write_text(MIGRATION_TEMPLATE)

    @hookimpl
    def register_migrations(self) -> list[Path]:
        return [self.directory]


class UnregisteredTargetProbe:
    """Extends ``PageInfo``: in the schema (through every connection) but registered by no
    plugin's ``register_types``."""

    @hookimpl
    def register_type_extensions(self) -> list[TypeExtension]:
        return [TypeExtension("PageInfo", [strawberry.field(resolver=probe_shout, name="probeShout", description="Shout.")])]
