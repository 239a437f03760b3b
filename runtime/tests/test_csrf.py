"""Issue 12, finding 4: every state-changing request of a staff session passes the CSRF
check — the session's token (header or form field) and, when the client names one, its
own origin — whatever the route; API-key and public requests are not affected."""

from __future__ import annotations

from staff_app import build, client, sign_in

HTML = {"accept": "text/html"}


async def test_a_staff_form_without_the_token_is_refused_with_a_danish_page() -> None:
    async with client(build()) as c:
        token = await sign_in(c)
        refused = await c.post("/things", data={"name": "x"}, headers=HTML)
        assert refused.status_code == 403
        assert 'lang="da"' in refused.text
        assert "sikkerhedskoden" in refused.text
        wrong = await c.post("/things", data={"name": "x", "csrf": token + "x"})
        assert wrong.status_code == 403
        ok = await c.post("/things", data={"name": "a chair", "csrf": token})
        assert ok.status_code == 200
        assert ok.text == "teamleder made a chair"  # the body reached the route intact


async def test_a_multipart_form_carries_the_token_too() -> None:
    async with client(build()) as c:
        token = await sign_in(c)
        files = {"attachment": ("a.txt", b"hello", "text/plain")}
        ok = await c.post("/things", data={"name": "upload", "csrf": token}, files=files)
        assert ok.text == "teamleder made upload"
        refused = await c.post("/things", data={"name": "upload"}, files=files)
        assert refused.status_code == 403


async def test_an_api_call_with_the_session_cookie_needs_the_header() -> None:
    async with client(build()) as c:
        token = await sign_in(c)
        refused = await c.put("/api/things/t1", json={"a": 1})
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert "X-CSRF-Token" in refused.json()["detail"]
        ok = await c.put("/api/things/t1", json={"a": 1}, headers={"X-CSRF-Token": token})
        assert ok.json() == {"by": "teamleder", "thing": "t1", "body": {"a": 1}}


async def test_a_request_from_another_origin_is_refused_even_with_the_token() -> None:
    app = build(csrf_trusted_origins="https://portal.example, https://other.example/")
    async with client(app) as c:
        token = await sign_in(c)
        data = {"name": "x", "csrf": token}
        for headers in (
            {"origin": "https://evil.example"},
            {"referer": "https://evil.example/page"},
            {"origin": "null", "referer": "https://evil.example/"},
            {"origin": "http://staff.test.evil.example"},
        ):
            assert (await c.post("/things", data=data, headers=headers)).status_code == 403
        for headers in (
            {"origin": "http://staff.test"},
            {"referer": "http://staff.test/cases/1"},
            {"origin": "https://portal.example"},
            {"origin": "https://other.example"},
        ):
            assert (await c.post("/things", data=data, headers=headers)).status_code == 200


async def test_requests_without_a_staff_session_are_not_affected() -> None:
    async with client(build()) as c:
        assert (await c.post("/public", data={"name": "Ida"})).text == "thanks Ida"
        keyed = await c.post("/api/department", headers={"X-API-Key": "dev-key-csr"})
        assert keyed.json() == "csr"
        # Without a session the route's own answer stands (sign in first).
        assert (await c.put("/api/things/t1", json={})).status_code == 401


async def test_the_session_endpoint_gives_programs_the_user_and_the_token() -> None:
    async with client(build()) as c:
        assert (await c.get("/auth/session")).status_code == 401
        token = await sign_in(c)
        session = (await c.get("/auth/session")).json()
        assert session["user"]["id"] == "teamleder"
        assert session["csrf_token"] == token
        assert session["csrf_header"] == "X-CSRF-Token"


async def test_sign_out_needs_the_token_or_the_services_own_origin() -> None:
    async with client(build()) as c:
        token = await sign_in(c)
        assert (await c.post("/auth/logout")).status_code == 403  # no token, no origin
        forged = await c.post("/auth/logout", headers={"origin": "https://evil.example"})
        assert forged.status_code == 403
        assert (await c.get("/me")).text == "teamleder"  # still signed in
        own = await c.post("/auth/logout", headers={"origin": "http://staff.test"})
        assert own.status_code == 303
        assert (await c.get("/me")).status_code == 401

        token = await sign_in(c)
        assert (await c.post("/auth/logout", data={"csrf": token})).status_code == 303
        assert (await c.get("/me")).status_code == 401


async def test_sign_in_from_another_origin_is_refused() -> None:
    async with client(build()) as c:
        forged = await c.post(
            "/auth/login",
            data={"username": "teamleder", "password": "indgang-dev"},
            headers={"origin": "https://evil.example"},
        )
        assert forged.status_code == 403
        assert "indgang_session" not in forged.cookies


async def test_a_signed_in_user_may_sign_in_again_without_a_token() -> None:
    async with client(build()) as c:
        await sign_in(c, "ane-kjaer")
        await sign_in(c, "teamleder")
        assert (await c.get("/me")).text == "teamleder"
