"""contracts (with revisions), purchase records, yearly targets and export jobs

Revision ID: 5001
Revises: 0004
Create Date: 2026-11-28 15:49:33.159529
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5001'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The composite foreign key contracts(meeting_id, agency_id, firm_id) needs this key first.
    op.create_unique_constraint('uq_meetings_id_parties', 'meetings', ['id', 'agency_id', 'firm_id'])
    op.create_table('export_jobs',
    sa.Column('requested_by', sa.UUID(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='export_status'), server_default='queued', nullable=False),
    sa.Column('total_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('done_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_export_jobs_requested_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs'))
    )
    op.create_index(op.f('ix_export_jobs_requested_by'), 'export_jobs', ['requested_by'], unique=False)
    op.create_index('ix_export_jobs_status', 'export_jobs', ['status', 'created_at'], unique=False)
    op.create_table('purchase_records',
    sa.Column('agency_id', sa.UUID(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('amount_krw', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('source', sa.String(length=20), server_default='manual', nullable=False),
    sa.Column('recorded_by', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount_krw > 0 AND amount_krw <= 10000000000000', name=op.f('ck_purchase_records_amount_range')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_purchase_records_year_range')),
    sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'], name=op.f('fk_purchase_records_agency_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_purchase_records_recorded_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_records'))
    )
    op.create_index('ix_purchase_records_year_agency', 'purchase_records', ['year', 'agency_id'], unique=False)
    op.create_table('purchase_targets',
    sa.Column('agency_id', sa.UUID(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('target_krw', sa.BigInteger(), nullable=False),
    sa.Column('set_by', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('target_krw >= 0 AND target_krw <= 10000000000000', name=op.f('ck_purchase_targets_target_range')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_purchase_targets_year_range')),
    sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'], name=op.f('fk_purchase_targets_agency_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by'], ['users.id'], name=op.f('fk_purchase_targets_set_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_targets')),
    sa.UniqueConstraint('agency_id', 'year', name='uq_purchase_targets_agency_year')
    )
    op.create_index('ix_purchase_targets_year', 'purchase_targets', ['year'], unique=False)
    op.create_table('contracts',
    sa.Column('agency_id', sa.UUID(), nullable=False),
    sa.Column('firm_id', sa.UUID(), nullable=False),
    sa.Column('amount_krw', sa.BigInteger(), nullable=False),
    sa.Column('contract_date', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('category_code', sa.String(length=20), nullable=True),
    sa.Column('meeting_id', sa.UUID(), nullable=True),
    sa.Column('fair_id', sa.UUID(), nullable=True),
    sa.Column('need_id', sa.UUID(), nullable=True),
    sa.Column('channel', sa.Enum('fair', 'daily_consultation', 'proposal', 'matching_contract', 'other', name='contract_channel'), nullable=False),
    sa.Column('status', sa.Enum('reported', 'confirmed', name='contract_status'), server_default='reported', nullable=False),
    sa.Column('reported_side', sa.Enum('agency', 'firm', 'staff', name='contract_reporter_side'), nullable=False),
    sa.Column('reported_by', sa.UUID(), nullable=True),
    sa.Column('confirmed_by', sa.UUID(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'confirmed') = (confirmed_at IS NOT NULL)", name=op.f('ck_contracts_confirmed_at_iff_confirmed')),
    sa.CheckConstraint('agency_id <> firm_id', name=op.f('ck_contracts_two_parties')),
    sa.CheckConstraint('amount_krw > 0 AND amount_krw <= 10000000000000', name=op.f('ck_contracts_amount_range')),
    sa.CheckConstraint('fair_id IS NULL OR meeting_id IS NOT NULL', name=op.f('ck_contracts_fair_via_meeting')),
    sa.ForeignKeyConstraint(['agency_id'], ['organizations.id'], name=op.f('fk_contracts_agency_id_organizations')),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'], name=op.f('fk_contracts_category_code_categories')),
    sa.ForeignKeyConstraint(['confirmed_by'], ['users.id'], name=op.f('fk_contracts_confirmed_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], name=op.f('fk_contracts_fair_id_fairs')),
    sa.ForeignKeyConstraint(['firm_id'], ['organizations.id'], name=op.f('fk_contracts_firm_id_organizations')),
    sa.ForeignKeyConstraint(['meeting_id', 'agency_id', 'firm_id'], ['meetings.id', 'meetings.agency_id', 'meetings.firm_id'], name='fk_contracts_meeting_parties'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_contracts_need_id_needs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reported_by'], ['users.id'], name=op.f('fk_contracts_reported_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contracts'))
    )
    op.create_index('ix_contracts_agency_date', 'contracts', ['agency_id', 'contract_date'], unique=False)
    op.create_index('ix_contracts_confirmed_date', 'contracts', ['contract_date'], unique=False, postgresql_where="status = 'confirmed'", postgresql_include=['amount_krw', 'agency_id', 'firm_id', 'fair_id', 'meeting_id', 'category_code'])
    op.create_index('ix_contracts_fair', 'contracts', ['fair_id'], unique=False, postgresql_where='fair_id IS NOT NULL')
    op.create_index('ix_contracts_firm_date', 'contracts', ['firm_id', 'contract_date'], unique=False)
    op.create_index('ix_contracts_meeting', 'contracts', ['meeting_id'], unique=False, postgresql_where='meeting_id IS NOT NULL')
    op.create_table('contract_revisions',
    sa.Column('contract_id', sa.UUID(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.Column('actor_side', sa.String(length=10), nullable=False),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_contract_revisions_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_contract_revisions_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_revisions'))
    )
    op.create_index(op.f('ix_contract_revisions_contract_id'), 'contract_revisions', ['contract_id'], unique=False)
    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index(op.f('ix_contract_revisions_contract_id'), table_name='contract_revisions')
    op.drop_table('contract_revisions')
    op.drop_index('ix_contracts_meeting', table_name='contracts', postgresql_where='meeting_id IS NOT NULL')
    op.drop_index('ix_contracts_firm_date', table_name='contracts')
    op.drop_index('ix_contracts_fair', table_name='contracts', postgresql_where='fair_id IS NOT NULL')
    op.drop_index('ix_contracts_confirmed_date', table_name='contracts', postgresql_where="status = 'confirmed'", postgresql_include=['amount_krw', 'agency_id', 'firm_id', 'fair_id', 'meeting_id', 'category_code'])
    op.drop_index('ix_contracts_agency_date', table_name='contracts')
    op.drop_table('contracts')
    op.drop_constraint('uq_meetings_id_parties', 'meetings', type_='unique')
    op.drop_index('ix_purchase_targets_year', table_name='purchase_targets')
    op.drop_table('purchase_targets')
    op.drop_index('ix_purchase_records_year_agency', table_name='purchase_records')
    op.drop_table('purchase_records')
    op.drop_index('ix_export_jobs_status', table_name='export_jobs')
    op.drop_index(op.f('ix_export_jobs_requested_by'), table_name='export_jobs')
    op.drop_table('export_jobs')
    for name in ('export_status', 'contract_channel', 'contract_status', 'contract_reporter_side'):
        sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
    # ### end Alembic commands ###
