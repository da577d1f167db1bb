"""Mutations of notes, tasks, categories and follows (merged into ``Mutation``)."""

from __future__ import annotations

from fiche.plugins.notes.mutations.categories import NoteCategoryMutations
from fiche.plugins.notes.mutations.following import FollowMutations
from fiche.plugins.notes.mutations.notes import NoteMutations
from fiche.plugins.notes.mutations.tasks import TaskMutations

__all__ = ["MUTATIONS", "FollowMutations", "NoteCategoryMutations", "NoteMutations", "TaskMutations"]

MUTATIONS: list[type] = [NoteMutations, TaskMutations, NoteCategoryMutations, FollowMutations]
