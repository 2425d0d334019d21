"""intake: rosters, cases, key epochs, holders, grants, tags, items, uploads

Revision ID: 2026112704
Revises: 2026112703
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026112704"
down_revision: str | None = "2026112703"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_deferred",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=128), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_deferred")),
    )
    with op.batch_alter_table("audit_deferred", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_deferred_day"), ["day"], unique=False)

    op.create_table(
        "rosters",
        sa.Column("serial", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_rosters")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("new", "open", "closed", name="case_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("partner_id", sa.Uuid(), nullable=True),
        sa.Column("login_verifier", sa.String(length=64), nullable=True),
        sa.Column("reply_public_key", sa.LargeBinary(), nullable=False),
        sa.Column("reply_key_id", sa.String(length=64), nullable=False),
        sa.Column("author_key", sa.LargeBinary(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("rotation_pending", sa.Boolean(), nullable=False),
        sa.Column("consent", sa.Text(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["staff_members.id"],
            name=op.f("fk_cases_partner_id_staff_members"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("login_verifier", name=op.f("uq_cases_login_verifier")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "case_epochs",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.Column("signed_by", sa.Uuid(), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_epochs_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", "epoch", name=op.f("pk_case_epochs")),
    )
    op.create_table(
        "case_holders",
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_holders_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_case_holders_staff_id_staff_members"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("staff_id", "case_id", name=op.f("pk_case_holders")),
    )
    with op.batch_alter_table("case_holders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_holders_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_case_holders_queue", ["staff_id", "updated_on", "case_id"], unique=False
        )

    op.create_table(
        "case_tags",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_tags_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", "tag", name=op.f("pk_case_tags")),
    )
    with op.batch_alter_table("case_tags", schema=None) as batch_op:
        batch_op.create_index("ix_case_tags_tag", ["tag", "case_id"], unique=False)

    op.create_table(
        "grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("recipient_key_id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("granted_by", sa.Uuid(), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_grants_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_grants_staff_id_staff_members"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        sa.UniqueConstraint("case_id", "epoch", "recipient_key_id", name=op.f("uq_grants_case_id")),
    )
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grants_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "testimony",
                "file",
                "note",
                "reply",
                "identity",
                name="item_kind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column(
            "author_kind",
            sa.Enum(
                "submitter", "partner", "staff", name="item_author", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("blob_key", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_items_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint("blob_key", name=op.f("uq_items_blob_key")),
        sa.UniqueConstraint("case_id", "idempotency_key", name=op.f("uq_items_case_id")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index("ix_items_case", ["case_id", "id"], unique=False)

    op.create_table(
        "uploads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column(
            "owner_kind",
            sa.Enum(
                "submitter", "partner", "staff", name="upload_owner", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_uploads_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_uploads_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_uploads_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uploads_expires_at"))
        batch_op.drop_index(batch_op.f("ix_uploads_case_id"))

    op.drop_table("uploads")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index("ix_items_case")

    op.drop_table("items")
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grants_staff_id"))

    op.drop_table("grants")
    with op.batch_alter_table("case_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_case_tags_tag")

    op.drop_table("case_tags")
    with op.batch_alter_table("case_holders", schema=None) as batch_op:
        batch_op.drop_index("ix_case_holders_queue")
        batch_op.drop_index(batch_op.f("ix_case_holders_case_id"))

    op.drop_table("case_holders")
    op.drop_table("case_epochs")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_partner_id"))

    op.drop_table("cases")
    op.drop_table("rosters")
    with op.batch_alter_table("audit_deferred", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_deferred_day"))

    op.drop_table("audit_deferred")
