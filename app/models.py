"""Every model module, imported once so ``metadata`` is complete for Alembic."""

from __future__ import annotations

from app.audit import models as audit_models
from app.breaches import models as breach_models
from app.cases import models as case_models
from app.consent import models as consent_models
from app.db import Base
from app.deployment import models as deployment_models
from app.directory import models as directory_models
from app.disclosures import models as disclosure_models
from app.followups import models as follow_up_models
from app.incidents import models as incident_models
from app.items import models as item_models
from app.meetings import models as meeting_models
from app.persons import models as person_models
from app.references import models as reference_models
from app.risk import models as risk_models
from app.roster import models as roster_models
from app.staff import models as staff_models
from app.uploads import models as upload_models
from app.visits import models as visit_models

metadata = Base.metadata

__all__ = [
    "audit_models",
    "breach_models",
    "case_models",
    "consent_models",
    "deployment_models",
    "directory_models",
    "disclosure_models",
    "follow_up_models",
    "incident_models",
    "item_models",
    "meeting_models",
    "metadata",
    "person_models",
    "reference_models",
    "risk_models",
    "roster_models",
    "staff_models",
    "upload_models",
    "visit_models",
]
