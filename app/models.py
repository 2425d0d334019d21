"""Every model module, imported once so ``metadata`` is complete for Alembic."""

from __future__ import annotations

from app.audit import models as audit_models
from app.db import Base
from app.deployment import models as deployment_models
from app.staff import models as staff_models

metadata = Base.metadata

__all__ = ["audit_models", "deployment_models", "metadata", "staff_models"]
