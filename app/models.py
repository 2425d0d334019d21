"""Every model module, imported once so ``metadata`` is complete for Alembic."""

from __future__ import annotations

from app.audit import models as audit_models
from app.cases import models as case_models
from app.db import Base
from app.deployment import models as deployment_models
from app.items import models as item_models
from app.roster import models as roster_models
from app.staff import models as staff_models
from app.uploads import models as upload_models

metadata = Base.metadata

__all__ = [
    "audit_models",
    "case_models",
    "deployment_models",
    "item_models",
    "metadata",
    "roster_models",
    "staff_models",
    "upload_models",
]
