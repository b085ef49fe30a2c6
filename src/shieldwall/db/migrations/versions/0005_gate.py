"""The gate: every run's decision and the findings that blocked it.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gate_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=16), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("service_name", sa.String(length=200), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=True),
        sa.Column("base_ref", sa.String(length=255), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("blocking", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("excepted", sa.Integer(), nullable=False),
        sa.Column("tools", JSON, nullable=False),
        sa.Column("missing_scanners", JSON, nullable=False),
        sa.Column("policy_digest", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("decided_at", TIME, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("overridden_by", sa.String(length=320), nullable=True),
        sa.Column("overridden_at", TIME, nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_gate_runs_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gate_runs")),
        sa.UniqueConstraint("uid", name=op.f("uq_gate_runs_uid")),
    )
    with op.batch_alter_table("gate_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_gate_runs_service_branch", ["service_name", "branch", "decided_at"], unique=False
        )
        batch_op.create_index("ix_gate_runs_decided_at", ["decided_at"], unique=False)

    op.create_table(
        "gate_blocks",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("tool", sa.String(length=100), nullable=False),
        sa.Column("rule_id", sa.String(length=500), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("path", sa.String(length=4096), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["gate_runs.id"],
            name=op.f("fk_gate_blocks_run_id_gate_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "fingerprint", name=op.f("pk_gate_blocks")),
    )
    with op.batch_alter_table("gate_blocks", schema=None) as batch_op:
        batch_op.create_index("ix_gate_blocks_fingerprint", ["fingerprint"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gate_blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_gate_blocks_fingerprint")
    op.drop_table("gate_blocks")
    with op.batch_alter_table("gate_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_gate_runs_decided_at")
        batch_op.drop_index("ix_gate_runs_service_branch")
    op.drop_table("gate_runs")
