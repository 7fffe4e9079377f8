"""create_* helpers: build the world a test needs through Beat's own use cases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from beat import accounts, areas
from beat.models import Force, Role, Team, User
from beat.policeuk.folder import FolderSource

PASSWORD = "correct horse battery staple"
DEMO_FORCE = "city-of-london"
ALDERSGATE = "E05009288"
BISHOPSGATE = "E05009292"


async def create_areas(folder: Path, force_id: str = DEMO_FORCE) -> areas.SyncResult:
    return await areas.sync_force(FolderSource(folder), force_id, now=datetime.now(UTC))


async def create_force(
    force_id: str, name: str | None = None, *, teams: tuple[str, ...] = ()
) -> Force:
    force = await Force.create(id=force_id, name=name or force_id.title())
    for code in teams:
        await Team.create(force=force, code=code, name=f"{code} team")
    return force


async def create_user(
    email: str,
    role: Role = Role.OFFICER,
    *,
    force: str | None = DEMO_FORCE,
    team: str | None = None,
    password: str = PASSWORD,
) -> User:
    if role == Role.RESIDENT:
        force = None
    if role == Role.OFFICER and team is None:
        team = ALDERSGATE
    return await accounts.create_user(
        None, email=email, role=role, password=password, force_id=force, team_code=team
    )


async def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def bearer(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    tokens = await login(client, email, password)
    return {"Authorization": f"Bearer {tokens['access_token']}"}
