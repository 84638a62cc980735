"""matching: tunable weights, exposure log, shortlists; track-record counters on organizations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 16:31:05.820986
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from service.matching.models import DIRECT_CONTRACT_LIMIT_KRW
from service.matching.scoring import DEFAULT_WEIGHTS

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('matching_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('weights', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('direct_contract_limit_krw', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_matching_settings_updated_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_settings'))
    )
    op.create_table('match_exposures',
    sa.Column('firm_id', sa.UUID(), nullable=False),
    sa.Column('need_id', sa.UUID(), nullable=False),
    sa.Column('shown_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.ForeignKeyConstraint(['firm_id'], ['organizations.id'], name=op.f('fk_match_exposures_firm_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_match_exposures_need_id_needs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_exposures'))
    )
    op.create_index('ix_match_exposures_firm_at', 'match_exposures', ['firm_id', 'shown_at'], unique=False)
    op.create_table('shortlists',
    sa.Column('need_id', sa.UUID(), nullable=False),
    sa.Column('firm_id', sa.UUID(), nullable=False),
    sa.Column('invite', sa.String(length=10), nullable=True),
    sa.Column('fair_id', sa.UUID(), nullable=True),
    sa.Column('message', sa.Text(), server_default='', nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_shortlists_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], name=op.f('fk_shortlists_fair_id_fairs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['firm_id'], ['organizations.id'], name=op.f('fk_shortlists_firm_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_shortlists_need_id_needs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlists')),
    sa.UniqueConstraint('need_id', 'firm_id', name='uq_shortlists_need_firm')
    )
    op.create_index(op.f('ix_shortlists_firm_id'), 'shortlists', ['firm_id'], unique=False)
    settings = sa.table(
        "matching_settings",
        sa.column("id", sa.Integer),
        sa.column("weights", postgresql.JSONB),
        sa.column("direct_contract_limit_krw", sa.BigInteger),
    )
    op.bulk_insert(settings, [{"id": 1, "weights": DEFAULT_WEIGHTS, "direct_contract_limit_krw": DIRECT_CONTRACT_LIMIT_KRW}])
    op.add_column('organizations', sa.Column('confirmed_contracts', sa.Integer(), server_default='0', nullable=False))
    op.add_column('organizations', sa.Column('confirmed_sales_krw', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('organizations', 'confirmed_sales_krw')
    op.drop_column('organizations', 'confirmed_contracts')
    op.drop_index(op.f('ix_shortlists_firm_id'), table_name='shortlists')
    op.drop_table('shortlists')
    op.drop_index('ix_match_exposures_firm_at', table_name='match_exposures')
    op.drop_table('match_exposures')
    op.drop_table('matching_settings')
