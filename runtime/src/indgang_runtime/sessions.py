"""Staff sessions kept on the server: the cookie carries only a signed session id.

Each service keeps its staff sessions in its own database (collection `sessions`,
read and written by `_id` only: the SHA-256 of the session id, so a copy of the
store alone does not let anyone take over a session). `SessionMiddleware` (pure
ASGI) puts the session's data on `scope["session"]` as Starlette's `request.session`
does, and after the response is started writes what changed:

- a session ends after `idle` without a request and at the latest `lifetime`
  after sign-in; an ended or unknown session is an empty one;
- `start_session` (sign-in) drops whatever the session held and gives it a new id,
  so an id planted before sign-in is worth nothing after it;
- a cleared session (sign-out) is deleted on the server, so a copied cookie stops
  working at once, not when it expires;
- an empty session is never stored (public visitors cost nothing).

The store has no TTL indexes (FerretDB v1): ended sessions are deleted when next
presented, and `purge` deletes by the hour of their latest end (an indexed
equality), for the hours since the last round.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

import structlog
from itsdangerous import BadSignature, TimestampSigner
from pymongo.asynchronous.database import AsyncDatabase
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from indgang_runtime.hot_paths import HotQuery

log = structlog.get_logger(__name__)

COOKIE = "indgang_session"
COLLECTION = "sessions"
# How often a session in use is marked as seen (a write), at most.
_TOUCH_EVERY = timedelta(minutes=1)
# The scope key by which `start_session` asks for a new id.
_RENEW = "indgang.session.renew"
# Where `service_accounts.BearerMiddleware` puts a bearer request's user.
_BEARER = "indgang.service_account"
_SESSIONLESS = "indgang.sessionless"

SESSION = HotQuery(COLLECTION, "the staff session of a request (every staff request)", _id="s")
ENDING_IN_HOUR = HotQuery(
    COLLECTION, "sessions whose lifetime ended in one hour (purge)", ends_hour="2026-12-01T09"
)
HOT_PATHS: tuple[HotQuery, ...] = (SESSION, ENDING_IN_HOUR)


def _hour(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """The `sessions` collection of a service's database."""

    def __init__(
        self,
        db: AsyncDatabase[Any],
        *,
        idle: timedelta = timedelta(hours=8),
        lifetime: timedelta = timedelta(hours=8),
    ) -> None:
        self._sessions = db[COLLECTION]
        self.idle = idle
        self.lifetime = lifetime
        self._indexed = False

    async def ensure_indexes(self) -> None:
        if not self._indexed:
            await self._sessions.create_index("ends_hour")
            self._indexed = True

    async def load(self, session_id: str, now: datetime) -> tuple[dict[str, Any], datetime] | None:
        """A live session's data and when it was last seen, or None (an ended one is
        deleted)."""
        doc = await self._sessions.find_one(SESSION.filter(_id=_key(session_id)))
        if doc is None:
            return None
        seen = _aware(doc["seen"])
        if now >= _aware(doc["ends"]) or now >= seen + self.idle:
            await self._sessions.delete_one(SESSION.filter(_id=_key(session_id)))
            return None
        data: dict[str, Any] = doc.get("data") or {}
        return data, seen

    async def save(self, session_id: str, data: Mapping[str, Any], now: datetime) -> None:
        ends = now + self.lifetime
        await self.ensure_indexes()
        await self._sessions.update_one(
            SESSION.filter(_id=_key(session_id)),
            {
                "$set": {"data": dict(data), "seen": now},
                "$setOnInsert": {"ends": ends, "ends_hour": _hour(ends), "started": now},
            },
            upsert=True,
        )

    async def touch(self, session_id: str, now: datetime) -> None:
        await self._sessions.update_one(
            SESSION.filter(_id=_key(session_id)), {"$set": {"seen": now}}
        )

    async def delete(self, session_id: str) -> None:
        await self._sessions.delete_one(SESSION.filter(_id=_key(session_id)))

    async def purge(self, now: datetime, hours: int = 72) -> int:
        """Delete the sessions whose lifetime ended in the last `hours` whole hours."""
        await self.ensure_indexes()
        deleted = 0
        start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        for back in range(1, hours + 1):
            hour = _hour(start - timedelta(hours=back))
            result = await self._sessions.delete_many(ENDING_IN_HOUR.filter(ends_hour=hour))
            deleted += result.deleted_count
        return deleted


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start_session(request: HTTPConnection, data: Mapping[str, Any]) -> None:
    """Sign-in: the session holds only `data` and a new form token, under a new id."""
    request.session.clear()
    request.session.update(data)
    request.session["csrf"] = secrets.token_urlsafe(24)
    request.scope[_RENEW] = True


class SessionMiddleware:
    """The session of each HTTP request, from the signed id in the cookie."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: SessionStore,
        secret_key: str,
        https_only: bool,
        cookie: str = COOKIE,
    ) -> None:
        self.app = app
        self.store = store
        self.signer = TimestampSigner(secret_key, salt="indgang-session-id")
        self.https_only = https_only
        self.cookie = cookie

    def _session_id(self, scope: Scope) -> str | None:
        raw = HTTPConnection(scope).cookies.get(self.cookie)
        if not raw:
            return None
        try:
            max_age = int(self.store.lifetime.total_seconds())
            return self.signer.unsign(raw, max_age=max_age).decode()
        except (BadSignature, UnicodeDecodeError):
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope.get(_BEARER) or scope.get(_SESSIONLESS):
            # A service account's request: its token is its identity, cookies play no
            # part (nothing is loaded or stored; no CSRF token is asked for).
            scope["session"] = {}
            await self.app(scope, receive, send)
            return
        now = datetime.now(UTC)
        session_id = self._session_id(scope)
        loaded = await self.store.load(session_id, now) if session_id else None
        seen = loaded[1] if loaded else None
        if loaded is None:
            session_id = None
        scope["session"] = loaded[0] if loaded else {}
        before = copy.deepcopy(scope["session"])
        presented = HTTPConnection(scope).cookies.get(self.cookie) is not None

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookie = await self._settle(scope, session_id, before, seen, now)
                if cookie is not None:
                    headers.append("Set-Cookie", cookie)
                elif presented and session_id is None and not scope["session"]:
                    headers.append("Set-Cookie", self._cookie("", expire=True))
            await send(message)

        await self.app(scope, receive, send_with_session)

    async def _settle(
        self,
        scope: Scope,
        session_id: str | None,
        before: dict[str, Any],
        seen: datetime | None,
        now: datetime,
    ) -> str | None:
        """Store what the request did to the session; the Set-Cookie value, if any."""
        data: dict[str, Any] = scope["session"]
        renew = scope.pop(_RENEW, False)
        if session_id is not None and (renew or not data):
            await self.store.delete(session_id)
            if not data:
                log.debug("session_ended")
                return self._cookie("", expire=True)
            session_id = None
        if not data:
            return None
        if session_id is None:
            session_id = secrets.token_urlsafe(32)
            await self.store.save(session_id, data, now)
            return self._cookie(self.signer.sign(session_id).decode())
        if data != before:
            await self.store.save(session_id, data, now)
        elif seen is None or now - seen >= _TOUCH_EVERY:
            await self.store.touch(session_id, now)
        return None

    def _cookie(self, value: str, *, expire: bool = False) -> str:
        cookie: SimpleCookie = SimpleCookie()
        cookie[self.cookie] = value
        morsel = cookie[self.cookie]
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "lax"
        if self.https_only:
            morsel["secure"] = True
        if expire:
            morsel["max-age"] = 0
            morsel["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
        return morsel.OutputString()
