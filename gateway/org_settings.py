"""Organisation settings that plugins register (GPS radius, report time limit, ...):
their specs, the stored values, the ``organizationSettings`` query and the admin mutation."""

from __future__ import annotations

import dataclasses
import zoneinfo
from collections.abc import Callable
from typing import Annotated, TYPE_CHECKING, Any

import strawberry
from sqlalchemy import bindparam, select
from strawberry.scalars import JSON

from fiche.accounts import models
from fiche.cost import list_size
from fiche.db import prepared, read_rows
from fiche.errors import UserError, UserErrors

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "MAX_SETTINGS",
    "PRELOADED_SETTINGS",
    "TIME_ZONE",
    "OrganizationSettingSpec",
    "SettingsMutations",
    "SettingsQueries",
    "get_setting",
    "organization_zone",
]

# Registered settings, all plugins together (``organizationSettings`` lists them whole).
MAX_SETTINGS = 100


@dataclasses.dataclass(frozen=True, slots=True)
class OrganizationSettingSpec:
    key: str
    type: type  # int, float, bool or str
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    problem: Callable[[Any], str | None] | None = None
    """What is wrong with a value of the right type, or None (e.g. an unknown time zone)."""

    def validate(self, value: Any) -> Any:
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.type) or (self.type is int and isinstance(value, bool)):
            raise UserErrors.invalid(f"`{self.key}` takes a {self.type.__name__}.", "value")
        number = value if isinstance(value, int | float) else None
        if self.minimum is not None and number is not None and number < self.minimum:
            raise UserErrors.invalid(f"`{self.key}` must be at least {self.minimum}.", "value")
        if self.maximum is not None and number is not None and number > self.maximum:
            raise UserErrors.invalid(f"`{self.key}` must be at most {self.maximum}.", "value")
        problem = self.problem(value) if self.problem is not None else None
        if problem is not None:
            raise UserErrors.invalid(f"`{self.key}`: {problem}", "value")
        return value


def _time_zone_problem(name: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not an IANA time zone (e.g. Europe/Paris)."
    return None


TIME_ZONE = OrganizationSettingSpec(
    key="organization.time_zone",
    type=str,
    default="Europe/Paris",
    description="The organisation's IANA time zone: what \"today\", a day of the calendar and a late appointment mean.",
    problem=_time_zone_problem,
)


# Read with the viewer of every HTTP request (fiche.auth.load_viewers): the time zone is
# what "today" means for statuses and dates on most pages.
PRELOADED_SETTINGS = (TIME_ZONE.key,)


async def get_setting(context: OperationContext, key: str) -> Any:
    """The organisation's value of a registered setting, or its default."""
    spec = context.app.setting_specs[key]
    preloaded = context.connection.organization_settings
    if preloaded is not None and key in preloaded:
        value = preloaded[key]
    else:
        async with context.read() as session:
            rows = await read_rows(session, prepared("org_settings.get_setting", _setting), {"fiche_setting_key": key})
        value = rows[0].value if rows else None
    return spec.default if value is None else value


def _setting() -> Any:
    return select(models.OrganizationSetting.value).where(models.OrganizationSetting.key == bindparam("fiche_setting_key"))


async def organization_zone(context: OperationContext) -> zoneinfo.ZoneInfo:
    """The viewer's organisation's time zone (setting ``organization.time_zone``)."""
    return zoneinfo.ZoneInfo(await get_setting(context, TIME_ZONE.key))


@strawberry.type(description="One organisation setting, as registered by a plugin.")
class OrganizationSettingValue:
    key: str = strawberry.field(description="The setting's key, e.g. `activities.gps_radius_m`.")
    value: JSON = strawberry.field(description="The organisation's value (the default when never set).")
    default: JSON = strawberry.field(description="The value used when the organisation has not set one.")
    description: str = strawberry.field(description="What the setting controls.")


@strawberry.type(description="The outcome of `organizationSettingSet`.")
class OrganizationSettingPayload:
    # Defaults: `context.mutate` builds a refusal as `OrganizationSettingPayload(errors=...)`.
    setting: OrganizationSettingValue | None = strawberry.field(default=None, description="The setting after the change.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why the change was refused, if it was.")


@strawberry.type
class SettingsQueries:
    @strawberry.field(description="Every setting of your organisation, with its value.", metadata=list_size(MAX_SETTINGS))
    async def organization_settings(self, info: strawberry.Info) -> list[OrganizationSettingValue]:
        context: OperationContext = info.context
        context.require_viewer()
        async with context.read() as session:
            stored = dict((await session.execute(select(models.OrganizationSetting.key, models.OrganizationSetting.value))).all())
        return [
            OrganizationSettingValue(key=spec.key, value=stored.get(spec.key, spec.default), default=spec.default, description=spec.description)
            for spec in sorted(context.app.setting_specs.values(), key=lambda spec: spec.key)
        ]


@strawberry.type
class SettingsMutations:
    @strawberry.mutation(description="Set an organisation setting (admins only).")
    async def organization_setting_set(
        self,
        info: strawberry.Info,
        key: Annotated[str, strawberry.argument(description="The setting's key (see `organizationSettings`).")],
        value: Annotated[JSON, strawberry.argument(description="The new value, of the setting's type.")],
    ) -> OrganizationSettingPayload:
        context: OperationContext = info.context

        async def change() -> OrganizationSettingPayload:
            context.require_role_error(admin=True)
            spec = context.app.setting_specs.get(key)
            if spec is None:
                raise UserErrors.not_found(f"There is no setting `{key}`.", "key")
            checked = spec.validate(value)
            session = await context.session()
            row = await session.scalar(select(models.OrganizationSetting).where(models.OrganizationSetting.key == key))
            if row is None:
                session.add(models.OrganizationSetting(key=key, value=checked))
            else:
                row.value = checked
            if context.connection.organization_settings is not None:
                # What the request read with its viewer is stale now: later fields read the table.
                context.connection.organization_settings.pop(key, None)
            return OrganizationSettingPayload(
                setting=OrganizationSettingValue(key=key, value=checked, default=spec.default, description=spec.description),
                errors=[],
            )

        return await context.mutate(change, OrganizationSettingPayload)
