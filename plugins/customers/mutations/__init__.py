"""Mutations of the customers plugin, one module per area, each merged into ``Mutation``."""

from __future__ import annotations

from fiche.plugins.customers.mutations.custom_fields import CustomFieldMutations
from fiche.plugins.customers.mutations.customers import CustomerMutations
from fiche.plugins.customers.mutations.documents import DocumentMutations
from fiche.plugins.customers.mutations.locations import LocationMutations
from fiche.plugins.customers.mutations.relations import RelationMutations

__all__ = ["MUTATIONS"]

MUTATIONS: tuple[type, ...] = (
    CustomerMutations,
    LocationMutations,
    RelationMutations,
    DocumentMutations,
    CustomFieldMutations,
)
