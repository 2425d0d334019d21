"""deployment: the one row naming this installation

Revision ID: 2026112701
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026112701"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    deployment = op.create_table(
        "deployment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
    )
    # Each installation gets its own random id the moment its schema exists.
    op.bulk_insert(deployment, [{"id": uuid.uuid4(), "created_on": dt.datetime.now(dt.UTC).date()}])


def downgrade() -> None:
    op.drop_table("deployment")
