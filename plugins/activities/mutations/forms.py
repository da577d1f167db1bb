"""Report forms and their typed fields (A4; admins only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import delete, func, select

from fiche.cost import ensure_room
from fiche.errors import UserError, UserErrors
from fiche.plugins.activities import models
from fiche.plugins.activities.common import get_row
from fiche.plugins.activities.enums import FieldType
from fiche.plugins.activities.mutations.activities import DeletePayload
from fiche.plugins.activities.services.catalogue import check_name, check_unique_name, optional_text
from fiche.plugins.activities.services.bounds import MAX_REPORT_FORMS
from fiche.plugins.activities.services.forms import FieldSpec, check_definitions
from fiche.plugins.activities.reads import FORM_COLUMNS, form_from_row
from fiche.plugins.activities.types import ReportForm

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["ReportFormMutations"]

UNSET: Any = strawberry.UNSET


@strawberry.input(description="One field of a report form. Rules apply by type: TEXT takes lengths and a pattern, NUMBER a minimum and maximum, CHOICE its choices; RATING is always 1 to 5.")
class ReportFieldInput:
    key: str = strawberry.field(description="Key of the value in reports: a lowercase letter, then letters, digits or `_`.")
    label: str = strawberry.field(description="The question shown to the user.")
    type: FieldType = strawberry.field(description="What kind of value the field takes.")
    required: bool = strawberry.field(default=False, description="Whether every report must answer it.")
    min_value: float | None = strawberry.field(default=None, description="NUMBER: the smallest value accepted.")
    max_value: float | None = strawberry.field(default=None, description="NUMBER: the largest value accepted.")
    min_length: int | None = strawberry.field(default=None, description="TEXT: the fewest characters accepted.")
    max_length: int | None = strawberry.field(default=None, description="TEXT: the most characters accepted.")
    pattern: str | None = strawberry.field(default=None, description="TEXT: a regular expression the whole answer must match, in RE2 syntax (no backreferences or lookarounds; matched in linear time).")
    choices: list[str] | None = strawberry.field(default=None, description="CHOICE: the values to choose from.")


@strawberry.input(description="A new report form.")
class ReportFormCreateInput:
    name: str = strawberry.field(description="The form's name.")
    description: str | None = strawberry.field(default=None, description="When to use the form.")
    fields: list[ReportFieldInput] = strawberry.field(description="The fields, in order (at least one).")


@strawberry.input(description="Changes to a report form; fields left out stay as they are. Reports already submitted keep their values.")
class ReportFormUpdateInput:
    id: strawberry.ID = strawberry.field(description="The form to change.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    description: str | None = strawberry.field(default=UNSET, description="A new description; null clears it.")
    fields: list[ReportFieldInput] | None = strawberry.field(default=None, description="The new list of fields, replacing the current one.")
    archived: bool | None = strawberry.field(default=None, description="Archive (true: no new reports) or restore (false).")


@strawberry.type(description="The outcome of a report form mutation.")
class ReportFormPayload:
    form: ReportForm | None = strawberry.field(default=None, description="The form, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


def _specs(fields: list[ReportFieldInput]) -> list[FieldSpec]:
    specs = [
        FieldSpec(
            key=field.key.strip(),
            label=field.label,
            type=field.type,
            required=field.required,
            min_value=field.min_value,
            max_value=field.max_value,
            min_length=field.min_length,
            max_length=field.max_length,
            pattern=field.pattern,
            choices=tuple(field.choices or ()),
        )
        for field in fields
    ]
    return check_definitions(specs, ("input", "fields"))


async def _replace_fields(session: AsyncSession, form_id: int, specs: list[FieldSpec]) -> None:
    await session.execute(
        delete(models.ReportFormField).where(models.ReportFormField.form_id == form_id).execution_options(synchronize_session=False)
    )
    session.add_all(
        models.ReportFormField(
            form_id=form_id,
            position=index,
            key=spec.key,
            label=spec.label,
            type=spec.type,
            required=spec.required,
            min_value=spec.min_value,
            max_value=spec.max_value,
            min_length=spec.min_length,
            max_length=spec.max_length,
            pattern=spec.pattern,
            choices=list(spec.choices),
        )
        for index, spec in enumerate(specs)
    )


async def _payload(session: AsyncSession, form_id: int) -> ReportFormPayload:
    await session.flush()
    row = (await session.execute(select(*FORM_COLUMNS).where(models.ReportForm.id == form_id))).one()
    return ReportFormPayload(form=form_from_row(row))


@strawberry.type
class ReportFormMutations:
    @strawberry.mutation(description="Create a report form (admins only); link it to activity types with `activityTypeUpdate`.")
    async def report_form_create(self, info: strawberry.Info, input: Annotated[ReportFormCreateInput, strawberry.argument(description="The new form.")]) -> ReportFormPayload:
        context: OperationContext = info.context

        async def change() -> ReportFormPayload:
            context.require_role_error(admin=True)
            session = await context.session()
            name = check_name(input.name, 120, "input", "name")
            specs = _specs(input.fields)
            await check_unique_name(session, models.ReportForm, name, None, "input", "name")
            count = select(func.count()).select_from(models.ReportForm)
            await ensure_room(session, count, MAX_REPORT_FORMS, f"An organisation has at most {MAX_REPORT_FORMS} report forms (archived ones included).", "input", "name")
            form = models.ReportForm(name=name, description=optional_text(input.description, 2000, "input", "description"))
            session.add(form)
            await session.flush()
            await _replace_fields(session, form.id, specs)
            return await _payload(session, form.id)

        return await context.mutate(change, ReportFormPayload)

    @strawberry.mutation(description="Change a report form (admins only).")
    async def report_form_update(self, info: strawberry.Info, input: Annotated[ReportFormUpdateInput, strawberry.argument(description="The form and the changes.")]) -> ReportFormPayload:
        context: OperationContext = info.context

        async def change() -> ReportFormPayload:
            context.require_role_error(admin=True)
            session = await context.session()
            form = await get_row(session, models.ReportForm, input.id, "ReportForm", "input", "id")
            if input.name is not None:
                name = check_name(input.name, 120, "input", "name")
                await check_unique_name(session, models.ReportForm, name, form.id, "input", "name")
                form.name = name
            if input.description is not UNSET:
                form.description = optional_text(input.description, 2000, "input", "description")
            if input.archived is not None:
                form.archived = input.archived
            if input.fields is not None:
                await _replace_fields(session, form.id, _specs(input.fields))
            return await _payload(session, form.id)

        return await context.mutate(change, ReportFormPayload)

    @strawberry.mutation(description="Delete a report form no report uses (admins only); archive it otherwise.")
    async def report_form_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The form to delete.")]
    ) -> DeletePayload:
        context: OperationContext = info.context

        async def change() -> DeletePayload:
            context.require_role_error(admin=True)
            session = await context.session()
            form = await get_row(session, models.ReportForm, id, "ReportForm", "id")
            used = await session.scalar(select(func.count()).select_from(models.Report).where(models.Report.form_id == form.id))
            if used:
                raise UserErrors.conflict(f"{used} reports use this form: archive it instead.", "id")
            for child in (models.ActivityTypeForm, models.ReportFormField):
                await session.execute(delete(child).where(child.form_id == form.id).execution_options(synchronize_session=False))
            await session.delete(form)
            await session.flush()
            return DeletePayload(deleted_id=id)

        return await context.mutate(change, DeletePayload)
