"""Reads of the deployment row."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.deployment.models import Deployment


async def deployment_id(session: AsyncSession) -> uuid.UUID | None:
    return (await session.execute(select(Deployment.id).limit(1))).scalar_one_or_none()
