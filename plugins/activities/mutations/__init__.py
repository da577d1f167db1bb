"""The plugin's mutations, one module per concern: activities, activity types, report
forms, reports, GPS check-in, follow-up tasks and attachments."""

from __future__ import annotations

from plugins.activities.mutations.activities import ActivityMutations
from plugins.activities.mutations.activity_types import ActivityTypeMutations
from plugins.activities.mutations.attachments import AttachmentMutations
from plugins.activities.mutations.follow_up import FollowUpMutations
from plugins.activities.mutations.forms import ReportFormMutations
from plugins.activities.mutations.gps import GpsMutations
from plugins.activities.mutations.reports import ReportMutations

__all__ = ["MUTATIONS"]

MUTATIONS: tuple[type, ...] = (
    ActivityMutations,
    ActivityTypeMutations,
    ReportFormMutations,
    ReportMutations,
    GpsMutations,
    FollowUpMutations,
    AttachmentMutations,
)
