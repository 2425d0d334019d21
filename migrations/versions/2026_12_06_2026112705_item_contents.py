"""item contents: small items' ciphertext kept with their row

Revision ID: 2026112705
Revises: 2026112704
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026112705"
down_revision: str | None = "2026112704"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "item_contents",
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_contents_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_contents")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.alter_column("blob_key", existing_type=sa.String(length=100), nullable=True)


def downgrade() -> None:
    # The revision before this one keeps every ciphertext in the blob store, which a
    # migration cannot reach: refuse rather than drop items.
    kept = op.get_bind().execute(sa.text("SELECT count(*) FROM item_contents")).scalar_one()
    if kept:
        raise RuntimeError(
            f"{kept} small items keep their ciphertext in the database; the older schema "
            "cannot hold them. Export the cases before downgrading."
        )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.alter_column("blob_key", existing_type=sa.String(length=100), nullable=False)
    op.drop_table("item_contents")
