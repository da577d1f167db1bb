"""``docs/hooks.md``, generated from :mod:`fiche.hookspecs` (``fiche docs hooks``).

One section per hook, in the order of the module: its signature, whether the first answer
wins, its docstring (``:param x:`` lines become a parameter list) and an example. The
example is the docstring's own ``Example::`` block when it has one, else one kept here in
:data:`EXAMPLES`, else a skeleton built from the signature, so a hook added to the specs is
documented the moment the file is regenerated. ``fiche docs hooks --check`` (run by the
test suite) fails when the file is stale.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable
from typing import Any

from fiche import PROJECT_NAME, hookspecs

__all__ = ["EXAMPLES", "hook_specs", "hooks_markdown"]

_PARAM = re.compile(r"^:param (\w+):\s*(.*)$")
_EXAMPLE = re.compile(r"^Example::\s*$", re.MULTILINE)

EXAMPLES: dict[str, str] = {
    "register_types": """
@hookimpl
def register_types():
    return [LoyaltyCard]  # a Node implementation reached only through node(id:)
""",
    "register_queries": """
@strawberry.type
class LoyaltyQueries:
    @strawberry.field(description="The loyalty tiers of the programme.")
    def loyalty_tiers(self, info: strawberry.Info) -> list[str]:
        info.context.require_viewer()
        return ["bronze", "silver", "gold"]


@hookimpl
def register_queries():
    return [LoyaltyQueries]
""",
    "register_mutations": """
@hookimpl
def register_mutations():
    return [LoyaltyMutations]  # fields run context.mutate(change, Payload)
""",
    "register_subscriptions": """
@strawberry.type
class LoyaltySubscriptions:
    @strawberry.subscription(description="Points as they change.")
    async def loyalty_points(self, info: strawberry.Info) -> AsyncGenerator[int, None]:
        async with info.context.broker.subscribe("loyalty") as events:
            while (message := await events.get()) is not None:
                yield message["points"]


@hookimpl
def register_subscriptions():
    return [LoyaltySubscriptions]
""",
    "register_type_extensions": """
loyalty_card_field = strawberry.field(resolver=resolve_loyalty_card, name="loyaltyCard",
                                      description="The customer's loyalty card, if any.")


@hookimpl
def register_type_extensions():
    return [TypeExtension("Customer", [loyalty_card_field])]
""",
    "register_loaders": """
@hookimpl
def register_loaders(context):
    return {"loyalty_cards_by_customer": LoyaltyCardsByCustomerLoader(context)}
""",
    "register_node_types": """
async def load_cards(context, pks):
    async with context.read() as session:
        rows = (await session.execute(select(*CARD_COLUMNS).where(models.LoyaltyCard.id.in_(pks)))).all()
    found = {row.id: card_from_row(row) for row in rows}
    return [found.get(pk) for pk in pks]


@hookimpl
def register_node_types():
    return {"LoyaltyCard": load_cards}
""",
    "register_subject_types": """
@hookimpl
def register_subject_types():
    return ["LoyaltyCard"]  # notes and tasks can now target a card
""",
    "register_notification_kinds": """
@hookimpl
def register_notification_kinds():
    return [NotificationKind("LOYALTY_TIER_REACHED", "A customer reached a new loyalty tier.", default_enabled=True)]
""",
    "register_settings": """
@hookimpl
def register_settings():
    return [OrganizationSettingSpec("loyalty.points_per_euro", int, 1, "Points per euro spent.", minimum=0, maximum=100)]
""",
    "register_migrations": """
@hookimpl
def register_migrations():
    return [Path(__file__).resolve().parent / "migrations" / "versions"]
""",
    "register_routes": """
@hookimpl
def register_routes(settings):
    return [Route("/loyalty/export.csv", export_cards, methods=["GET"])]
""",
    "authenticate": """
@hookimpl
async def authenticate(token, settings):
    if not token.startswith("sso:"):
        return None  # not ours: the next implementation (the JWT check) tries
    return await identity_from_sso(token.removeprefix("sso:"))
""",
    "seed_demo": """
@hookimpl
async def seed_demo(demo):
    for customer_id in demo.shared.get("customer_ids", [])[: demo.size]:
        demo.session.add(models.LoyaltyCard(customer_id=customer_id, points=demo.rng.randint(0, 500)))
""",
    "merge_customers": """
@hookimpl
async def merge_customers(session, source_id, target_id):
    card = models.LoyaltyCard
    await session.execute(update(card).where(card.customer_id == source_id).values(customer_id=target_id))
""",
    "customer_deletion_blockers": """
@hookimpl
async def customer_deletion_blockers(session, customer_id):
    points = await session.scalar(select(models.LoyaltyCard.points).where(models.LoyaltyCard.customer_id == customer_id))
    return ["The customer still has loyalty points."] if points else []
""",
    "customer_deleted": """
@hookimpl
async def customer_deleted(session, customer_id, context):
    await session.execute(delete(models.LoyaltyCard).where(models.LoyaltyCard.customer_id == customer_id))
""",
    "customer_branches": """
@hookimpl
async def customer_branches(session, customer_ids):
    # Only the plugin that owns customers answers; the first answer wins.
    return await branches_of(session, customer_ids)
""",
    "customer_locations": """
@hookimpl
async def customer_locations(session, customer_ids):
    return {row.id: CustomerLocation(...) for row in await locations_of(session, customer_ids)}
""",
    "file_storage": """
@hookimpl
def file_storage(settings):
    return S3Storage(bucket="fiche-uploads")  # implements fiche.storage.FileStorage
""",
    "timeline_entries": """
@hookimpl
async def timeline_entries(context, location_ids, query, limit):
    if not query.wants("LOYALTY"):
        return []
    async with context.read() as session:
        return await latest_per_location(
            session, select(*CARD_COLUMNS), location=models.LoyaltyCard.customer_id,
            occurred=models.LoyaltyCard.created_at, pk=models.LoyaltyCard.id, source="loyalty",
            location_ids=location_ids, query=query, limit=limit, build=card_entry,
        )
""",
    "create_task": """
@hookimpl
async def create_task(context, body, assignee_id, target_id, due_at):
    # Implemented by the plugin that owns tasks; others call
    # context.pm.hook.create_task(context=..., body=..., assignee_id=..., target_id=..., due_at=...)
    return await tasks.create(context, body, assignee_id, target_id, due_at)
""",
    "notification_visibility": """
@hookimpl
async def notification_visibility(context, object_ids):
    mine = [global_id for global_id in object_ids if global_id_type(global_id) == "LoyaltyCard"]
    visible = await cards_visible_to(context, mine)
    return {global_id: global_id in visible for global_id in mine}
""",
    "customer_addresses": """
@hookimpl
async def customer_addresses(session, address_ids):
    # The plugin that owns addresses answers; the interventions plugin checks that an
    # intervention's address is one of ITS customer's.
    rows = await session.execute(select(Address).where(Address.id.in_(address_ids)))
    return {a.id: CustomerAddress(address_id=a.id, customer_id=a.customer_id, ...) for a in rows.scalars()}
""",
    "intervention_quote_condition": """
@hookimpl
def intervention_quote_condition(intervention_id, has_quote, viewer):
    linked = select(Quote.intervention_id).where(Quote.intervention_id.is_not(None))
    return intervention_id.in_(linked) if has_quote else intervention_id.not_in(linked)
""",
    "intervention_customers": """
@hookimpl
async def intervention_customers(session, intervention_ids):
    rows = await session.execute(select(Intervention.id, Intervention.customer_id).where(Intervention.id.in_(intervention_ids)))
    return dict(rows.all())
""",
    "billable_work": """
@hookimpl
async def billable_work(context, customer_id, work_ids):
    session = await context.session()
    done = select(Intervention).where(Intervention.customer_id == customer_id, Intervention.to_invoice, Intervention.invoice_id.is_(None))
    rows = (await session.scalars(done.with_for_update())).all()
    return [BillableWork(pk=i.id, global_id=encode_id("Intervention", i.id), customer_id=customer_id, label=i.title, done_at=i.completed_at) for i in rows]
""",
    "work_invoiced": """
@hookimpl
async def work_invoiced(context, work, document_id):
    session = await context.session()
    await session.execute(update(Intervention).where(Intervention.id.in_([w.pk for w in work])).values(invoice_id=document_id))
""",
    "work_released": """
@hookimpl
async def work_released(context, document_id):
    session = await context.session()
    await session.execute(update(Intervention).where(Intervention.invoice_id == document_id).values(invoice_id=None))
""",
    "route_stops": """
@hookimpl
async def route_stops(context, user_id, day):
    visits = await my_appointments(context, user_id, day)  # one statement
    return [RouteStop(v.global_id, v.title, v.customer_id, v.latitude, v.longitude, v.starts_at, v.ends_at, fixed=True) for v in visits]
""",
    "customer_sales": """
@hookimpl
async def customer_sales(context, customer_ids):
    if not may_read_billing(context.viewer):
        return {}
    return await sales_by_customer(context, customer_ids)  # {customer pk: SalesSummary(...)}
""",
    "subjects_deleted": """
@hookimpl
async def subjects_deleted(session, type_name, ids):
    # Whatever your plugin attached to the deleted objects goes with them.
    await session.execute(delete(LoyaltyStamp).where(LoyaltyStamp.subject_type == type_name, LoyaltyStamp.subject_id.in_(ids)))
""",
    "customer_followers": """
@hookimpl
async def customer_followers(session, customer_ids):
    rows = await session.execute(select(Follow.customer_id, Follow.user_id).where(Follow.customer_id.in_(customer_ids)))
    followers = {}
    for customer_id, user_id in rows:
        followers.setdefault(customer_id, []).append(user_id)
    return followers
""",
    "customer_notes": """
@hookimpl
async def customer_notes(context, customer_ids, since, limit, subjects):
    # Only what the viewer may read (N4), newest first, at most `limit` per customer.
    return await visible_digests(context, customer_ids, since, limit, subjects)  # {customer pk: [NoteDigest(...)]}
""",
}


def hook_specs() -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    """``(name, function, options)`` of every hook specification, in source order."""
    marker = f"{PROJECT_NAME}_spec"
    found = [(name, value, getattr(value, marker)) for name, value in vars(hookspecs).items() if inspect.isfunction(value) and hasattr(value, marker)]
    return sorted(found, key=lambda item: item[1].__code__.co_firstlineno)


def _signature(name: str, function: Callable[..., Any]) -> str:
    signature = inspect.signature(function)
    arguments = ", ".join(f"{p.name}: {p.annotation}" if p.annotation is not inspect.Parameter.empty else p.name for p in signature.parameters.values())
    returns = signature.return_annotation
    return f"def {name}({arguments})" + (f" -> {returns}" if returns is not inspect.Signature.empty else "")


def _skeleton(name: str, function: Callable[..., Any]) -> str:
    arguments = ", ".join(inspect.signature(function).parameters)
    return f"@hookimpl\ndef {name}({arguments}):\n    ..."


def _split(doc: str) -> tuple[list[str], list[tuple[str, str]], str | None]:
    """Prose lines, ``(parameter, description)`` pairs and the ``Example::`` block."""
    example = None
    match = _EXAMPLE.search(doc)
    if match:
        example = textwrap.dedent(doc[match.end():]).strip("\n")
        doc = doc[: match.start()]
    prose: list[str] = []
    params: list[tuple[str, str]] = []
    in_param = False
    for line in doc.splitlines():
        stripped = line.strip()
        param = _PARAM.match(stripped)
        if param:
            params.append((param.group(1), param.group(2)))
            in_param = True
        elif in_param and stripped:  # the parameter's description goes on
            params[-1] = (params[-1][0], f"{params[-1][1]} {stripped}")
        else:
            in_param = False
            prose.append(line)
    while prose and not prose[-1].strip():
        prose.pop()
    return prose, params, example


def hooks_markdown() -> str:
    specs = hook_specs()
    module_doc = inspect.cleandoc(hookspecs.__doc__ or "")
    parts = [
        "# Hook reference",
        "",
        "<!-- Generated by `fiche docs hooks` from the docstrings of gateway/hookspecs.py: edit those, then regenerate. -->",
        "",
        module_doc,
        "",
        "Every example assumes `from fiche import hookimpl` and the plugin's own imports.",
        "",
        "| hook | answers |",
        "| --- | --- |",
    ]
    parts += [f"| [`{name}`](#{name}) | {'the first non-None answer wins' if options.get('firstresult') else 'every implementation'} |" for name, _, options in specs]
    for name, function, options in specs:
        prose, params, example = _split(inspect.cleandoc(function.__doc__ or ""))
        parts += ["", f"## {name}", "", "```python", _signature(name, function), "```", ""]
        if options.get("firstresult"):
            parts += ["*First result wins*: implementations are called until one returns something other than None.", ""]
        parts += prose or ["(No description.)"]
        if params:
            parts += ["", "Parameters:", ""] + [f"- `{param}`: {text}" for param, text in params]
        code = example or EXAMPLES.get(name, "").strip("\n") or _skeleton(name, function)
        parts += ["", "Example:", "", "```python", code, "```"]
    return "\n".join(parts).rstrip() + "\n"
