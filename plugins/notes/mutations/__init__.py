"""Mutations of notes, tasks, categories and follows (merged into ``Mutation``)."""

from __future__ import annotations

from plugins.notes.mutations.categories import NoteCategoryMutations
from plugins.notes.mutations.following import FollowMutations
from plugins.notes.mutations.notes import NoteMutations
from plugins.notes.mutations.tasks import TaskMutations

__all__ = ["MUTATIONS", "FollowMutations", "NoteCategoryMutations", "NoteMutations", "TaskMutations"]

MUTATIONS: list[type] = [NoteMutations, TaskMutations, NoteCategoryMutations, FollowMutations]
