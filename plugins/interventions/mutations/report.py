"""The intervention report ("bon d'intervention", I1 item 2): the assigned technician
completes the intervention with the actual times, the work done, the equipment serviced,
photos and the customer's signature. Completing sets DONE and alerts the customer's
followers."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.file_uploads import Upload

from fiche.datetimes import instant_problem
from fiche.db import utcnow
from fiche.directory import customer_followers
from fiche.errors import ErrorCode, UserErrors
from fiche.files import accept_upload, store_for_transaction, store_upload_for_transaction
from fiche.images import CheckedImage, check_image
from fiche.plugins.interventions import kinds, models
from fiche.plugins.interventions.common import check_equipment, decode, fetch_intervention, get_row, notify_users, technician_ids
from fiche.plugins.interventions.mutations.planning import InterventionPayload
from fiche.plugins.interventions.services.access import check_can_complete
from fiche.plugins.interventions.services.status import today
from fiche.plugins.interventions.services.bounds import MAX_EQUIPMENT_PER_REPORT, MAX_PHOTOS

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["ReportMutations"]

MAX_WORK_DONE = 20_000


@strawberry.input(description="The report that completes an intervention. Photos and the signature are uploads (GraphQL multipart request), given beside this input.")
class InterventionCompleteInput:
    id: strawberry.ID = strawberry.field(description="The intervention to complete.")
    actual_start: dt.datetime | None = strawberry.field(default=None, description="When the work really started.")
    actual_end: dt.datetime | None = strawberry.field(default=None, description="When the work really ended (not before its start).")
    work_done: str | None = strawberry.field(default=None, description=f"The work done (at most {MAX_WORK_DONE} characters).")
    equipment_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="The customer's equipment serviced.")
    signer_name: str | None = strawberry.field(default=None, description="Who signed for the customer (required with a signature).")


def _instant(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    problem = instant_problem(value)
    if problem is not None:
        raise UserErrors.invalid(f"The time {problem}.", "input", name)
    return value.astimezone(dt.UTC)


async def _images(context: OperationContext, uploads: list[Upload], *path: str) -> list[CheckedImage]:
    images = []
    for index, upload in enumerate(uploads):
        accepted = await accept_upload(upload, context.settings, *path, str(index), default_name="photo")
        images.append(await check_image(accepted, *path, str(index)))
    return images


@strawberry.type
class ReportMutations:
    @strawberry.mutation(
        description="Complete an intervention with its report: it becomes DONE and the customer's followers are told "
        "(an assigned technician, a manager or an admin)."
    )
    async def intervention_complete(
        self,
        info: strawberry.Info,
        input: Annotated[InterventionCompleteInput, strawberry.argument(description="The report.")],
        photos: Annotated[list[Upload] | None, strawberry.argument(description=f"Photos of the work (images, at most {MAX_PHOTOS}).")] = None,
        signature: Annotated[Upload | None, strawberry.argument(description="The customer's signature (an image).")] = None,
    ) -> InterventionPayload:
        context: OperationContext = info.context

        async def change() -> InterventionPayload:
            viewer = context.require_viewer()
            decode(input.id, "Intervention", "input", "id")
            await today(context)  # reads before the write transaction starts
            if await context.load_node(input.id, "Intervention") is None:
                raise UserErrors.not_found("No Intervention with this ID.", "input", "id")
            session = await context.session()
            intervention = await get_row(session, models.Intervention, input.id, "Intervention", "input", "id")
            check_can_complete(viewer, await technician_ids(session, intervention.id))
            if intervention.completed_at is not None:
                raise UserErrors.conflict("This intervention is already done.", "input", "id")
            actual_start, actual_end = _instant(input.actual_start, "actualStart"), _instant(input.actual_end, "actualEnd")
            if actual_start is not None and actual_end is not None and actual_end < actual_start:
                raise UserErrors.invalid("The work cannot end before it starts.", "input", "actualEnd")
            if input.work_done is not None and len(input.work_done) > MAX_WORK_DONE:
                raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"At most {MAX_WORK_DONE} characters.", "input", "workDone")
            equipment = await check_equipment(session, input.equipment_ids, intervention.customer_id, f"A report lists at most {MAX_EQUIPMENT_PER_REPORT} equipment.", MAX_EQUIPMENT_PER_REPORT)
            signer = " ".join((input.signer_name or "").split()) or None
            if signer is not None and len(signer) > 200:
                raise UserErrors.invalid("A name has at most 200 characters.", "input", "signerName")
            if signature is not None and signer is None:
                raise UserErrors.invalid("Say who signed.", "input", "signerName")
            if len(photos or ()) > MAX_PHOTOS:
                raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"At most {MAX_PHOTOS} photos.", "photos")
            pictures = await _images(context, list(photos or ()), "photos")
            signed = (await _images(context, [signature], "signature"))[0] if signature is not None else None
            for picture in pictures:
                session.add(models.InterventionPhoto(intervention_id=intervention.id, **await store_upload_for_transaction(context, picture.file)))
            if signed is not None:
                intervention.signature_key = await store_for_transaction(context, signed.file.data, suffix=signed.file.suffix)
                intervention.signature_type = signed.file.content_type
            session.add_all(models.InterventionEquipment(intervention_id=intervention.id, equipment_id=pk) for pk in equipment)
            intervention.completed_at = utcnow()
            intervention.completed_by_id = viewer.user_id
            intervention.actual_start, intervention.actual_end = actual_start, actual_end
            intervention.work_done = input.work_done or None
            intervention.signer_name = signer
            await session.flush()
            followers = (await customer_followers(context.pm, session, [intervention.customer_id])).get(intervention.customer_id, ())
            message = f"Intervention {intervention.number} — {intervention.title} is done."
            await notify_users(context, followers, kinds.DONE, intervention, message)
            return InterventionPayload(intervention=await fetch_intervention(context, session, intervention.id))

        return await context.mutate(change, InterventionPayload)
