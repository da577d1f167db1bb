"""Mutations of customer documents (C9): upload through the GraphQL multipart request
spec, and delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.errors import UserErrors
from fiche.files import remove_after_commit
from fiche.plugins.customers import reads
from fiche.plugins.customers.inputs import CustomerDocumentUploadInput
from fiche.plugins.customers.mutations.common import INPUT, gid, pk_of
from fiche.plugins.customers.payloads import (
    CustomerDocumentDeletePayload,
    CustomerDocumentPayload,
)
from fiche.plugins.customers.services import documents
from fiche.plugins.customers.services.customers import get_customer

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["DocumentMutations"]


@strawberry.type
class DocumentMutations:
    @strawberry.mutation(
        description="Attach a file to a customer (GraphQL multipart request). Files larger than the upload limit "
        "are refused with LIMIT_EXCEEDED, types outside the accepted list with INVALID."
    )
    async def customer_document_upload(
        self, info: strawberry.Info, input: Annotated[CustomerDocumentUploadInput, strawberry.argument(description=INPUT)]
    ) -> CustomerDocumentPayload:
        context: OperationContext = info.context

        async def change() -> CustomerDocumentPayload:
            context.require_viewer()
            session = await context.session()
            customer = await get_customer(session, pk_of(input.customer_id, "Customer", "input", "customerId"), "input", "customerId")
            document = await documents.store_document(context, session, customer.id, input.file)
            return CustomerDocumentPayload(document=reads.document_from_row(document))

        return await context.mutate(change, CustomerDocumentPayload)

    @strawberry.mutation(description="Delete a customer document and its file (whoever uploaded it, a manager or an admin).")
    async def customer_document_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The document to delete.")]
    ) -> CustomerDocumentDeletePayload:
        context: OperationContext = info.context

        async def change() -> CustomerDocumentDeletePayload:
            viewer = context.require_viewer()
            session = await context.session()
            document = await documents.get_document(session, pk_of(id, "CustomerDocument", "id"), "id")
            # Documents are shared by everyone who sees the customer; only whoever uploaded
            # one, a manager or an admin may remove it for all (docs/activities-rules.md).
            if not viewer.is_manager and document.created_by_id != viewer.user_id:
                raise UserErrors.forbidden("Only whoever uploaded this document, a manager or an admin can delete it.", "id")
            pk = document.id
            remove_after_commit(context, [await documents.delete_document(session, document)])
            return CustomerDocumentDeletePayload(deleted_id=gid("CustomerDocument", pk))

        return await context.mutate(change, CustomerDocumentDeletePayload)
