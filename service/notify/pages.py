"""Pages of mail: staff see the outbox (counts by status, the latest messages, retry and cancel, one
message); every signed-in user chooses the optional mails they receive (`/me/notifications`)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts.preferences import MailPreferences, MailPreferenceService
from service.config import Settings
from service.identity.deps import staff_only
from service.identity.principal import Principal
from service.lib.deps import provide_service
from service.lib.errors import DomainError, ValidationFailed
from service.lib.pager import Pager, page_number
from service.lib.pages import field_errors, form_action, redirect, render
from service.notify.dispatcher import mailbox_path
from service.notify.dispatcher import message_id as header_message_id
from service.notify.models import OutboxStatus
from service.notify.service import OutboxService, stored_attachment


class MailPages(Controller):
    path = "/staff/mail"
    tags = ["pages"]
    include_in_schema = False
    guards = [staff_only]
    dependencies = {"outbox": provide_service(OutboxService)}

    @get("/")
    async def mail_queue(
        self,
        request: Request[Any, Any, Any],
        outbox: NamedDependency[OutboxService],
        settings: NamedDependency[Settings],
        status: FromQuery[str | None] = None,
    ) -> Template:
        chosen: OutboxStatus | None = None
        if status:
            try:
                chosen = OutboxStatus(status)
            except ValueError:
                raise ValidationFailed.single("status", "unknown status") from None
        pager = Pager(page_number(request.query_params.get("page")), 0, {"status": status or ""})
        messages, total = await outbox.latest(chosen, pager.offset, pager.per_page)
        return render(
            request,
            "notify/queue.html",
            counts=await outbox.counts(),
            messages=messages,
            titles=OutboxService.titles(messages),
            pager=pager.with_total(total),
            chosen=chosen.value if chosen else "",
            statuses=[s.value for s in OutboxStatus],
            local_mailbox=not settings.smtp.configured,
        )

    @get("/{message_id:uuid}")
    async def show_message(
        self,
        request: Request[Any, Any, Any],
        message_id: FromPath[uuid.UUID],
        outbox: NamedDependency[OutboxService],
        settings: NamedDependency[Settings],
    ) -> Template:
        message = await outbox.get(message_id)
        path = mailbox_path(settings, message.id)
        raw = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
        attachments = [_listed(a) for a in message.attachments]
        return render(
            request,
            "notify/message.html",
            message=message,
            content=OutboxService.content(message),
            header_message_id=header_message_id(message.id),
            raw=raw,
            attachments=attachments,
        )

    @post("/{message_id:uuid}/retry")
    async def retry_message(
        self,
        message_id: FromPath[uuid.UUID],
        outbox: NamedDependency[OutboxService],
    ) -> Response[Any]:
        await outbox.retry(message_id)
        return redirect("/staff/mail?done=retry")

    @post("/{message_id:uuid}/cancel")
    async def cancel_message(
        self,
        message_id: FromPath[uuid.UUID],
        outbox: NamedDependency[OutboxService],
    ) -> Response[Any]:
        await outbox.cancel(message_id)
        return redirect("/staff/mail?done=cancel")


def _listed(stored: dict[str, Any]) -> dict[str, Any]:
    """An attachment as the message page lists it; one that cannot be rendered (the reason its row
    failed) is listed with its name and an unknown size rather than failing the page."""
    try:
        data: bytes | None = stored_attachment(stored).data
    except (KeyError, TypeError, ValueError):
        data = None
    size = len(data) if data is not None else "?"
    return {"filename": stored.get("filename", "?"), "content_type": stored.get("content_type", "?"), "size": size}


class NotificationPages(Controller):
    """The signed-in user's choice of optional mails (reminders, follow-up questions, the weekly digest)."""

    path = "/me/notifications"
    tags = ["pages"]
    include_in_schema = False
    dependencies = {"preferences": provide_service(MailPreferenceService)}

    @get("/")
    async def notifications(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        preferences: NamedDependency[MailPreferenceService],
    ) -> Template:
        user = await preferences.user(viewer.user_id)
        return notifications_page(request, viewer, MailPreferences.of(user))

    @post("/")
    async def save_notifications(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Principal],
        preferences: NamedDependency[MailPreferenceService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        # An unticked box is not sent: every kind shown on the form is off unless ticked. The digest
        # is shown to firms only, so other users' digest switch stays as it is.
        shown = [kind for kind in ("reminders", "followups", "digest") if kind != "digest" or viewer.is_firm]
        changes = {kind: form.get(kind) is not None for kind in shown}

        async def save() -> Response[Any]:
            await preferences.apply(viewer.user_id, changes)
            return redirect("/me/notifications?saved=1")

        def refused(error: DomainError) -> Response[Any]:
            values = MailPreferences(**{**MailPreferences().as_dict(), **changes})
            return notifications_page(request, viewer, values, error.status, field_errors(error))

        return await form_action(db_session, save, refused)


def notifications_page(
    request: Request[Any, Any, Any],
    viewer: Principal,
    values: MailPreferences,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> Template:
    kinds = ["reminders", "followups"] + (["digest"] if viewer.is_firm else [])
    return render(
        request,
        "notify/notifications.html",
        status_code=status_code,
        kinds=kinds,
        values=values.as_dict(),
        errors=errors or {},
    )


ROUTES = [MailPages, NotificationPages]
