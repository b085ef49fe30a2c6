"""Threat models: per service, every version's source, the latest version's threats and
their treatments.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "threat_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=16), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_threat_models_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threat_models")),
        sa.UniqueConstraint("service_id", "name", name=op.f("uq_threat_models_service_id_name")),
        sa.UniqueConstraint("uid", name=op.f("uq_threat_models_uid")),
    )
    op.create_table(
        "threat_model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("reviewed", sa.Date(), nullable=True),
        sa.Column("summary", JSON, nullable=False),
        sa.Column("pushed_by", sa.String(length=320), nullable=False),
        sa.Column("pushed_at", TIME, nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["threat_models.id"],
            name=op.f("fk_threat_model_versions_model_id_threat_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threat_model_versions")),
        sa.UniqueConstraint(
            "model_id", "version", name=op.f("uq_threat_model_versions_model_id_version")
        ),
    )
    op.create_table(
        "threat_treatments",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("threat_id", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=320), nullable=True),
        sa.Column("approver", sa.String(length=320), nullable=True),
        sa.Column("expires", sa.Date(), nullable=True),
        sa.Column("ticket", sa.String(length=500), nullable=True),
        sa.Column("decided_by", sa.String(length=320), nullable=False),
        sa.Column("decided_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["threat_models.id"],
            name=op.f("fk_threat_treatments_model_id_threat_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "threat_id", name=op.f("pk_threat_treatments")),
    )
    op.create_table(
        "threats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("threat_id", sa.String(length=300), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("element", sa.String(length=250), nullable=False),
        sa.Column("element_name", sa.String(length=500), nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("cwe_ids", JSON, nullable=False),
        sa.Column("capec_ids", JSON, nullable=False),
        sa.Column("inherent_risk", sa.String(length=16), nullable=False),
        sa.Column("residual_risk", sa.String(length=16), nullable=False),
        sa.Column("residual_score", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_note", sa.Text(), nullable=False),
        sa.Column("missing_controls", JSON, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["threat_models.id"],
            name=op.f("fk_threats_model_id_threat_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_threats_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threats")),
        sa.UniqueConstraint("model_id", "threat_id", name=op.f("uq_threats_model_id_threat_id")),
    )
    with op.batch_alter_table("threats", schema=None) as batch_op:
        batch_op.create_index("ix_threats_service_status", ["service_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("threats", schema=None) as batch_op:
        batch_op.drop_index("ix_threats_service_status")

    op.drop_table("threats")
    op.drop_table("threat_treatments")
    op.drop_table("threat_model_versions")
    op.drop_table("threat_models")
