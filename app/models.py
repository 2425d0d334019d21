"""Every model module, imported once so ``metadata`` is complete for Alembic."""

from __future__ import annotations

from app.db import Base
from app.deployment import models as deployment_models

metadata = Base.metadata

__all__ = ["deployment_models", "metadata"]
