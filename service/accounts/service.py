"""Account rules: registration and sign-in (throttled, see throttle.py), bearer tokens and browser sessions."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.events import EmailConfirmationRequested
from service.accounts.links import new_link
from service.accounts.models import AuthToken, LinkPurpose, MemberRole, Role, User
from service.accounts.passwords import MIN_LENGTH, hash_password, verify_password
from service.accounts.schemas import RegisterIn, UserIn
from service.accounts.throttle import Throttle
from service.config import SUPPORTED_LOCALES, AuthSettings, Settings
from service.identity.principal import Principal
from service.lib.clock import now, sleep
from service.lib.errors import Conflict, FieldError, FieldErrors, Unauthorized
from service.lib.events import publish
from service.registry.models import Organization, OrganizationKind
from service.registry.service import OrganizationService
from service.registry.validation import EMAIL_RE


def hash_token(raw: str) -> bytes:
    return hashlib.sha256(raw.encode()).digest()


def validate_user(data: UserIn, errors: FieldErrors, prefix: str = "user.") -> None:
    email = data.email.strip()
    if not EMAIL_RE.match(email) or len(email) > 254:
        errors.add(prefix + "email", "not a valid email address")
    if len(data.password) < MIN_LENGTH:
        errors.add(prefix + "password", f"must be at least {MIN_LENGTH} characters")
    if len(data.password) > 1024:
        errors.add(prefix + "password", "must be at most 1,024 characters")
    if not 1 <= len(data.name.strip()) <= 100:
        errors.add(prefix + "name", "must be 1 to 100 characters")
    if data.locale is not None and data.locale not in SUPPORTED_LOCALES:
        errors.add(prefix + "locale", f"must be one of {', '.join(SUPPORTED_LOCALES)}")


class AccountService:
    def __init__(self, session: AsyncSession, settings: AuthSettings) -> None:
        self.session = session
        self.settings = settings
        self.throttle = Throttle(lambda: AsyncSession(bind=session.bind), settings)

    # -- registration -------------------------------------------------------------
    async def register(self, data: RegisterIn, ip: str | None = None) -> tuple[User, Organization]:
        """Create a pending organization with its first user.

        With the caller's `ip` (every HTTP registration), the registration counts against that
        address's hourly limit (429 once reached; a refused registration does not count), and an
        address at its sign-in failure limit is refused too. An email that cannot be used is only
        discovered once everything else is valid, so a probe with any other error learns nothing,
        and a probe that gets through creates a visible pending organization. Each such refusal is
        charged to the caller's address in the sign-in failure budget, so probing addresses by
        registering is throttled exactly like guessing passwords (429).
        """
        if ip is None:
            return await self._register(data)
        email = data.user.email.strip()
        await self.throttle.check_sign_in(email, ip)
        reservation = await self.throttle.reserve_registration(ip)
        try:
            user, organization = await self._register(data)
            await send_confirmation(self.session, user)
            return user, organization
        except Conflict:
            await self.throttle.release_registration(reservation)
            await self.throttle.record_sign_in(email, ip, succeeded=False)
            raise
        except Exception:
            await self.throttle.release_registration(reservation)
            raise

    async def _register(self, data: RegisterIn) -> tuple[User, Organization]:
        errors = FieldErrors()
        validate_user(data.user, errors)
        kind = OrganizationKind(data.kind)
        organization = await OrganizationService(self.session).create(kind, data.organization, errors)
        user = User(
            email=data.user.email.strip(),
            password_hash=hash_password(data.user.password),
            name=data.user.name.strip(),
            phone=(data.user.phone or "").strip() or None,
            role=Role(data.kind),
            organization_id=organization.id,
            member_role=MemberRole.ADMIN.value,  # the registering user is the organization's first admin
            joined_at=now(),
            locale=data.user.locale or "ko",
        )
        await self._add_user(user)
        return user, organization

    async def create_staff(self, email: str, password: str, name: str) -> User:
        errors = FieldErrors()
        validate_user(UserIn(email=email, password=password, name=name), errors, prefix="")
        errors.raise_if_any()
        user = User(email=email.strip(), password_hash=hash_password(password), name=name, role=Role.STAFF)
        await self._add_user(user)
        return user

    async def _add_user(self, user: User) -> None:
        self.session.add(user)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError as exc:
            if "uq_users_email" in str(exc.orig):
                raise Conflict(
                    "This email address cannot be used for a new account.",
                    errors=[FieldError("user.email", "cannot be used")],
                ) from None
            raise

    # -- sign-in --------------------------------------------------------------------
    async def login(self, email: str, password: str, ip: str, user_agent: str | None) -> tuple[str, AuthToken, User]:
        """Check the password and return a new token.

        Throttled per (account, address) and per address (429 to that address only); failures on
        the account from everywhere only delay its sign-ins a little (see accounts/throttle.py).
        """
        email = email.strip()
        delay = await self.throttle.check_sign_in(email, ip)
        await sleep(delay)
        user = await self.session.scalar(select(User).where(User.email == email))
        ok = verify_password(user.password_hash if user else None, password)
        await self.throttle.record_sign_in(email, ip, succeeded=bool(ok and user))
        if not ok or user is None or not user.is_active:
            raise Unauthorized("Email or password is wrong.")
        raw, token = await self.issue_token(user, user_agent)
        return raw, token, user

    async def issue_token(self, user: User, user_agent: str | None = None) -> tuple[str, AuthToken]:
        raw = secrets.token_urlsafe(32)
        token = AuthToken(
            user_id=user.id,
            token_hash=hash_token(raw),
            expires_at=now() + timedelta(hours=self.settings.token_hours),
            user_agent=(user_agent or "")[:300] or None,
        )
        self.session.add(token)
        await self.session.flush()
        return raw, token

    async def revoke(self, token_id: uuid.UUID) -> None:
        await self.session.execute(
            update(AuthToken).where(AuthToken.id == token_id, AuthToken.revoked_at.is_(None)).values(revoked_at=now())
        )

    async def principal_for_token(self, raw: str) -> Principal | None:
        row = (
            await self.session.execute(
                select(AuthToken, User)
                .join(User, User.id == AuthToken.user_id)
                .where(
                    AuthToken.token_hash == hash_token(raw),
                    AuthToken.revoked_at.is_(None),
                    AuthToken.expires_at > now(),
                    User.is_active.is_(True),
                )
            )
        ).first()
        if row is None:
            return None
        token, user = row
        return principal_of(user, token.id)

    async def get_user(self, user_id: uuid.UUID) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise Unauthorized("Sign in first.")
        return user


async def send_confirmation(session: AsyncSession, user: User) -> None:
    """Mail a link confirming the user's address (at registration; again on request). Confirming
    informs the support center's review; it blocks nothing."""
    link, raw = await new_link(session, user, LinkPurpose.EMAIL_CONFIRM, user.email)
    event = EmailConfirmationRequested(
        user_id=user.id, email=user.email, name=user.name, locale=user.locale, link_id=link.id, token=raw
    )
    await publish(session, event)


def account_service(session: AsyncSession, settings: Settings) -> AccountService:
    """The account service with the application's sign-in settings (what controllers are given)."""
    return AccountService(session, settings.auth)


def principal_of(user: User, token_id: uuid.UUID) -> Principal:
    org = user.organization
    return Principal(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=user.role.value,
        organization_id=user.organization_id,
        organization_kind=org.kind.value if org else None,
        organization_status=org.status.value if org else None,
        organization_name=org.name if org else None,
        locale=user.locale,
        token_id=token_id,
    )


def expires_iso(moment: datetime) -> str:
    return moment.isoformat()


# Home views closer together than this are one visit: a refresh keeps what the visit marked as new.
HOME_VISIT_GAP = timedelta(minutes=30)


async def record_home_visit(session: AsyncSession, user_id: uuid.UUID) -> datetime | None:
    """Note that the user opened their home now; returns the moment to mark news against (None: all is new).

    A view more than `HOME_VISIT_GAP` after the previous one starts a new visit, marked against that previous
    view; a view within the gap (a refresh, coming back from a need) keeps the current visit's moment. One
    UPDATE reads the old values (PostgreSQL's SET sees the row as it was), so two tabs cannot interleave."""
    moment = now()
    new_visit = or_(User.last_home_visit_at.is_(None), User.last_home_visit_at < moment - HOME_VISIT_GAP)
    since: datetime | None = await session.scalar(
        update(User)
        .where(User.id == user_id)
        .values(
            home_new_since=case((new_visit, User.last_home_visit_at), else_=User.home_new_since),
            last_home_visit_at=moment,
        )
        .returning(User.home_new_since)
    )
    return since
