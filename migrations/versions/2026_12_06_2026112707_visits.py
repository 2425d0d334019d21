"""visits, meetings, bookings, breaches, the directory, re-assessment flags

Revision ID: 2026112707
Revises: 2026112706
Create Date: 2026-12-06
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2026112707"
down_revision: str | None = "2026112706"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Communities and regions a consultation can be dedicated to (rule M4); coordinators
# edit the list.
SEEDED_COMMUNITIES = (
    ("Uyghur", "Xinjiang Uyghur Autonomous Region"),
    ("Tibetan", "Tibet Autonomous Region"),
    ("Hong Kong", "Hong Kong SAR"),
    ("Southern Mongolian", "Inner Mongolia Autonomous Region"),
    ("Mainland human-rights defenders", "Mainland China"),
)


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("region", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
        sa.UniqueConstraint("name", name=op.f("uq_communities_name")),
    )
    op.create_table(
        "detention_facilities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=80), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "prison",
                "detention_centre",
                "re_education_facility",
                "police_station",
                "psychiatric_facility",
                "other",
                name="facility_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detention_facilities")),
        sa.UniqueConstraint("name", name=op.f("uq_detention_facilities_name")),
    )
    op.create_table(
        "interpreters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "un_recruited",
                "un_selected",
                "other",
                name="interpreter_source",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("vetted_until", sa.Date(), nullable=True),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interpreters")),
        sa.UniqueConstraint("code", name=op.f("uq_interpreters_code")),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "phase",
            sa.Enum(
                "preparation",
                "in_country",
                "after",
                name="visit_phase",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_progress",
                "interrupted",
                "completed",
                name="visit_status",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column(
            "target",
            sa.Enum(
                "region",
                "facility",
                "detained_person",
                "documents",
                name="access_target",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "pending",
                "granted",
                "partial",
                "refused",
                "no_answer",
                name="access_outcome",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("breach_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_access_requests_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
    )
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_access_requests_visit", ["visit_id", "requested_on"], unique=False
        )

    op.create_table(
        "breaches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "official_present",
                "access_refused",
                "interpreter_imposed",
                "premises_changed",
                "surveillance_or_filming",
                "leaked_meeting_information",
                "reprisal",
                name="breach_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.Enum(
                "minor", "serious", "critical", name="breach_severity", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=80), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_breaches_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breaches")),
    )
    with op.batch_alter_table("breaches", schema=None) as batch_op:
        batch_op.create_index("ix_breaches_visit", ["visit_id", "occurred_on"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "community_consultation",
                "individual_interview",
                "detention_visit",
                "official_meeting",
                name="meeting_kind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "phase",
            sa.Enum(
                "preparation",
                "in_country",
                "after",
                name="meeting_phase",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "confirmed",
                "cancelled",
                "suspended",
                "held",
                name="meeting_status",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_meetings_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index("ix_meetings_visit", ["visit_id", "starts_at"], unique=False)

    op.create_table(
        "venues",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "un_premises",
                "diplomatic_premises",
                "detention_facility",
                "other",
                name="venue_type",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("region", sa.String(length=80), nullable=False),
        sa.Column("facility_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["detention_facilities.id"],
            name=op.f("fk_venues_facility_id_detention_facilities"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venues")),
        sa.UniqueConstraint("name", name=op.f("uq_venues_name")),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_bookings_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index("ix_bookings_resource", ["resource", "starts_at"], unique=False)

    op.create_table(
        "reassessment_flags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("after_seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=True),
        sa.Column("flagged_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_reassessment_flags_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reassessment_flags")),
    )
    with op.batch_alter_table("reassessment_flags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reassessment_flags_person_id"), ["person_id"], unique=False
        )
    communities = sa.table(
        "communities",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("region", sa.String()),
        sa.column("active", sa.Boolean()),
    )
    op.bulk_insert(
        communities,
        [
            {"id": uuid.uuid4(), "name": name, "region": region, "active": True}
            for name, region in SEEDED_COMMUNITIES
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        # Rule M6 by the database itself: no two bookings of one resource (a blind index
        # of an interpreter, a venue or a participant) over overlapping time ranges.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_resource_during "
            "EXCLUDE USING gist (resource WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)"
        )


def downgrade() -> None:
    with op.batch_alter_table("reassessment_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reassessment_flags_person_id"))

    op.drop_table("reassessment_flags")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_resource")
        batch_op.drop_index(batch_op.f("ix_bookings_meeting_id"))

    op.drop_table("bookings")
    op.drop_table("venues")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_visit")

    op.drop_table("meetings")
    with op.batch_alter_table("breaches", schema=None) as batch_op:
        batch_op.drop_index("ix_breaches_visit")

    op.drop_table("breaches")
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_access_requests_visit")

    op.drop_table("access_requests")
    op.drop_table("visits")
    op.drop_table("interpreters")
    op.drop_table("detention_facilities")
    op.drop_table("communities")
