"""Alembic environment: runs on the connection that ``fiche.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from fiche.db import Base

config = context.config
connection = config.attributes["connection"]
include_object = config.attributes.get("include_object")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
