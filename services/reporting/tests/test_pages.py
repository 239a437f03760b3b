"""The report pages, CSV and JSON on the real store: who may read them, the figures of
a small history on the page and in the CSV (BOM, `;`, Danish names, decimal comma), the
documented schema, and field errors for a bad period."""

from __future__ import annotations

import csv
import io

from reporting_history import HISTORY
from reporting_kit import REPORTS_KEY, RunningApp, login

from indgang_reporting.adapters.facts import FactStore


async def _fill(app: RunningApp) -> None:
    store: FactStore = app.app.state.facts
    await store.record(HISTORY)


async def test_only_team_leads_management_and_the_key_read_reports(
    reporting_app: RunningApp,
) -> None:
    async with reporting_app.client() as client:
        page = await client.get("/rapporter/henvendelser", headers={"accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"].startswith("/auth/login")
        assert (await client.get("/api/v1/reports/inquiries")).status_code == 401
        wrong = {"X-Reports-Key": "wrong"}
        assert (await client.get("/api/v1/reports/inquiries", headers=wrong)).status_code == 403
        key = {"X-Reports-Key": REPORTS_KEY}
        assert (await client.get("/api/v1/reports/inquiries", headers=key)).status_code == 200
        await login(client, "ane-kjaer")  # a consultant
        assert (await client.get("/rapporter/henvendelser")).status_code == 403
    for user in ("teamleder", "ledelse", "admin"):
        async with reporting_app.client() as client:
            await login(client, user)
            assert (await client.get("/rapporter/henvendelser")).status_code == 200, user


async def test_the_page_shows_the_figures_with_a_chart_and_a_table(
    reporting_app: RunningApp,
) -> None:
    await _fill(reporting_app)
    async with reporting_app.client() as client:
        await login(client, "ledelse")
        query = "from=2026-11-01&to=2026-12-31&per=month"
        page = await client.get(f"/rapporter/henvendelser?{query}")
        assert page.status_code == 200
        html = page.text
        assert "november 2026" in html
        assert 'role="img"' in html
        assert "<desc" in html
        assert "november 2026: 4" in html  # the chart's text alternative
        assert "Videresendt af Jobcentret" in html
        english = await client.get(f"/rapporter/henvendelser?{query}&lang=en")
        assert "November 2026" in english.text
        assert "Forwarded by Job centre" in english.text
        query += "&lang=da"  # the choice is remembered in a cookie: back to Danish
        slugs = (
            "foerste-kontakt",
            "henvisninger",
            "lukkede-sager",
            "social-vaerdi",
            "rsv-parathed",
        )
        for slug in slugs:
            assert (await client.get(f"/rapporter/{slug}?{query}")).status_code == 200
        social = (await client.get(f"/rapporter/social-vaerdi?{query}")).text
        assert "Løntilskud" in social
        assert "lægges ikke sammen" in social  # the two sources, said on the page
        assert "Personer ansat i alt" in social
        assert "november 2026: 4" in social  # people employed as recorded, in the chart
        closed = (await client.get(f"/rapporter/lukkede-sager?{query}")).text
        assert "Heraf med social værdi" in closed
        assert "på eller før sagens seneste lukning" in closed
        rsv = (await client.get(f"/rapporter/rsv-parathed?{query}")).text
        assert "Uafhængig af det offentlige" in rsv
        assert "Klar (alle fem opfyldt)" in rsv
        assert "Uafhængig af det offentlige: 2" in rsv  # met, in the chart's alternative
        first = (await client.get(f"/rapporter/foerste-kontakt?{query}")).text
        assert "33,3 %" in first
        assert "Bjarne Holm" in first  # a consultant's row by name (from the events)


async def test_csv_opens_in_danish_excel(reporting_app: RunningApp) -> None:
    await _fill(reporting_app)
    async with reporting_app.client() as client:
        await login(client, "teamleder")
        query = "from=2026-11-01&to=2026-12-31&per=month"
        response = await client.get(f"/rapporter/foerste-kontakt/perioder.csv?{query}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        raw = response.content
        assert raw.startswith(b"\xef\xbb\xbf")  # the BOM
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][:3] == ["Periode", "Sager oprettet", "Kontaktet"]
        assert "90 %-fraktil, dage" in rows[0]
        november = rows[1]
        assert november[0] == "november 2026"
        assert november[6] == "33,3"  # share on time, decimal comma
        assert rows[-1][0] == "I alt"
        reasons = await client.get(f"/rapporter/henvisninger/afvisninger.csv?{query}")
        text = reasons.content.decode("utf-8-sig")
        assert "Ingen kapacitet før januar" in text
        assert "Ekstern samarbejdspartner: mentorhuset" in text
        people = await client.get(f"/rapporter/lukkede-sager/konsulenter.csv?{query}")
        assert "Bjarne Holm;1;1;1;0;1;0;1" in people.content.decode("utf-8-sig")
        criteria = await client.get(f"/rapporter/rsv-parathed/kriterier.csv?{query}")
        lines = criteria.content.decode("utf-8-sig").splitlines()
        assert lines[0] == "Kriterium (lov nr. 711/2014 § 5);Opfyldt;Ikke endnu;Ved ikke"
        assert "Uafhængig af det offentlige;2;1;0" in lines
        recorded = await client.get(f"/rapporter/social-vaerdi/registreret.csv?{query}")
        assert "I alt;5;3;2;1;2;2;7" in recorded.content.decode("utf-8-sig")
        won = await client.get(f"/rapporter/social-vaerdi/registreret-rsv-aftaler.csv?{query}")
        assert "I alt;2;1;1" in won.content.decode("utf-8-sig")
        mine = await client.get(f"/rapporter/social-vaerdi/registreret-konsulenter.csv?{query}")
        assert "Bjarne Holm;2;1;1;1;0;1" in mine.content.decode("utf-8-sig")
        assert (await client.get(f"/rapporter/henvisninger/nope.csv?{query}")).status_code == 404


async def test_the_json_has_a_documented_schema_and_bad_periods_get_field_errors(
    reporting_app: RunningApp,
) -> None:
    async with reporting_app.client() as client:
        schema = (await client.get("/openapi.json")).json()
        for name in (
            "inquiries",
            "first-contact",
            "referrals",
            "closed",
            "social-value",
            "rsv-readiness",
        ):
            operation = schema["paths"][f"/api/v1/reports/{name}"]["get"]
            assert "$ref" in operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert "share_on_time" in schema["components"]["schemas"]["FirstContactRow"]["properties"]
        assert "not_yet" in schema["components"]["schemas"]["RsvCriterionRow"]["properties"]
        assert (
            "people_employed" in schema["components"]["schemas"]["RecordedValueRow"]["properties"]
        )
        key = {"X-Reports-Key": REPORTS_KEY}
        backwards = await client.get(
            "/api/v1/reports/inquiries",
            params={"from": "2026-12-01", "to": "2026-11-01"},
            headers=key,
        )
        assert backwards.status_code == 422
        assert backwards.json()["detail"][0]["loc"] == ["query", "to"]
        too_long = await client.get(
            "/api/v1/reports/inquiries",
            params={"from": "2020-01-01", "to": "2026-11-01", "per": "week"},
            headers=key,
        )
        assert too_long.status_code == 422
        bad_door = await client.get(
            "/api/v1/reports/inquiries", params={"door": "pigeon"}, headers=key
        )
        assert bad_door.status_code == 422


async def test_the_form_empty_filters_are_all_and_a_bad_query_is_named_on_the_page(
    reporting_app: RunningApp,
) -> None:
    async with reporting_app.client() as client:
        await login(client, "teamleder")
        empty = await client.get(
            "/rapporter/henvendelser",
            params={"from": "2026-11-01", "to": "2026-12-31", "per": "week", "door": "",
                    "department": "", "consultant": "", "lang": "da"},
        )  # fmt: skip
        assert empty.status_code == 200
        assert "uge 45 2026" in empty.text
        bad = await client.get(
            "/rapporter/henvendelser", params={"from": "2026-12-01", "to": "2026-11-01"}
        )
        assert bad.status_code == 422
        assert 'id="invalid"' in bad.text
        assert 'href="#to"' in bad.text
        csv_bad = await client.get("/rapporter/henvendelser/perioder.csv", params={"door": "x"})
        assert csv_bad.status_code == 422
