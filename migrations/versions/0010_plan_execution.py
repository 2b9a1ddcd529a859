"""plan execution: place capacities, action status history and milestones, funders and budget lines,
population estimates (issue 20)

Revision ID: 0010
Revises: 0004
Create Date: 2026-12-01 13:38:21.390793

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('funders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('label_en', sa.String(length=120), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funders')),
    sa.UniqueConstraint('code', name=op.f('uq_funders_code'))
    )
    op.create_table('place_capacities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('places >= 0', name=op.f('ck_place_capacities_places_not_negative')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_place_capacities_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['programme_id'], ['ref_items.id'], name=op.f('fk_place_capacities_programme_id_ref_items')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_place_capacities_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_place_capacities'))
    )
    with op.batch_alter_table('place_capacities', schema=None) as batch_op:
        batch_op.create_index('ix_place_capacities_programme', ['programme_id', 'organisation_id', 'starts_on'], unique=False)

    op.create_table('population_estimates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estimated_on', sa.Date(), nullable=False),
    sa.Column('area', sa.String(length=120), nullable=False),
    sa.Column('low', sa.Integer(), nullable=False),
    sa.Column('high', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('low > 0 AND high >= low', name=op.f('ck_population_estimates_range_valid')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_population_estimates_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_estimates'))
    )
    with op.batch_alter_table('population_estimates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_estimates_estimated_on'), ['estimated_on'], unique=False)

    op.create_table('action_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.CheckConstraint('done_on IS NULL OR done_on >= created_on', name=op.f('ck_action_milestones_done_after_created')),
    sa.ForeignKeyConstraint(['action_id'], ['plan_actions.id'], name=op.f('fk_action_milestones_action_id_plan_actions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_milestones'))
    )
    with op.batch_alter_table('action_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_milestones_action_id'), ['action_id'], unique=False)

    op.create_table('action_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('evidence', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('not_started', 'started', 'partly_done', 'done', 'abandoned')", name=op.f('ck_action_status_changes_status_valid')),
    sa.ForeignKeyConstraint(['action_id'], ['plan_actions.id'], name=op.f('fk_action_status_changes_action_id_plan_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_action_status_changes_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_status_changes'))
    )
    with op.batch_alter_table('action_status_changes', schema=None) as batch_op:
        batch_op.create_index('ix_action_status_changes_action', ['action_id', 'effective_on'], unique=False)

    op.create_table('budget_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('planned_cents', sa.BigInteger(), nullable=False),
    sa.Column('committed_cents', sa.BigInteger(), nullable=False),
    sa.Column('spent_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('planned_cents >= 0 AND committed_cents >= 0 AND spent_cents >= 0', name=op.f('ck_budget_lines_amounts_not_negative')),
    sa.ForeignKeyConstraint(['action_id'], ['plan_actions.id'], name=op.f('fk_budget_lines_action_id_plan_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['funder_id'], ['funders.id'], name=op.f('fk_budget_lines_funder_id_funders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_lines')),
    sa.UniqueConstraint('action_id', 'funder_id', 'year', name=op.f('uq_budget_lines_action_id'))
    )
    with op.batch_alter_table('budget_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_lines_action_id'), ['action_id'], unique=False)



def downgrade():
    with op.batch_alter_table('budget_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_lines_action_id'))

    op.drop_table('budget_lines')
    with op.batch_alter_table('action_status_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_action_status_changes_action')

    op.drop_table('action_status_changes')
    with op.batch_alter_table('action_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_milestones_action_id'))

    op.drop_table('action_milestones')
    with op.batch_alter_table('population_estimates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_estimates_estimated_on'))

    op.drop_table('population_estimates')
    with op.batch_alter_table('place_capacities', schema=None) as batch_op:
        batch_op.drop_index('ix_place_capacities_programme')

    op.drop_table('place_capacities')
    op.drop_table('funders')
