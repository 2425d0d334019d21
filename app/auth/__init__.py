"""Who is asking: typed FastAPI dependencies for the current actor and role checks."""

from app.auth.actor import Actor
from app.auth.dependencies import Authorised, CurrentActor, require_roles

__all__ = ["Actor", "Authorised", "CurrentActor", "require_roles"]
