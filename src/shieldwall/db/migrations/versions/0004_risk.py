"""Risk: the intelligence store (advisories, aliases, KEV, EPSS), finding priorities and
SLAs, risk exceptions and sent reminders.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "advisories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vuln_id", sa.String(length=200), nullable=False),
        sa.Column("aliases", JSON, nullable=False),
        sa.Column("summary", sa.String(length=1000), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("published", TIME, nullable=True),
        sa.Column("modified", TIME, nullable=True),
        sa.Column("withdrawn", TIME, nullable=True),
        sa.Column("cvss_vector", sa.String(length=300), nullable=True),
        sa.Column("cvss_score", sa.Float(), nullable=True),
        sa.Column("cwe_ids", JSON, nullable=False),
        sa.Column("references", JSON, nullable=False),
        sa.Column("exploit_references", JSON, nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("loaded_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisories")),
        sa.UniqueConstraint("vuln_id", name=op.f("uq_advisories_vuln_id")),
    )
    op.create_table(
        "epss_scores",
        sa.Column("cve_id", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("percentile", sa.Float(), nullable=False),
        sa.Column("score_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("cve_id", name=op.f("pk_epss_scores")),
    )
    op.create_table(
        "intel_feeds",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=2048), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=True),
        sa.Column("data_date", sa.Date(), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("loaded_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_intel_feeds")),
    )
    op.create_table(
        "kev_entries",
        sa.Column("cve_id", sa.String(length=32), nullable=False),
        sa.Column("vendor", sa.String(length=200), nullable=True),
        sa.Column("product", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("date_added", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("ransomware", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("cve_id", name=op.f("pk_kev_entries")),
    )
    op.create_table(
        "reminders",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("sent_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_reminders")),
    )
    op.create_table(
        "risk_state",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_risk_state")),
    )
    op.create_table(
        "vuln_aliases",
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("group_key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_vuln_aliases")),
    )
    with op.batch_alter_table("vuln_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vuln_aliases_group_key"), ["group_key"], unique=False)

    op.create_table(
        "advisory_packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisory_id", sa.Integer(), nullable=False),
        sa.Column("ecosystem", sa.String(length=100), nullable=False),
        sa.Column("family", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=1000), nullable=False),
        sa.Column("name_key", sa.String(length=1000), nullable=False),
        sa.Column("purl", sa.String(length=2048), nullable=True),
        sa.Column("ranges", JSON, nullable=False),
        sa.Column("versions", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_packages_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_packages")),
    )
    with op.batch_alter_table("advisory_packages", schema=None) as batch_op:
        batch_op.create_index("ix_advisory_packages_advisory", ["advisory_id"], unique=False)
        batch_op.create_index("ix_advisory_packages_lookup", ["family", "name_key"], unique=False)

    op.create_table(
        "risk_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=16), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("rule_id", sa.String(length=500), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("compensating_controls", sa.Text(), nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column("requested_at", TIME, nullable=False),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("decided_at", TIME, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('requested', 'approved', 'rejected', 'expired', 'revoked')",
            name=op.f("ck_risk_exceptions_state"),
        ),
        sa.CheckConstraint(
            "(finding_id IS NULL) != (rule_id IS NULL)", name=op.f("ck_risk_exceptions_subject")
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_risk_exceptions_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_risk_exceptions_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_exceptions")),
        sa.UniqueConstraint("uid", name=op.f("uq_risk_exceptions_uid")),
    )
    with op.batch_alter_table("risk_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_risk_exceptions_service_state", ["service_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_risk_exceptions_state_expires", ["state", "expires_at"], unique=False
        )

    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("risk_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("urgency", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("priority_at", TIME, nullable=True))
        batch_op.add_column(sa.Column("sla_due", TIME, nullable=True))
        batch_op.add_column(sa.Column("exception_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_findings_service_urgency", ["service_id", "status", "urgency", "id"], unique=False
        )
        batch_op.create_index(
            "ix_findings_sla_due", ["sla_due", "status", "service_id"], unique=False
        )
        batch_op.create_index(
            "ix_findings_status_urgency", ["status", "urgency", "id", "service_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_status_urgency")
        batch_op.drop_index("ix_findings_sla_due")
        batch_op.drop_index("ix_findings_service_urgency")
        batch_op.drop_column("exception_id")
        batch_op.drop_column("sla_due")
        batch_op.drop_column("priority_at")
        batch_op.drop_column("urgency")
        batch_op.drop_column("risk_score")
        batch_op.drop_column("priority")

    with op.batch_alter_table("risk_exceptions", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_exceptions_state_expires")
        batch_op.drop_index("ix_risk_exceptions_service_state")

    op.drop_table("risk_exceptions")
    with op.batch_alter_table("advisory_packages", schema=None) as batch_op:
        batch_op.drop_index("ix_advisory_packages_lookup")
        batch_op.drop_index("ix_advisory_packages_advisory")

    op.drop_table("advisory_packages")
    with op.batch_alter_table("vuln_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vuln_aliases_group_key"))

    op.drop_table("vuln_aliases")
    op.drop_table("risk_state")
    op.drop_table("reminders")
    op.drop_table("kev_entries")
    op.drop_table("intel_feeds")
    op.drop_table("epss_scores")
    op.drop_table("advisories")
