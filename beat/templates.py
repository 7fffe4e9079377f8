"""Quick posts with {placeholders} that a force keeps, so a post is one or two taps."""

from __future__ import annotations

import re
import string
from datetime import datetime

from tortoise.transactions import in_transaction

from beat import audit, forces
from beat.errors import Invalid, NotAllowed, NotFound
from beat.models import Role, Template, User

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


def placeholders(body: str) -> list[str]:
    """The {names} in a template body, in order of first use; Invalid if it is malformed."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise Invalid.field("/body", f"braces do not match: {exc}") from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not _NAME.match(name) or spec or conversion:
            raise Invalid.field("/body", f"{{{name}}}: placeholders are lower_case names")
        if name not in names:
            names.append(name)
    return names


def _admin_of(actor: User, force_id: str | None) -> str:
    if actor.role != Role.FORCE_ADMIN or actor.force_id is None:
        raise NotAllowed("only a force administrator manages templates")
    if force_id is not None and actor.force_id != force_id:
        raise NotAllowed("you may only manage your own force's templates")
    return actor.force_id


def _checked(title: str, body: str, kind: str) -> tuple[str, str, str]:
    title = " ".join(title.split())
    body = body.strip()
    if not 1 <= len(title) <= 120:
        raise Invalid.field("/title", "1 to 120 characters")
    if not 1 <= len(body) <= 2000:
        raise Invalid.field("/body", "1 to 2000 characters")
    if kind not in forces.POST_KINDS:
        raise Invalid.field("/kind", f"one of {', '.join(forces.POST_KINDS)}")
    placeholders(body)
    return title, body, kind


async def list_templates(actor: User) -> list[Template]:
    """The actor's force's active templates (administrators also see retired ones)."""
    if actor.role == Role.RESIDENT or actor.force_id is None:
        raise NotAllowed("templates are for police staff")
    query = Template.filter(force_id=actor.force_id)
    if actor.role != Role.FORCE_ADMIN:
        query = query.filter(active=True)
    return await query.order_by("title", "id")


async def create_template(
    actor: User, force_id: str, *, title: str, body: str, kind: str, now: datetime
) -> Template:
    force_id = _admin_of(actor, force_id)
    title, body, kind = _checked(title, body, kind)
    async with in_transaction():
        template = await Template.create(force_id=force_id, title=title, body=body, kind=kind)
        await audit.record(
            at=now, force_id=force_id, actor=actor, action="template-created",
            details={"template_id": template.id, "title": title},
        )  # fmt: skip
    return template


async def update_template(
    actor: User,
    template_id: int,
    *,
    now: datetime,
    title: str | None = None,
    body: str | None = None,
    kind: str | None = None,
    active: bool | None = None,
) -> Template:
    force_id = _admin_of(actor, None)
    template = await Template.get_or_none(id=template_id, force_id=force_id)
    if template is None:
        raise NotFound("no such template in your force")
    template.title, template.body, template.kind = _checked(
        title if title is not None else template.title,
        body if body is not None else template.body,
        kind if kind is not None else template.kind,
    )
    if active is not None:
        template.active = active
    async with in_transaction():
        await template.save()
        await audit.record(
            at=now, force_id=force_id, actor=actor, action="template-changed",
            details={"template_id": template.id, "active": template.active},
        )  # fmt: skip
    return template
