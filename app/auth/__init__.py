"""Who is asking: typed FastAPI dependencies for the current actor and role checks."""

from app.auth.actor import Actor, Caller, Submitter
from app.auth.dependencies import (
    Authorised,
    CallerDep,
    CurrentActor,
    KeyringDep,
    MaybeCaller,
    StreamingCaller,
    require_roles,
)

__all__ = [
    "Actor",
    "Authorised",
    "Caller",
    "CallerDep",
    "CurrentActor",
    "KeyringDep",
    "MaybeCaller",
    "StreamingCaller",
    "Submitter",
    "require_roles",
]
