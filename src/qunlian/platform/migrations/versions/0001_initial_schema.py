"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 16:59:37.226972
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.String(length=80), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_table('chain_nodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('industry_codes', sa.JSON(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['chain_nodes.id'], name=op.f('fk_chain_nodes_parent_id_chain_nodes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_nodes')),
    sa.UniqueConstraint('system', 'code', name=op.f('uq_chain_nodes_system_code'))
    )
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('units', sa.JSON(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('doc_number', sa.String(length=80), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=40), nullable=False),
    sa.Column('start_year', sa.Integer(), nullable=False),
    sa.Column('end_year', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('code', name=op.f('uq_plans_code'))
    )
    op.create_table('policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('rule_preset', sa.String(length=80), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policies')),
    sa.UniqueConstraint('code', name=op.f('uq_policies_code'))
    )
    op.create_table('towns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('division_code', sa.String(length=12), nullable=True),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_towns')),
    sa.UniqueConstraint('code', name=op.f('uq_towns_code')),
    sa.UniqueConstraint('name', name=op.f('uq_towns_name'))
    )
    op.create_table('uscc_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=18), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('approved_by', sa.String(length=80), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uscc_exceptions')),
    sa.UniqueConstraint('code', name=op.f('uq_uscc_exceptions_code'))
    )
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('table', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('nature', sa.String(length=10), nullable=True),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('aggregation', sa.String(length=20), nullable=False),
    sa.Column('weight_by', sa.String(length=80), nullable=True),
    sa.Column('responsible_units', sa.JSON(), nullable=False),
    sa.Column('baseline_year', sa.Integer(), nullable=True),
    sa.Column('baseline_value', sa.Float(), nullable=True),
    sa.Column('baseline_text', sa.String(length=60), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_indicators_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators')),
    sa.UniqueConstraint('plan_id', 'code', name=op.f('uq_indicators_plan_id_code'))
    )
    op.create_table('parks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_parks_town_id_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parks')),
    sa.UniqueConstraint('code', name=op.f('uq_parks_code')),
    sa.UniqueConstraint('name', name=op.f('uq_parks_name'))
    )
    op.create_table('plan_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=120), nullable=False),
    sa.Column('heading', sa.String(length=120), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('lead_unit', sa.String(length=120), nullable=False),
    sa.Column('co_units', sa.JSON(), nullable=False),
    sa.Column('due_year', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('closed_by', sa.String(length=80), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_tasks_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_tasks')),
    sa.UniqueConstraint('plan_id', 'seq', name=op.f('uq_plan_tasks_plan_id_seq'))
    )
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('industry', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('investor', sa.String(length=300), nullable=False),
    sa.Column('total_investment_yi', sa.Float(), nullable=True),
    sa.Column('total_investment_text', sa.String(length=40), nullable=True),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('chain_node_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['chain_node_id'], ['chain_nodes.id'], name=op.f('fk_projects_chain_node_id_chain_nodes')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_projects_plan_id_plans')),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_projects_town_id_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects'))
    )
    op.create_table('actuals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('cumulative', sa.Boolean(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('is_estimate', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('superseded', sa.Boolean(), nullable=False),
    sa.Column('entered_by', sa.String(length=80), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_actuals_indicator_id_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_actuals_town_id_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actuals'))
    )
    with op.batch_alter_table('actuals', schema=None) as batch_op:
        batch_op.create_index('ix_actuals_lookup', ['indicator_id', 'period', 'town_id'], unique=False)

    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('park_id', sa.Integer(), nullable=True),
    sa.Column('industry_code', sa.String(length=4), nullable=True),
    sa.Column('ownership', sa.String(length=20), nullable=True),
    sa.Column('foreign_investor', sa.String(length=200), nullable=True),
    sa.Column('fortune500_investor', sa.Boolean(), nullable=False),
    sa.Column('established_on', sa.Date(), nullable=True),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['parks.id'], name=op.f('fk_enterprises_park_id_parks')),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_enterprises_town_id_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('uscc', name=op.f('uq_enterprises_uscc'))
    )
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprises_industry_code'), ['industry_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprises_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprises_town_id'), ['town_id'], unique=False)

    op.create_table('targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('text', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_targets_indicator_id_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_targets_town_id_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targets')),
    sa.UniqueConstraint('indicator_id', 'year', 'town_id', name=op.f('uq_targets_indicator_id_year_town_id'))
    )
    op.create_table('task_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('entered_by', sa.String(length=80), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['plan_tasks.id'], name=op.f('fk_task_progress_task_id_plan_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_progress'))
    )
    with op.batch_alter_table('task_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_progress_task_id'), ['task_id'], unique=False)

    op.create_table('enterprise_chain_nodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_chain_nodes_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['node_id'], ['chain_nodes.id'], name=op.f('fk_enterprise_chain_nodes_node_id_chain_nodes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_chain_nodes')),
    sa.UniqueConstraint('enterprise_id', 'node_id', name=op.f('uq_enterprise_chain_nodes_enterprise_id_node_id'))
    )
    with op.batch_alter_table('enterprise_chain_nodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_chain_nodes_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_chain_nodes_node_id'), ['node_id'], unique=False)

    op.create_table('enterprise_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_events_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_events'))
    )
    with op.batch_alter_table('enterprise_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_events_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('enterprise_years',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('above_scale', sa.Boolean(), nullable=True),
    sa.Column('land_mu', sa.Float(), nullable=True),
    sa.Column('rented_out_mu', sa.Float(), nullable=True),
    sa.Column('tenants', sa.Integer(), nullable=True),
    sa.Column('tax_wan', sa.Float(), nullable=True),
    sa.Column('value_added_wan', sa.Float(), nullable=True),
    sa.Column('revenue_wan', sa.Float(), nullable=True),
    sa.Column('main_revenue_wan', sa.Float(), nullable=True),
    sa.Column('output_wan', sa.Float(), nullable=True),
    sa.Column('energy_tce', sa.Float(), nullable=True),
    sa.Column('electricity_wan_kwh', sa.Float(), nullable=True),
    sa.Column('emission_eq_t', sa.Float(), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('rd_wan', sa.Float(), nullable=True),
    sa.Column('profit_wan', sa.Float(), nullable=True),
    sa.Column('assets_wan', sa.Float(), nullable=True),
    sa.Column('liabilities_wan', sa.Float(), nullable=True),
    sa.Column('export_wan', sa.Float(), nullable=True),
    sa.Column('high_tech_revenue_wan', sa.Float(), nullable=True),
    sa.Column('invention_patents', sa.Integer(), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_years_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batches.id'], name=op.f('fk_enterprise_years_import_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_years')),
    sa.UniqueConstraint('enterprise_id', 'year', name=op.f('uq_enterprise_years_enterprise_id_year'))
    )
    with op.batch_alter_table('enterprise_years', schema=None) as batch_op:
        batch_op.create_index('ix_enterprise_years_year', ['year'], unique=False)

    op.create_table('service_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('department', sa.String(length=120), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_service_requests_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_requests'))
    )
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_requests_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('department', sa.String(length=120), nullable=True),
    sa.Column('town_id', sa.Integer(), nullable=True),
    sa.Column('chain_node_id', sa.Integer(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chain_node_id'], ['chain_nodes.id'], name=op.f('fk_users_chain_node_id_chain_nodes')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_users_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_users_town_id_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )


def downgrade() -> None:
    op.drop_table('users')
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_requests_enterprise_id'))

    op.drop_table('service_requests')
    with op.batch_alter_table('enterprise_years', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprise_years_year')

    op.drop_table('enterprise_years')
    with op.batch_alter_table('enterprise_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_events_enterprise_id'))

    op.drop_table('enterprise_events')
    with op.batch_alter_table('enterprise_chain_nodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_chain_nodes_node_id'))
        batch_op.drop_index(batch_op.f('ix_enterprise_chain_nodes_enterprise_id'))

    op.drop_table('enterprise_chain_nodes')
    with op.batch_alter_table('task_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_progress_task_id'))

    op.drop_table('task_progress')
    op.drop_table('targets')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprises_town_id'))
        batch_op.drop_index(batch_op.f('ix_enterprises_name'))
        batch_op.drop_index(batch_op.f('ix_enterprises_industry_code'))

    op.drop_table('enterprises')
    with op.batch_alter_table('actuals', schema=None) as batch_op:
        batch_op.drop_index('ix_actuals_lookup')

    op.drop_table('actuals')
    op.drop_table('projects')
    op.drop_table('plan_tasks')
    op.drop_table('parks')
    op.drop_table('indicators')
    op.drop_table('uscc_exceptions')
    op.drop_table('towns')
    op.drop_table('policies')
    op.drop_table('plans')
    op.drop_table('import_batches')
    op.drop_table('chain_nodes')
    op.drop_table('audit_log')
