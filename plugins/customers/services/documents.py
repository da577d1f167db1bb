"""Documents attached to a customer (C9): upload limits, storage and metadata.

The bytes go to the file storage (``context.app.storage``, replaceable through the
``file_storage`` hook), under a random key; the table keeps the metadata. Files of deleted
rows are removed from the storage once the transaction has committed (the caller
schedules it), so a rolled-back deletion never loses a file; a stored file whose row does
not commit is removed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.errors import UserErrors
from fiche.files import accept_upload, store_upload_for_transaction
from fiche.plugins.customers import models

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["delete_document", "get_document", "store_document"]

async def store_document(
    context: OperationContext,
    session: AsyncSession,
    customer_id: int,
    upload: Any,
    path: Sequence[str] = ("input", "file"),
) -> models.CustomerDocument:
    accepted = await accept_upload(upload, context.settings, *path, default_name="document")
    document = models.CustomerDocument(customer_id=customer_id, **await store_upload_for_transaction(context, accepted))
    session.add(document)
    await session.flush()
    return document


async def get_document(session: AsyncSession, pk: int, *path: str) -> models.CustomerDocument:
    document = await session.scalar(select(models.CustomerDocument).where(models.CustomerDocument.id == pk))
    if document is None:
        raise UserErrors.not_found("No document with this ID.", *path)
    return document


async def delete_document(session: AsyncSession, document: models.CustomerDocument) -> str:
    """Delete the row; returns the storage key to remove after the commit."""
    key = document.storage_key
    await session.delete(document)
    await session.flush()
    return key
