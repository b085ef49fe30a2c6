"""The server: sortable severity, login rate limiting, and (PostgreSQL) the job queue.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
_SERVICE_STATUS = ["service_id", "status", "severity_rank", "id", "kind", "first_seen"]
_STATUS_RANK = ["status", "severity_rank", "id", "service_id", "kind", "first_seen"]
_RANKS = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}

# procrastinate's own objects, dropped on downgrade (its schema.sql creates them).
_QUEUE_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
_QUEUE_TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(
            sa.Column("severity_rank", sa.SmallInteger(), nullable=False, server_default="0")
        )
    rank = "CASE severity " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in _RANKS.items()) + " END"
    op.execute(f"UPDATE findings SET severity_rank = {rank}")  # noqa: S608 - constants only
    with op.batch_alter_table("findings") as batch:
        batch.alter_column("severity_rank", server_default=None)
    with op.batch_alter_table("imports") as batch:
        batch.add_column(sa.Column("queued_at", TIME, nullable=True))
    # The list and dashboard indexes (see Finding.__table_args__): 0001's two on status are
    # replaced by wider ones that answer the pages from the index alone.
    op.drop_index("ix_findings_service_status", table_name="findings")
    op.drop_index("ix_findings_status_severity", table_name="findings")
    op.create_index("ix_findings_service_status", "findings", _SERVICE_STATUS)
    op.create_index("ix_findings_status_rank", "findings", _STATUS_RANK)
    op.create_index("ix_findings_rank", "findings", ["severity_rank", "id"])
    op.create_index(
        "ix_findings_first_seen", "findings", ["first_seen", "id", "service_id", "status"]
    )
    op.create_index("ix_findings_fixed_at", "findings", ["fixed_at", "status", "service_id"])
    op.create_index("ix_findings_service_first_seen", "findings", ["service_id", "first_seen"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_hash", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_account", "login_failures", ["account_hash", "at"])
    op.create_index("ix_login_failures_address", "login_failures", ["address", "at"])
    op.create_table(
        "upload_chunks",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
            name=op.f("fk_upload_chunks_import_id_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_upload_chunks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        op.execute(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _QUEUE_TABLES:
            op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        op.execute(
            "DO $$ DECLARE f record; BEGIN FOR f IN SELECT p.oid::regprocedure AS sig "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE p.proname LIKE 'procrastinate%' AND n.nspname = current_schema() "
            "LOOP EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE'; END LOOP; END $$"
        )
        for type_name in _QUEUE_TYPES:
            op.execute(f"DROP TYPE IF EXISTS {type_name} CASCADE")
    op.drop_table("upload_chunks")
    op.drop_index("ix_login_failures_address", table_name="login_failures")
    op.drop_index("ix_login_failures_account", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index("ix_findings_service_first_seen", table_name="findings")
    op.drop_index("ix_findings_fixed_at", table_name="findings")
    op.drop_index("ix_findings_first_seen", table_name="findings")
    op.drop_index("ix_findings_rank", table_name="findings")
    op.drop_index("ix_findings_status_rank", table_name="findings")
    op.drop_index("ix_findings_service_status", table_name="findings")
    op.create_index("ix_findings_service_status", "findings", ["service_id", "status"])
    op.create_index("ix_findings_status_severity", "findings", ["status", "severity"])
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("queued_at")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("severity_rank")
