"""interventions: types, interventions with their technicians, report photos, equipment,
worksites and maintenance plans

Revision ID: interventions0001
Revises: 
Create Date: 2026-11-29 12:27:32.917767
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fiche.db


revision: str = 'interventions0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ('interventions',)
depends_on: str | Sequence[str] | None = 'gateway0001'


def upgrade() -> None:
    op.create_table('equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('brand', sa.String(length=100), nullable=True),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('serial_number', sa.String(length=100), nullable=True),
    sa.Column('installed_on', sa.Date(), nullable=True),
    sa.Column('picture_key', sa.String(length=120), nullable=True),
    sa.Column('picture_type', sa.String(length=100), nullable=True),
    sa.Column('thumbnail_key', sa.String(length=120), nullable=True),
    sa.Column('thumbnail_type', sa.String(length=100), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_equipment_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_equipment_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_equipment_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.create_index('ix_equipment_customer_id_name', ['customer_id', 'name', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_equipment_organization_id'), ['organization_id'], unique=False)

    op.create_table('intervention_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('colour', sa.String(length=7), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_intervention_types_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_intervention_types_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_intervention_types_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intervention_types')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('intervention_types', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intervention_types_organization_id'), ['organization_id'], unique=False)
    op.create_index('uq_intervention_types_organization_id_lower_name', 'intervention_types', ['organization_id', sa.text('lower(name)')], unique=True)

    op.create_table('worksites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_worksites_ends_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_worksites_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_worksites_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_worksites_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worksites')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('worksites', schema=None) as batch_op:
        batch_op.create_index('ix_worksites_customer_id_starts_on', ['customer_id', 'starts_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_worksites_organization_id'), ['organization_id'], unique=False)

    op.create_table('maintenance_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('recurrence', sa.String(length=500), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('assigned_user_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_maintenance_plans_ends_after_start')),
    sa.ForeignKeyConstraint(['assigned_user_id'], ['users.id'], name=op.f('fk_maintenance_plans_assigned_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_maintenance_plans_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_maintenance_plans_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['type_id'], ['intervention_types.id'], name=op.f('fk_maintenance_plans_type_id_intervention_types'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_maintenance_plans_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_plans')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('maintenance_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_plans_assigned_user_id'), ['assigned_user_id'], unique=False)
        batch_op.create_index('ix_maintenance_plans_customer_id_name', ['customer_id', 'name', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_plans_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_plans_type_id'), ['type_id'], unique=False)

    op.create_table('interventions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('search_title', sa.String(length=200), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', fiche.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', fiche.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('to_invoice', sa.Boolean(), nullable=False),
    sa.Column('invoice_id', sa.String(length=100), nullable=True),
    sa.Column('completed_at', fiche.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('actual_start', fiche.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('actual_end', fiche.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('work_done', sa.Text(), nullable=True),
    sa.Column('signer_name', sa.String(length=200), nullable=True),
    sa.Column('signature_key', sa.String(length=120), nullable=True),
    sa.Column('signature_type', sa.String(length=100), nullable=True),
    sa.Column('worksite_id', sa.Integer(), nullable=True),
    sa.Column('maintenance_plan_id', sa.Integer(), nullable=True),
    sa.Column('occurrence', sa.Date(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('actual_end IS NULL OR actual_start IS NULL OR actual_end >= actual_start', name=op.f('ck_interventions_actual_end_after_start')),
    sa.CheckConstraint('ends_at IS NULL OR (starts_at IS NOT NULL AND ends_at >= starts_at)', name=op.f('ck_interventions_ends_after_start')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], name=op.f('fk_interventions_completed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_interventions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['maintenance_plan_id'], ['maintenance_plans.id'], name=op.f('fk_interventions_maintenance_plan_id_maintenance_plans'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_interventions_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['type_id'], ['intervention_types.id'], name=op.f('fk_interventions_type_id_intervention_types'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_interventions_updated_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['worksite_id'], ['worksites.id'], name=op.f('fk_interventions_worksite_id_worksites'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interventions')),
    sa.UniqueConstraint('maintenance_plan_id', 'occurrence', name=op.f('uq_interventions_maintenance_plan_id_occurrence')),
    sa.UniqueConstraint('organization_id', 'number', name=op.f('uq_interventions_organization_id_number')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('interventions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interventions_address_id'), ['address_id'], unique=False)
        batch_op.create_index('ix_interventions_customer_id_starts_at', ['customer_id', 'starts_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interventions_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_interventions_organization_id_starts_at', ['organization_id', 'starts_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interventions_type_id'), ['type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interventions_worksite_id'), ['worksite_id'], unique=False)

    op.create_table('maintenance_plan_equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_maintenance_plan_equipment_equipment_id_equipment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_maintenance_plan_equipment_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['maintenance_plans.id'], name=op.f('fk_maintenance_plan_equipment_plan_id_maintenance_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_plan_equipment')),
    sa.UniqueConstraint('plan_id', 'equipment_id', name=op.f('uq_maintenance_plan_equipment_plan_id_equipment_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('maintenance_plan_equipment', schema=None) as batch_op:
        batch_op.create_index('ix_maintenance_plan_equipment_equipment_id', ['equipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_plan_equipment_organization_id'), ['organization_id'], unique=False)

    op.create_table('intervention_equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intervention_id', sa.Integer(), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_intervention_equipment_equipment_id_equipment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['intervention_id'], ['interventions.id'], name=op.f('fk_intervention_equipment_intervention_id_interventions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_intervention_equipment_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intervention_equipment')),
    sa.UniqueConstraint('intervention_id', 'equipment_id', name=op.f('uq_intervention_equipment_intervention_id_equipment_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('intervention_equipment', schema=None) as batch_op:
        batch_op.create_index('ix_intervention_equipment_equipment_id', ['equipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intervention_equipment_organization_id'), ['organization_id'], unique=False)

    op.create_table('intervention_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intervention_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=120), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', fiche.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_intervention_photos_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['intervention_id'], ['interventions.id'], name=op.f('fk_intervention_photos_intervention_id_interventions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_intervention_photos_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_intervention_photos_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intervention_photos')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('intervention_photos', schema=None) as batch_op:
        batch_op.create_index('ix_intervention_photos_intervention_id_id', ['intervention_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intervention_photos_organization_id'), ['organization_id'], unique=False)

    op.create_table('intervention_technicians',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intervention_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['intervention_id'], ['interventions.id'], name=op.f('fk_intervention_technicians_intervention_id_interventions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_intervention_technicians_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_intervention_technicians_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intervention_technicians')),
    sa.UniqueConstraint('intervention_id', 'user_id', name=op.f('uq_intervention_technicians_intervention_id_user_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('intervention_technicians', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intervention_technicians_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_intervention_technicians_user_id_intervention_id', ['user_id', 'intervention_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('intervention_technicians', schema=None) as batch_op:
        batch_op.drop_index('ix_intervention_technicians_user_id_intervention_id')
        batch_op.drop_index(batch_op.f('ix_intervention_technicians_organization_id'))

    op.drop_table('intervention_technicians')
    with op.batch_alter_table('intervention_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intervention_photos_organization_id'))
        batch_op.drop_index('ix_intervention_photos_intervention_id_id')

    op.drop_table('intervention_photos')
    with op.batch_alter_table('intervention_equipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intervention_equipment_organization_id'))
        batch_op.drop_index('ix_intervention_equipment_equipment_id')

    op.drop_table('intervention_equipment')
    with op.batch_alter_table('maintenance_plan_equipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_plan_equipment_organization_id'))
        batch_op.drop_index('ix_maintenance_plan_equipment_equipment_id')

    op.drop_table('maintenance_plan_equipment')
    with op.batch_alter_table('interventions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interventions_worksite_id'))
        batch_op.drop_index(batch_op.f('ix_interventions_type_id'))
        batch_op.drop_index('ix_interventions_organization_id_starts_at')
        batch_op.drop_index(batch_op.f('ix_interventions_organization_id'))
        batch_op.drop_index('ix_interventions_customer_id_starts_at')
        batch_op.drop_index(batch_op.f('ix_interventions_address_id'))

    op.drop_table('interventions')
    with op.batch_alter_table('maintenance_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_plans_type_id'))
        batch_op.drop_index(batch_op.f('ix_maintenance_plans_organization_id'))
        batch_op.drop_index('ix_maintenance_plans_customer_id_name')
        batch_op.drop_index(batch_op.f('ix_maintenance_plans_assigned_user_id'))

    op.drop_table('maintenance_plans')
    with op.batch_alter_table('worksites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worksites_organization_id'))
        batch_op.drop_index('ix_worksites_customer_id_starts_on')

    op.drop_table('worksites')
    with op.batch_alter_table('intervention_types', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intervention_types_organization_id'))

    op.drop_index('uq_intervention_types_organization_id_lower_name', table_name='intervention_types')
    op.drop_table('intervention_types')
    with op.batch_alter_table('equipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equipment_organization_id'))
        batch_op.drop_index('ix_equipment_customer_id_name')

    op.drop_table('equipment')
