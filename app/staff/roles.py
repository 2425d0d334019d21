"""The roles of the service (product.md). A person has exactly one."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    coordinator = "coordinator"
    investigator = "investigator"
    partner = "partner"
    liaison = "liaison"
    auditor = "auditor"


# TOTP is mandatory for the roles that can reach case keys or manage people.
SECOND_FACTOR_REQUIRED = frozenset({Role.coordinator, Role.investigator})
