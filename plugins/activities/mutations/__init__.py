"""The plugin's mutations, one module per concern: activities, activity types, report
forms, reports, the report assistant, GPS check-in, follow-up tasks and attachments."""

from __future__ import annotations

from fiche.plugins.activities.mutations.activities import ActivityMutations
from fiche.plugins.activities.mutations.activity_types import ActivityTypeMutations
from fiche.plugins.activities.mutations.assistant import AssistantMutations
from fiche.plugins.activities.mutations.attachments import AttachmentMutations
from fiche.plugins.activities.mutations.follow_up import FollowUpMutations
from fiche.plugins.activities.mutations.forms import ReportFormMutations
from fiche.plugins.activities.mutations.gps import GpsMutations
from fiche.plugins.activities.mutations.reports import ReportMutations

__all__ = ["MUTATIONS"]

MUTATIONS: tuple[type, ...] = (
    ActivityMutations,
    ActivityTypeMutations,
    ReportFormMutations,
    ReportMutations,
    GpsMutations,
    FollowUpMutations,
    AttachmentMutations,
    AssistantMutations,
)
