"""audit log: origin, hash chain, append-only

Every audit line gains where it came from (``origin``: a client address, or "cli") and the chain
(``prev_hash``, ``hash``: SHA-256 over the line's canonical JSON and the previous line's hash; see
``qunlian.platform.auditlog``). Lines already stored are chained here in id order; their origin is the
client address their detail recorded (logins), else empty. Then the store refuses UPDATE and DELETE on
the table: triggers on both databases (and TRUNCATE on PostgreSQL).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 09:00:00
"""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from qunlian.platform.auditlog import (
    GENESIS,
    append_only_ddl,
    drop_append_only_ddl,
    row_hash,
)

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=False, server_default=''))

    _chain_existing_lines(op.get_bind())

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_audit_log_prev_hash'), ['prev_hash'])

    for statement in append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def _chain_existing_lines(conn: sa.Connection) -> None:
    log = sa.table(
        'audit_log',
        sa.column('id', sa.Integer()), sa.column('at', sa.DateTime(timezone=True)),
        sa.column('actor', sa.String()), sa.column('action', sa.String()), sa.column('entity', sa.String()),
        sa.column('entity_id', sa.String()), sa.column('detail', sa.JSON()), sa.column('origin', sa.String()),
        sa.column('prev_hash', sa.String()), sa.column('hash', sa.String()),
    )
    update = (log.update().where(log.c.id == sa.bindparam('row_id'))
              .values(origin=sa.bindparam('new_origin'), prev_hash=sa.bindparam('new_prev'),
                      hash=sa.bindparam('new_hash')))
    prev, last_id = GENESIS, 0
    while True:
        rows = conn.execute(sa.select(log).where(log.c.id > last_id).order_by(log.c.id).limit(BATCH)).all()
        if not rows:
            return
        changes = []
        for row in rows:
            detail = row.detail if isinstance(row.detail, dict) else {}
            client = detail.get('client')
            line = row._asdict() | {
                'detail': row.detail if row.detail is not None else {},
                'origin': client[:80] if isinstance(client, str) else '',
                'prev_hash': prev,
            }
            line['hash'] = row_hash(SimpleNamespace(**line))
            changes.append({'row_id': row.id, 'new_origin': line['origin'], 'new_prev': prev,
                            'new_hash': line['hash']})
            prev, last_id = line['hash'], row.id
        conn.execute(update, changes)


def downgrade() -> None:
    for statement in drop_append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_log_prev_hash'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('origin')
