"""``reportAssistantFill`` (A7): a draft report read from what the user said, through the
``report_assistant`` hook (the provider chosen by ``FICHE_AI_PROVIDER``). Nothing is saved:
the user checks the draft and submits it with ``reportSubmit``. Every value the provider
gives is checked against the form (like ``reportSubmit`` would) and dropped when invalid."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON

from fiche.cost import list_size
from fiche.errors import ErrorCode, UserError, UserErrors
from fiche.interop import AssistantField, AssistantRequest
from fiche.org_settings import organization_zone
from fiche.plugins.activities import models
from fiche.plugins.activities.common import answers, decode, fetch_activity, get_row
from fiche.plugins.activities.enums import FieldType
from fiche.plugins.activities.loaders import spec_from_field
from fiche.plugins.activities.reads import FIELD_COLUMNS, field_from_row, form_from_row
from fiche.plugins.activities.services.access import check_can_edit
from fiche.plugins.activities.services.extract import DYNAMIC
from fiche.plugins.activities.services.forms import MAX_FIELDS, FieldSpec, check_value
from fiche.plugins.activities.types import Activity, ReportForm, ReportFormField

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["AssistantMutations"]

MAX_ANSWER = 2_000  # characters of one answer to a question
MAX_ACCOUNT = 10_000  # characters of a free account
HINTS = {
    FieldType.TEXT: "Free text.",
    FieldType.NUMBER: "A number, with its unit if any (e.g. “2 500 €”).",
    FieldType.BOOLEAN: "Yes or no.",
    FieldType.CHOICE: "One of: {choices}.",
    FieldType.DATE: "A date, e.g. “15/04”, “mardi prochain”, “in two weeks”.",
    FieldType.RATING: "A rating from 1 to 5, e.g. “4 sur 5”.",
}


@strawberry.enum(description="How the user answers the report assistant.")
class AssistantMode(enum.Enum):
    FORM = strawberry.enum_value("FORM", description="One answer per question (one question per field of the form).")
    DYNAMIC = strawberry.enum_value("DYNAMIC", description="One free account of the visit; the assistant finds each field in it.")


@strawberry.input(description="One answer to the report assistant.")
class AssistantAnswerInput:
    field_key: str | None = strawberry.field(default=None, description="FORM mode: the field whose question this answers. DYNAMIC mode: null.")
    text: str = strawberry.field(description="What the user said or typed.")


@strawberry.type(description="The question the assistant asks for a field (FORM mode).")
class AssistantQuestion:
    field_key: str = strawberry.field(description="The field it fills.")
    question: str = strawberry.field(description="The question: the field's label.")
    hint: str = strawberry.field(description="What kind of answer fits.")


@strawberry.type(description="A value the assistant read for a field, with where it read it.")
class DraftValue:
    field_key: str = strawberry.field(description="The field filled.")
    value: JSON = strawberry.field(description="The value, valid for the field (what `reportSubmit` takes).")
    answer_field_key: str | None = strawberry.field(description="FORM mode: which answer it was read from; null in DYNAMIC mode (the account).")
    start: int = strawberry.field(description="Where in that answer the words it was read from start (a character index).")
    end: int = strawberry.field(description="Where they end (exclusive).")
    quote: str = strawberry.field(description="Those words.")
    confidence: float = strawberry.field(description="How sure the assistant is, from 0 to 1.")


@strawberry.type(description="A draft report: what the assistant could fill, and what it could not. Nothing is saved.")
class ReportDraft:
    mode: AssistantMode = strawberry.field(description="How it was answered.")
    form: ReportForm = strawberry.field(description="The form.")
    questions: list[AssistantQuestion] = strawberry.field(metadata=list_size(MAX_FIELDS), description="One question per field, in the form's order (FORM mode asks them).")
    values: JSON = strawberry.field(description="The values read, by field key: ready for `reportSubmit` once checked by the user.")
    filled: list[DraftValue] = strawberry.field(metadata=list_size(MAX_FIELDS), description="Each value with its source span and confidence, in the form's order.")
    unfilled: list[ReportFormField] = strawberry.field(metadata=list_size(MAX_FIELDS), description="The fields it could not fill, in the form's order.")
    missing_required: list[str] = strawberry.field(metadata=list_size(MAX_FIELDS), description="Keys of required fields still empty: `reportSubmit` would refuse the draft as it is.")
    provider: str = strawberry.field(description="What read the answers: `offline`, `openai:<model>`, or `offline` with the reason of a fallback.")


@strawberry.type(description="The outcome of `reportAssistantFill`.")
class ReportDraftPayload:
    draft: ReportDraft | None = strawberry.field(default=None, description="The draft, when the answers could be read.")
    activity: Activity | None = strawberry.field(default=None, description="The activity reported on.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why not, if they could not.")


def _question(field: ReportFormField) -> AssistantQuestion:
    hint = HINTS[field.type].format(choices=", ".join(field.choices))
    return AssistantQuestion(field_key=field.key, question=field.label, hint=hint)


def _answers(mode: AssistantMode, given: list[AssistantAnswerInput], keys: set[str]) -> dict[str, str]:
    if mode is AssistantMode.DYNAMIC:
        if len(given) != 1 or given[0].field_key is not None:
            raise UserErrors.invalid("DYNAMIC mode takes one answer, the account, without a field key.", "input", "answers")
        if len(given[0].text) > MAX_ACCOUNT:
            raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"An account is at most {MAX_ACCOUNT} characters.", "input", "answers", "0", "text")
        return {DYNAMIC: given[0].text}
    result: dict[str, str] = {}
    for index, answer in enumerate(given):
        path = ("input", "answers", str(index))
        if answer.field_key not in keys:
            raise UserErrors.invalid("FORM mode: each answer names a field of the form.", *path, "fieldKey")
        if answer.field_key in result:
            raise UserErrors.invalid("This field is answered twice.", *path, "fieldKey")
        if len(answer.text) > MAX_ANSWER:
            raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"An answer is at most {MAX_ANSWER} characters.", *path, "text")
        result[answer.field_key] = answer.text
    return result


def _assistant_field(spec: FieldSpec) -> AssistantField:
    return AssistantField(key=spec.key, label=spec.label, type=spec.type.name, required=spec.required, choices=spec.choices, min_value=spec.min_value, max_value=spec.max_value)


@strawberry.type
class AssistantMutations:
    @strawberry.mutation(
        description="Read a draft report from what the user said (A7): in FORM mode one answer per field's question, in DYNAMIC mode one free "
        "account; French or English. Saves nothing: check the draft, then submit it with `reportSubmit`. Same rights as `reportSubmit`."
    )
    async def report_assistant_fill(
        self,
        info: strawberry.Info,
        activity_id: Annotated[strawberry.ID, strawberry.argument(description="The activity reported on.")],
        form_id: Annotated[strawberry.ID, strawberry.argument(description="One of the forms linked to the activity's type.")],
        mode: Annotated[AssistantMode, strawberry.argument(description="How the answers are given.")],
        answers_: Annotated[list[AssistantAnswerInput], strawberry.argument(name="answers", description="The answers (FORM: any of the questions; DYNAMIC: one account).")],
    ) -> ReportDraftPayload:
        context: OperationContext = info.context

        async def change() -> ReportDraftPayload:
            viewer = context.require_viewer()
            session = await context.session()
            activity = await get_row(session, models.Activity, activity_id, "Activity", "activityId")
            check_can_edit(viewer, assignee_id=activity.assignee_id, created_by_id=activity.created_by_id)
            form_pk = decode(form_id, "ReportForm", "formId")
            link = models.ActivityTypeForm
            linked = set((await session.scalars(select(link.form_id).where(link.type_id == activity.type_id))).all())
            if form_pk not in linked:
                raise UserErrors.invalid("This form is not one of the activity type's forms.", "formId")
            form = await session.get(models.ReportForm, form_pk)
            if form is None or form.archived:
                raise UserErrors.invalid("This form is archived.", "formId")
            rows = (await session.execute(select(*FIELD_COLUMNS).where(models.ReportFormField.form_id == form_pk).order_by(models.ReportFormField.position))).all()
            fields = [field_from_row(row) for row in rows]
            specs = [spec_from_field(field) for field in fields]
            said = _answers(mode, answers_, {spec.key for spec in specs})
            reference = activity.starts_at.astimezone(await organization_zone(context))
            request = AssistantRequest(fields=tuple(_assistant_field(spec) for spec in specs), answers=said, reference=reference)
            draft = (await answers([context.pm.hook.report_assistant(context=context, request=request)]))[0]
            if draft is None:
                raise UserErrors.conflict("No report assistant is installed.")
            return ReportDraftPayload(draft=_draft(mode, form_from_row(form), fields, specs, said, draft), activity=await fetch_activity(session, activity.id))

        return await context.mutate(change, ReportDraftPayload)


def _draft(mode: AssistantMode, form: ReportForm, fields: list[ReportFormField], specs: list[FieldSpec], said: dict[str, str], draft: Any) -> ReportDraft:
    by_key = {value.key: value for value in draft.values}
    filled: list[DraftValue] = []
    values: dict[str, Any] = {}
    for spec in specs:
        found = by_key.get(spec.key)
        if found is None:
            continue
        value, problem = check_value(spec, found.value)
        text = said.get(found.answer_key, "")
        if problem is not None or not 0 <= found.start <= found.end <= len(text):
            continue  # a provider's value the form refuses is left for the user to give
        values[spec.key] = value
        filled.append(DraftValue(
            field_key=spec.key, value=JSON(value), answer_field_key=None if found.answer_key == DYNAMIC else found.answer_key,
            start=found.start, end=found.end, quote=text[found.start : found.end], confidence=max(0.0, min(1.0, float(found.confidence))),
        ))  # fmt: skip
    unfilled = [field for field in fields if field.key not in values]
    return ReportDraft(
        mode=mode, form=form, questions=[_question(field) for field in fields], values=JSON(values), filled=filled, unfilled=unfilled,
        missing_required=[spec.key for spec in specs if spec.required and spec.key not in values], provider=draft.provider,
    )  # fmt: skip


