"""The plugin's mutations, one module per concern: intervention types, planning,
the technician's report, equipment, worksites, maintenance plans."""

from __future__ import annotations

from fiche.plugins.interventions.mutations.equipment import EquipmentMutations
from fiche.plugins.interventions.mutations.maintenance import MaintenanceMutations
from fiche.plugins.interventions.mutations.planning import InterventionMutations
from fiche.plugins.interventions.mutations.report import ReportMutations
from fiche.plugins.interventions.mutations.types import InterventionTypeMutations
from fiche.plugins.interventions.mutations.worksites import WorksiteMutations

__all__ = ["MUTATIONS"]

MUTATIONS: tuple[type, ...] = (
    InterventionTypeMutations,
    InterventionMutations,
    ReportMutations,
    EquipmentMutations,
    WorksiteMutations,
    MaintenanceMutations,
)
