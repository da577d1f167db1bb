"""The plugin's mutations, one module per concern: intervention types, planning,
the technician's report, equipment."""

from __future__ import annotations

from fiche.plugins.interventions.mutations.equipment import EquipmentMutations
from fiche.plugins.interventions.mutations.planning import InterventionMutations
from fiche.plugins.interventions.mutations.report import ReportMutations
from fiche.plugins.interventions.mutations.types import InterventionTypeMutations

__all__ = ["MUTATIONS"]

MUTATIONS: tuple[type, ...] = (InterventionTypeMutations, InterventionMutations, ReportMutations, EquipmentMutations)
