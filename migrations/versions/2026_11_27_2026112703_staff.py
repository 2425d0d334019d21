"""staff: accounts, invitations, sessions, recovery codes, public keys

Revision ID: 2026112703
Revises: 2026112702
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026112703"
down_revision: str | None = "2026112702"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLES = ("coordinator", "investigator", "partner", "liaison", "auditor")


def _role(name: str) -> sa.Enum:
    return sa.Enum(*_ROLES, name=name, native_enum=False, length=16, create_constraint=False)


def _when(name: str, *, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "staff_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("handle", sa.String(64), nullable=False),
        sa.Column("role", _role("staff_role"), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "disabled", name="staff_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("totp_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("totp_confirmed", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("lock_count", sa.Integer(), nullable=False),
        _when("locked_until", nullable=True),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_members")),
        sa.UniqueConstraint("handle", name=op.f("uq_staff_members_handle")),
    )
    op.create_table(
        "staff_invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("handle", sa.String(64), nullable=False),
        sa.Column("role", _role("staff_role"), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=True),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_invitations_token_hash")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _when("created_at"),
        _when("last_seen_at"),
        _when("expires_at"),
        _when("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_staff_sessions_staff_id_staff_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    op.create_index(op.f("ix_staff_sessions_staff_id"), "staff_sessions", ["staff_id"])
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        _when("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_staff_recovery_codes_staff_id_staff_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
    )
    op.create_index(op.f("ix_staff_recovery_codes_staff_id"), "staff_recovery_codes", ["staff_id"])
    op.create_table(
        "staff_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("kem_key_id", sa.String(64), nullable=False),
        sa.Column("kem_public_key", sa.LargeBinary(), nullable=False),
        sa.Column("signing_key_id", sa.String(64), nullable=False),
        sa.Column("signing_public_key", sa.LargeBinary(), nullable=False),
        _when("created_at"),
        _when("confirmed_at", nullable=True),
        sa.Column("confirmed_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_staff_keys_staff_id_staff_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_keys")),
        sa.UniqueConstraint("kem_key_id", name=op.f("uq_staff_keys_kem_key_id")),
        sa.UniqueConstraint("signing_key_id", name=op.f("uq_staff_keys_signing_key_id")),
    )
    op.create_index(op.f("ix_staff_keys_staff_id"), "staff_keys", ["staff_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_keys_staff_id"), table_name="staff_keys")
    op.drop_table("staff_keys")
    op.drop_index(op.f("ix_staff_recovery_codes_staff_id"), table_name="staff_recovery_codes")
    op.drop_table("staff_recovery_codes")
    op.drop_index(op.f("ix_staff_sessions_staff_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_invitations")
    op.drop_table("staff_members")
