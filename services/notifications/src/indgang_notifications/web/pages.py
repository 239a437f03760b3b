"""The delivery log page for staff: search, status, errors, and resend of dead deliveries.

Server-rendered (works without JavaScript), Danish first (`?lang=en`), in
Det Fælles Designsystem. The resend form carries a per-session token.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from indgang_notifications.adapters.deliveries import public
from indgang_notifications.domain.log_labels import (
    channel_label,
    event_label,
    kind_label,
    language_label,
    role_label,
)
from indgang_notifications.web.access import STAFF_ROLES, scope_of, visible
from indgang_notifications.web.state import Deliveries, Log, SenderDep
from indgang_runtime.auth import StaffUser, require_roles
from indgang_runtime.pages import Language, Translations
from indgang_runtime.web import csrf_ok, pages_of, render

TEXTS: dict[str, dict[str, str]] = {
    "log.title": {"da": "Leveringslog", "en": "Delivery log"},
    "log.intro": {
        "da": "Alle e-mails og webhooks, som Én indgang har sendt eller forsøger at sende.",
        "en": "Every e-mail and webhook One entrance has sent or is trying to send.",
    },
    "log.own": {
        "da": "Som konsulent ser du leveringerne om dine egne sager.",
        "en": "As a consultant you see the deliveries about your own cases.",
    },
    "log.query": {
        "da": "Sagsnummer, henvendelses-id, reference eller modtager",
        "en": "Case id, inquiry id, reference or recipient",
    },
    "log.query.hint": {
        "da": "Skriv det hele præcist, fx hele e-mailadressen; store og små bogstaver er "
        "ligegyldige. Uden søgning vises de nyeste leveringer fra de seneste 48 timer – "
        "vælg Afventer eller Opgivet for at se alle i den status.",
        "en": "Type all of it exactly, e.g. the whole e-mail address; upper and lower case "
        "do not matter. Without a search, the newest deliveries of the last 48 hours are "
        "shown – choose Pending or Given up to see all in that status.",
    },
    "log.status": {"da": "Status", "en": "Status"},
    "log.all": {"da": "Alle", "en": "All"},
    "log.search": {"da": "Søg", "en": "Search"},
    "log.none": {"da": "Ingen leveringer fundet.", "en": "No deliveries found."},
    "log.count": {"da": "leveringer vist", "en": "deliveries shown"},
    "log.caption": {"da": "Leveringer, nyeste først", "en": "Deliveries, newest first"},
    "col.created": {"da": "Oprettet", "en": "Created"},
    "col.message": {"da": "Besked", "en": "Message"},
    "col.recipient": {"da": "Modtager", "en": "Recipient"},
    "col.case": {"da": "Sag / reference", "en": "Case / reference"},
    "col.status": {"da": "Status", "en": "Status"},
    "col.attempts": {"da": "Forsøg", "en": "Attempts"},
    "col.error": {"da": "Seneste fejl", "en": "Last error"},
    "col.next": {"da": "Næste forsøg", "en": "Next attempt"},
    "col.action": {"da": "Handling", "en": "Action"},
    "status.pending": {"da": "Afventer", "en": "Pending"},
    "status.sent": {"da": "Sendt", "en": "Sent"},
    "status.dead": {"da": "Opgivet", "en": "Given up"},
    "log.resend": {"da": "Send igen", "en": "Send again"},
    "log.resent": {
        "da": "Leveringen sendes igen med en ny runde forsøg.",
        "en": "The delivery will be sent again with a new round of attempts.",
    },
    "log.not_dead": {
        "da": "Kun opgivne leveringer kan sendes igen.",
        "en": "Only deliveries that were given up can be sent again.",
    },
    "log.cycle": {"da": "runde", "en": "round"},
    "log.because": {"da": "Anledning", "en": "Cause"},
}
TRANSLATIONS = Translations(TEXTS)


Staff = Annotated[StaffUser, Depends(require_roles(*STAFF_ROLES))]

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/leveringer", status.HTTP_303_SEE_OTHER)


@router.get("/leveringer", response_class=HTMLResponse)
async def delivery_log(
    request: Request,
    user: Staff,
    log: Log,
    q: Annotated[str, Query(max_length=320)] = "",
    status_: Annotated[str, Query(alias="status")] = "",
    notice: str = "",
) -> Response:
    chosen = status_ if status_ in ("pending", "sent", "dead") else None
    found = await log.search(q or None, chosen, consultant=scope_of(user))
    lang = pages_of(request).language(request)
    rows = [labelled(public(doc), lang) for doc in found]
    return render(
        request,
        "notifications/deliveries.html",
        {
            "user": user,
            "rows": rows,
            "own_cases_only": scope_of(user) is not None,
            "q": q,
            "status": chosen or "",
            "notice": notice if notice in ("resent", "not_dead") else "",
        },
    )


def labelled(row: dict[str, Any], lang: Language) -> dict[str, Any]:
    """The row with a label for each code in it: the page shows no codes or template keys."""
    return {
        **row,
        "kind_label": kind_label(row.get("kind"), lang),
        "role_label": role_label(row.get("recipient_role"), lang),
        "event_label": event_label(row.get("event_type"), lang),
        "channel_label": channel_label(row.get("channel"), lang),
        "language_label": language_label(row.get("language"), lang),
    }


@router.post("/leveringer/{delivery_id}/gensend")
async def resend(
    request: Request,
    delivery_id: str,
    user: Staff,
    deliveries: Deliveries,
    sender: SenderDep,
    csrf: Annotated[str, Form()] = "",
    q: Annotated[str, Form()] = "",
) -> RedirectResponse:
    if not csrf_ok(request, csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form expired; reload the page")
    scope = scope_of(user)
    if scope is not None and not visible(await deliveries.get(delivery_id), scope):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such delivery")
    doc = await deliveries.resend(delivery_id)
    if doc is not None:
        sender.kick()
    notice = "resent" if doc is not None else "not_dead"
    query = urlencode({"q": q or delivery_id, "notice": notice})
    return RedirectResponse(f"/leveringer?{query}", status.HTTP_303_SEE_OTHER)
