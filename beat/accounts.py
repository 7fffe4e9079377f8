"""Accounts and sign-in: users, sessions, rotating refresh tokens and access tokens."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from beat import passwords, throttle
from beat.clock import Clock
from beat.errors import Conflict, Invalid, NotAllowed, NotAuthenticated, NotFound
from beat.models import STAFF_ROLES, Force, RefreshToken, Role, Session, Team, User
from beat.settings import Settings
from beat.tokens import TokenIssuer

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_REFRESH_PREFIX = "rt_"


def normalise_email(raw: str) -> str:
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise Invalid.field("email", "is not an e-mail address")
    return email


def _hash_refresh(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    user: User


def _may_manage(actor: User | None, force_id: str | None) -> bool:
    """The system (CLI) manages everyone; a force-admin manages their own force's staff."""
    if actor is None:
        return True
    return actor.role == Role.FORCE_ADMIN and force_id is not None and actor.force_id == force_id


async def create_user(
    actor: User | None,
    *,
    email: str,
    role: Role,
    password: str,
    force_id: str | None = None,
    team_code: str | None = None,
    display_name: str = "",
) -> User:
    """Create an account. `actor` None means the operator at the command line."""
    email = normalise_email(email)
    if role == Role.RESIDENT:
        if force_id is not None or team_code is not None:
            raise Invalid.field("force", "residents do not belong to a force or team")
        if actor is not None:
            raise NotAllowed("residents register themselves")
    else:
        if force_id is None:
            raise Invalid.field("force", f"a {role.value} account needs a force")
        if not _may_manage(actor, force_id):
            raise NotAllowed("you may only manage accounts of your own force")
        if role == Role.OFFICER and team_code is None:
            raise Invalid.field("team", "an officer account needs a team")
    passwords.check_strength(password)
    team: Team | None = None
    if force_id is not None:
        if not await Force.exists(id=force_id):
            raise Invalid.field("force", f"unknown force {force_id!r}; run `beat areas sync` first")
        if team_code is not None:
            team = await Team.get_or_none(force_id=force_id, code=team_code)
            if team is None:
                raise Invalid.field("team", f"unknown team {team_code!r} in force {force_id}")
    password_hash = await passwords.hash_password_async(password)
    try:
        user = await User.create(
            email=email,
            password_hash=password_hash,
            role=role,
            force_id=force_id,
            team=team,
            display_name=display_name.strip(),
        )
    except IntegrityError as exc:
        raise Conflict(f"an account for {email} already exists") from exc
    log.info("user created", extra={"user_id": user.id, "role": role.value, "force": force_id})
    return user


REGISTRATIONS_PER_ADDRESS = 10


async def register_resident(
    *,
    email: str,
    password: str,
    display_name: str = "",
    address: str,
    settings: Settings,
    now: datetime,
) -> User:
    """A resident signs up; each address may make a few accounts per window, not a flood."""
    key = f"register:address:{address}"
    await throttle.ensure_allowed([key], now)
    await throttle.record_failure(
        key, limit=REGISTRATIONS_PER_ADDRESS, window=settings.login_window, now=now
    )
    return await create_user(
        None, email=email, role=Role.RESIDENT, password=password, display_name=display_name
    )


def _require_admin(actor: User) -> None:
    if actor.role != Role.FORCE_ADMIN:
        raise NotAllowed("only a force administrator manages accounts")


async def list_users(actor: User, force_id: str) -> list[User]:
    _require_admin(actor)
    if not _may_manage(actor, force_id):
        raise NotAllowed("you may only manage accounts of your own force")
    return await User.filter(force_id=force_id).order_by("email").prefetch_related("team")


async def get_managed_user(actor: User, user_id: int) -> User:
    _require_admin(actor)
    user = await User.get_or_none(id=user_id).prefetch_related("team")
    # Another force's account is reported as absent, not forbidden: its existence is theirs.
    if user is None or user.role not in STAFF_ROLES or not _may_manage(actor, user.force_id):
        raise NotFound("no such account in your force")
    return user


async def update_user(
    actor: User,
    user_id: int,
    *,
    role: Role | None = None,
    team_code: str | None = None,
    clear_team: bool = False,
    disabled: bool | None = None,
    display_name: str | None = None,
    now: datetime,
) -> User:
    user = await get_managed_user(actor, user_id)
    if user.id == actor.id and (disabled or (role is not None and role != user.role)):
        raise NotAllowed("you may not disable yourself or change your own role")
    async with in_transaction():
        if role is not None:
            if role == Role.RESIDENT:
                raise Invalid.field("role", "staff accounts cannot become resident accounts")
            user.role = role
        if clear_team:
            user.team = None
        elif team_code is not None:
            team = await Team.get_or_none(force_id=user.force_id, code=team_code)
            if team is None:
                raise Invalid.field("team", f"unknown team {team_code!r} in your force")
            user.team = team
        if display_name is not None:
            user.display_name = display_name.strip()
        if disabled is not None:
            user.disabled_at = now if disabled else None
        if user.role == Role.OFFICER and user.team_id is None:
            raise Invalid.field("team", "an officer account needs a team")
        await user.save()
        if disabled:
            await Session.filter(user_id=user.id, revoked_at=None).update(
                revoked_at=now, revoked_reason="account-disabled"
            )
    return await get_managed_user(actor, user_id)


class Auth:
    """Sign-in, refresh, sign-out and access-token checks for one deployment."""

    def __init__(self, settings: Settings, issuer: TokenIssuer, clock: Clock) -> None:
        self.settings = settings
        self.issuer = issuer
        self.clock = clock

    async def login(
        self, email: str, password: str, *, address: str, user_agent: str = ""
    ) -> TokenPair:
        now = self.clock()
        try:
            email = normalise_email(email)
        except Invalid:
            email = email.strip().lower()[:254]
        account_key = f"login:account:{email}"
        address_key = f"login:address:{address}"
        await throttle.ensure_allowed([account_key, address_key], now)
        user = await User.get_or_none(email=email)
        ok = await passwords.verify_password_async(user.password_hash if user else None, password)
        if user is None or not ok or not user.is_active:
            window = self.settings.login_window
            await throttle.record_failure(
                account_key, limit=self.settings.login_failures_per_account, window=window, now=now
            )
            await throttle.record_failure(
                address_key, limit=self.settings.login_failures_per_address, window=window, now=now
            )
            log.info("login failed", extra={"address": address})
            raise NotAuthenticated("the e-mail address or password is wrong")
        await throttle.clear(account_key)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = await passwords.hash_password_async(password)
            await user.save(update_fields=["password_hash"])
        async with in_transaction():
            session = await Session.create(
                id=uuid.uuid4(),
                user=user,
                created_at=now,
                last_used_at=now,
                expires_at=now + self.settings.refresh_token_ttl,
                user_agent=user_agent[:300],
            )
            pair = await self._issue(user, session, now)
        log.info("login", extra={"user_id": user.id, "session": str(session.id)})
        return pair

    async def _issue(self, user: User, session: Session, now: datetime) -> TokenPair:
        refresh = _REFRESH_PREFIX + secrets.token_urlsafe(32)
        refresh_expires = min(now + self.settings.refresh_token_ttl, session.expires_at)
        await RefreshToken.create(
            session=session,
            token_hash=_hash_refresh(refresh),
            issued_at=now,
            expires_at=refresh_expires,
        )
        access, access_expires = self.issuer.issue(
            user_id=user.id,
            session_id=session.id,
            role=user.role.value,
            force=user.force_id,
            now=now,
        )
        return TokenPair(access, access_expires, refresh, refresh_expires, user)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Swap a refresh token for a new pair; a token used twice revokes its whole session."""
        now = self.clock()
        record = await RefreshToken.get_or_none(
            token_hash=_hash_refresh(refresh_token)
        ).select_related("session__user__team")
        if record is None:
            raise NotAuthenticated("the refresh token is not valid")
        session: Session = record.session
        user: User = session.user
        if session.revoked_at is not None or not user.is_active:
            raise NotAuthenticated("the session has ended; sign in again")
        if record.expires_at <= now or session.expires_at <= now:
            raise NotAuthenticated("the refresh token has expired; sign in again")
        # Claim the token atomically: only one caller can move used_at from NULL.
        claimed = await RefreshToken.filter(id=record.id, used_at=None).update(used_at=now)
        if claimed != 1 and not await self._is_retry(record, now):
            await self._revoke(session.id, now, "refresh-token-reuse")
            log.warning("refresh token reused; session revoked", extra={"session": str(session.id)})
            raise NotAuthenticated("the refresh token was already used; sign in again")
        async with in_transaction():
            await Session.filter(id=session.id).update(last_used_at=now)
            return await self._issue(user, session, now)

    async def _is_retry(self, record: RefreshToken, now: datetime) -> bool:
        """A phone that lost the answer to its refresh sends the same token again at once.

        Within the grace period, and only while the chain has not moved on (no token of
        the session used since), that is a retry, not a thief: answer it with a new pair.
        """
        fresh = await RefreshToken.get(id=record.id)
        if fresh.used_at is None or now - fresh.used_at > self.settings.refresh_reuse_grace:
            return False
        moved_on = (
            await RefreshToken.filter(session_id=record.session_id, used_at__gte=fresh.used_at)
            .exclude(id=record.id)
            .exists()
        )
        if not moved_on:
            log.info("refresh retried within grace", extra={"session": str(record.session_id)})
        return not moved_on

    async def _revoke(self, session_id: uuid.UUID, now: datetime, reason: str) -> None:
        await Session.filter(id=session_id, revoked_at=None).update(
            revoked_at=now, revoked_reason=reason
        )

    async def logout(self, actor: User, session_id: uuid.UUID) -> None:
        await Session.filter(id=session_id, user_id=actor.id, revoked_at=None).update(
            revoked_at=self.clock(), revoked_reason="logout"
        )

    async def authenticate(self, access_token: str) -> tuple[User, uuid.UUID]:
        """The user an access token speaks for, with its session; NotAuthenticated otherwise."""
        claims = self.issuer.verify(access_token)
        # One query: the session, its user and the user's team, joined.
        session = await Session.get_or_none(id=claims.session_id).select_related("user__team")
        if session is None or session.revoked_at is not None or session.user_id != claims.subject:
            raise NotAuthenticated("the session has ended; sign in again")
        user: User = session.user
        if not user.is_active:
            raise NotAuthenticated("the account is disabled")
        return user, session.id
