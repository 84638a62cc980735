"""categories (with the taxonomy), needs, fairs, meetings and meeting requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:28:35.781320
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from service.registry.taxonomy import CATEGORIES

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('categories',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_ko', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('parent_code', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['parent_code'], ['categories.code'], name=op.f('fk_categories_parent_code_categories')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_categories'))
    )
    op.create_index(op.f('ix_categories_parent_code'), 'categories', ['parent_code'], unique=False)
    categories = sa.table(
        "categories", sa.column("code"), sa.column("name_ko"), sa.column("name_en"), sa.column("parent_code")
    )
    # Groups first (leaves reference them). Codes never change meaning; later additions get their own migration.
    rows = [c._asdict() for c in CATEGORIES]
    op.bulk_insert(categories, [r for r in rows if r["parent_code"] is None])
    op.bulk_insert(categories, [r for r in rows if r["parent_code"] is not None])
    op.create_table('fairs',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('mode', sa.Enum('first_come', 'requests', name='fair_mode'), nullable=False),
    sa.Column('days', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('booking_opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('booking_closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('max_meetings_per_firm', sa.Integer(), nullable=True),
    sa.Column('room_url_template', sa.String(length=500), nullable=True),
    sa.Column('agenda_status', sa.Enum('none', 'provisional', 'final', name='agenda_status'), server_default='none', nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('booking_opens_at < booking_closes_at', name=op.f('ck_fairs_booking_window_order')),
    sa.CheckConstraint('max_meetings_per_firm IS NULL OR max_meetings_per_firm > 0', name=op.f('ck_fairs_limit_positive')),
    sa.CheckConstraint('slot_minutes BETWEEN 5 AND 240', name=op.f('ck_fairs_slot_minutes_range')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_fairs_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fairs'))
    )
    op.create_table('needs',
    sa.Column('agency_id', sa.UUID(), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('category_codes', sa.ARRAY(sa.String(length=20)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('budget_krw', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('needed_by', sa.Date(), nullable=False),
    sa.Column('delivery_district', sa.String(length=40), nullable=True),
    sa.Column('preferred_firm_types', sa.ARRAY(sa.String(length=40)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', 'awarded', name='need_status'), server_default='open', nullable=False),
    sa.Column('awarded_firm_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('budget_krw >= 0 AND budget_krw <= 10000000000000', name=op.f('ck_needs_budget_range')),
    sa.CheckConstraint('quantity IS NULL OR quantity > 0', name=op.f('ck_needs_quantity_positive')),
    sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'], name=op.f('fk_needs_agency_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['awarded_firm_id'], ['organizations.id'], name=op.f('fk_needs_awarded_firm_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_needs_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_needs'))
    )
    op.create_index('ix_needs_agency_status', 'needs', ['agency_id', 'status'], unique=False)
    op.create_index('ix_needs_category_codes', 'needs', ['category_codes'], unique=False, postgresql_using='gin')
    op.create_table('fair_participants',
    sa.Column('fair_id', sa.UUID(), nullable=False),
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('room_url', sa.String(length=500), nullable=True),
    sa.Column('joined_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('added_by_staff', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], name=op.f('fk_fair_participants_fair_id_fairs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_fair_participants_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fair_participants')),
    sa.UniqueConstraint('fair_id', 'organization_id', name='uq_fair_participants_fair_org')
    )
    op.create_index(op.f('ix_fair_participants_organization_id'), 'fair_participants', ['organization_id'], unique=False)
    op.create_table('fair_unavailability',
    sa.Column('fair_id', sa.UUID(), nullable=False),
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], name=op.f('fk_fair_unavailability_fair_id_fairs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_fair_unavailability_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('fair_id', 'organization_id', 'starts_at', name=op.f('pk_fair_unavailability'))
    )
    op.create_table('meeting_requests',
    sa.Column('fair_id', sa.UUID(), nullable=False),
    sa.Column('firm_id', sa.UUID(), nullable=False),
    sa.Column('agency_id', sa.UUID(), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('message', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'declined', 'scheduled', 'unscheduled', 'withdrawn', name='request_status'), server_default='pending', nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unscheduled_reason', sa.String(length=200), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('priority BETWEEN 1 AND 3', name=op.f('ck_meeting_requests_priority_range')),
    sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'], name=op.f('fk_meeting_requests_agency_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], name=op.f('fk_meeting_requests_fair_id_fairs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['firm_id'], ['organizations.id'], name=op.f('fk_meeting_requests_firm_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_requests'))
    )
    op.create_index('ix_meeting_requests_agency_status', 'meeting_requests', ['agency_id', 'status'], unique=False)
    op.create_index('uq_meeting_requests_open_pair', 'meeting_requests', ['fair_id', 'firm_id', 'agency_id'], unique=True, postgresql_where="status <> 'withdrawn' AND status <> 'declined'")
    op.create_table('meetings',
    sa.Column('fair_id', sa.UUID(), nullable=True),
    sa.Column('agency_id', sa.UUID(), nullable=False),
    sa.Column('firm_id', sa.UUID(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('during', postgresql.TSTZRANGE(), sa.Computed("tstzrange(starts_at, ends_at, '[)')", persisted=True), nullable=False),
    sa.Column('status', sa.Enum('booked', 'held', 'no_show', 'cancelled', name='meeting_status'), server_default='booked', nullable=False),
    sa.Column('room_url', sa.String(length=500), nullable=True),
    sa.Column('sequence', sa.Integer(), server_default='0', nullable=False),
    sa.Column('provisional', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('request_id', sa.UUID(), nullable=True),
    sa.Column('booked_by', sa.UUID(), nullable=True),
    sa.Column('by_staff', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('agency_rating', sa.Enum('did_not_take_place', 'insufficient_interest', 'informative_no_cooperation', 'cooperation_possible', name='meeting_rating'), nullable=True),
    sa.Column('firm_rating', sa.Enum('did_not_take_place', 'insufficient_interest', 'informative_no_cooperation', 'cooperation_possible', name='meeting_rating'), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    postgresql.ExcludeConstraint((sa.column('agency_id'), '='), (sa.column('during'), '&&'), where=sa.text("status <> 'cancelled'"), using='gist', name='ex_meetings_agency_overlap'),
    postgresql.ExcludeConstraint((sa.column('firm_id'), '='), (sa.column('during'), '&&'), where=sa.text("status <> 'cancelled'"), using='gist', name='ex_meetings_firm_overlap'),
    sa.CheckConstraint('agency_id <> firm_id', name=op.f('ck_meetings_two_parties')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_meetings_time_order')),
    sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'], name=op.f('fk_meetings_agency_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['booked_by'], ['users.id'], name=op.f('fk_meetings_booked_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], name=op.f('fk_meetings_fair_id_fairs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['firm_id'], ['organizations.id'], name=op.f('fk_meetings_firm_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['meeting_requests.id'], name=op.f('fk_meetings_request_id_meeting_requests'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    op.create_index('ix_meetings_agency', 'meetings', ['agency_id', 'starts_at'], unique=False)
    op.create_index('ix_meetings_fair_status', 'meetings', ['fair_id', 'status'], unique=False)
    op.create_index('ix_meetings_firm', 'meetings', ['firm_id', 'starts_at'], unique=False)
    op.create_table('meeting_events',
    sa.Column('meeting_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.Column('by_staff', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_meeting_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_events_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_events'))
    )
    op.create_index(op.f('ix_meeting_events_meeting_id'), 'meeting_events', ['meeting_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_meeting_events_meeting_id'), table_name='meeting_events')
    op.drop_table('meeting_events')
    op.drop_index('ix_meetings_firm', table_name='meetings')
    op.drop_index('ix_meetings_fair_status', table_name='meetings')
    op.drop_index('ix_meetings_agency', table_name='meetings')
    op.drop_table('meetings')
    op.drop_index('uq_meeting_requests_open_pair', table_name='meeting_requests', postgresql_where="status <> 'withdrawn' AND status <> 'declined'")
    op.drop_index('ix_meeting_requests_agency_status', table_name='meeting_requests')
    op.drop_table('meeting_requests')
    op.drop_table('fair_unavailability')
    op.drop_index(op.f('ix_fair_participants_organization_id'), table_name='fair_participants')
    op.drop_table('fair_participants')
    op.drop_index('ix_needs_category_codes', table_name='needs', postgresql_using='gin')
    op.drop_index('ix_needs_agency_status', table_name='needs')
    op.drop_table('needs')
    op.drop_table('fairs')
    op.drop_index(op.f('ix_categories_parent_code'), table_name='categories')
    op.drop_table('categories')
    for enum_name in ("meeting_rating", "meeting_status", "request_status", "agenda_status", "fair_mode", "need_status"):
        op.execute(f"DROP TYPE IF EXISTS {enum_name}")
