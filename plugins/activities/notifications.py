"""Who hears about a new activity: the followers of its customer (the bell of N3), through
the ``customer_followers`` hook (the notes plugin owns follows) and the gateway's
``notify()``, with a notification kind of their own that each user can switch off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fiche.directory import customer_locations
from fiche.notifications import NotificationKind, notify
from fiche.relay import encode_id
from fiche.plugins.activities.common import answers
from fiche.plugins.activities.services.sanitise import plain_text

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext
    from fiche.plugins.activities import models

__all__ = ["FOLLOWED_CUSTOMER_ACTIVITY", "KINDS", "notify_followers"]

FOLLOWED_CUSTOMER_ACTIVITY = "FOLLOWED_CUSTOMER_ACTIVITY"
KINDS = (NotificationKind(FOLLOWED_CUSTOMER_ACTIVITY, "A colleague recorded or planned an activity with a customer you follow."),)
EXCERPT = 80


async def notify_followers(context: OperationContext, session: AsyncSession, activity: models.Activity, type_name: str) -> list[int]:
    """Tell the customer's followers (except the author) about ``activity``, just created;
    returns who was notified. Nobody answers the hook: nobody follows, nothing is sent."""
    viewer = context.require_viewer()
    followers = (await answers([context.pm.hook.customer_followers(session=session, customer_ids=[activity.location_id])]))[0] or {}
    recipients = [user_id for user_id in followers.get(activity.location_id, ()) if user_id != viewer.user_id]
    if not recipients:
        return []
    location = (await customer_locations(context.pm, session, [activity.location_id])).get(activity.location_id)
    where = f" with {location.display_name}" if location is not None else ""
    text = plain_text(activity.description)
    quote = f": “{text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + '…'}”" if text else ""
    message = f"{viewer.name} recorded a {type_name.lower()}{where} on {activity.starts_at:%Y-%m-%d %H:%M} UTC{quote}"
    customer_gid, activity_gid = encode_id("Customer", activity.location_id), encode_id("Activity", activity.id)
    link = f"/customers/{customer_gid}#activity-{activity_gid}"
    return await notify(context, recipients, FOLLOWED_CUSTOMER_ACTIVITY, message=message, target_id=customer_gid, subject_id=activity_gid, link=link)
