"""Mutations of billing (merged into ``Mutation``)."""

from __future__ import annotations

from fiche.plugins.billing.mutations.documents import BillingDocumentMutations
from fiche.plugins.billing.mutations.payments import PaymentMutations
from fiche.plugins.billing.mutations.work import WorkMutations

__all__ = ["MUTATIONS", "BillingDocumentMutations", "PaymentMutations", "WorkMutations"]

MUTATIONS: list[type] = [BillingDocumentMutations, PaymentMutations, WorkMutations]
