"""Issue 12, finding 4: staff sessions live on the server (the service's `sessions`
collection), the cookie carries only a signed id, sign-in starts a fresh session,
sign-out revokes it, and a session ends when idle or old. Every store test runs on the
in-memory fake and on the real store."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from staff_app import PASSWORD, build, client, sign_in

from indgang_runtime.hot_paths import explain_all
from indgang_runtime.sessions import COLLECTION, HOT_PATHS, SessionStore


def _decoded(cookie: str) -> str:
    padded = cookie.split(".")[0] + "=" * (-len(cookie.split(".")[0]) % 4)
    return base64.urlsafe_b64decode(padded).decode(errors="replace")


async def test_the_cookie_carries_only_a_signed_id(db: Any) -> None:
    async with client(build(db)) as c:
        await sign_in(c)
        cookie = c.cookies["indgang_session"]
        assert "teamleder" not in cookie
        assert "teamleder" not in _decoded(cookie)
        session_id = cookie.split(".")[0]
        stored = await db[COLLECTION].find_one(
            {"_id": hashlib.sha256(session_id.encode()).hexdigest()}
        )
        assert stored is not None
        assert stored["data"]["user"]["id"] == "teamleder"

        c.cookies.set("indgang_session", session_id + ".forged")  # an unsigned id
        assert (await c.get("/me")).status_code == 401


async def test_sign_in_starts_a_fresh_session(db: Any) -> None:
    async with client(build(db)) as c:
        assert (await c.post("/plant")).text == "planted"  # an attacker's session...
        planted = c.cookies["indgang_session"]
        await sign_in(c)
        signed_in = c.cookies["indgang_session"]
        assert signed_in != planted  # ...gets a new id at sign-in
        assert (await c.get("/planted")).text == "None"  # and nothing it held
        c.cookies.set("indgang_session", planted)
        assert (await c.get("/me")).status_code == 401  # the old id is worth nothing
        assert (await c.get("/planted")).text == "None"


async def test_sign_out_revokes_the_session_on_the_server(db: Any) -> None:
    async with client(build(db)) as c:
        token = await sign_in(c)
        copied = c.cookies["indgang_session"]
        out = await c.post("/auth/logout", data={"csrf": token})
        assert out.status_code == 303
        assert await db[COLLECTION].count_documents({}) == 0
    async with client(build(db)) as thief:
        thief.cookies.set("indgang_session", copied)
        assert (await thief.get("/me")).status_code == 401


async def test_a_session_ends_when_idle_and_at_the_latest_after_its_lifetime(db: Any) -> None:
    store = SessionStore(db, idle=timedelta(minutes=30), lifetime=timedelta(hours=8))
    async with client(build(store=store)) as c:
        await sign_in(c)
        assert (await c.get("/me")).text == "teamleder"
        await db[COLLECTION].update_many(
            {}, {"$set": {"seen": datetime.now(UTC) - timedelta(minutes=31)}}
        )
        assert (await c.get("/me")).status_code == 401
        assert await db[COLLECTION].count_documents({}) == 0  # deleted when presented

        await sign_in(c)
        await db[COLLECTION].update_many(
            {}, {"$set": {"ends": datetime.now(UTC) - timedelta(seconds=1)}}
        )
        assert (await c.get("/me")).status_code == 401


async def test_a_session_in_use_stays_alive(db: Any) -> None:
    store = SessionStore(db, idle=timedelta(minutes=30))
    async with client(build(store=store)) as c:
        await sign_in(c)
        await db[COLLECTION].update_many(
            {}, {"$set": {"seen": datetime.now(UTC) - timedelta(minutes=29)}}
        )
        assert (await c.get("/me")).text == "teamleder"  # seen again now
        doc = await db[COLLECTION].find_one({})
        seen = doc["seen"] if doc["seen"].tzinfo else doc["seen"].replace(tzinfo=UTC)
        assert datetime.now(UTC) - seen < timedelta(minutes=1)


async def test_the_purge_deletes_sessions_whose_lifetime_ended(db: Any) -> None:
    store = SessionStore(db, lifetime=timedelta(hours=1))
    now = datetime.now(UTC)
    await store.save("ended", {"user": {"id": "x"}}, now - timedelta(hours=3))
    await store.save("alive", {"user": {"id": "y"}}, now)
    assert await store.purge(now) == 1
    assert await db[COLLECTION].count_documents({}) == 1
    assert await store.load("alive", now) is not None


async def _cookie(**changes: Any) -> str:
    async with client(build(**changes)) as c:
        answer = await c.post("/auth/login", data={"username": "teamleder", "password": PASSWORD})
        return str(answer.headers["set-cookie"])


async def test_session_cookies_are_secure_in_production() -> None:
    development = await _cookie()
    assert "HttpOnly" in development
    assert "samesite=lax" in development.lower()
    assert "Secure" not in development  # make up is plain HTTP
    assert "Secure" in await _cookie(session_https_only=True)
    # In production the cookie is Secure even if SESSION_HTTPS_ONLY were left false.
    assert "Secure" in await _cookie(environment="production")


async def test_the_session_queries_are_answered_through_an_index(db: Any) -> None:
    if not hasattr(db, "command"):
        pytest.skip("the fake has no query planner; the real store answers this")
    await SessionStore(db).ensure_indexes()
    for explained in await explain_all(db, HOT_PATHS):
        assert explained.indexed, explained.describe()
