"""A small, realistic history for the report pages (`make demo-history`).

Against a running `make up`: a few dozen inquiries through intake's doors — the public
API (web form), the staff form (phone, e-mail, walk-in; signed in as a consultant) and
a department's API key (forwarded) — a few of them follow-ups; then in routing, as the
team lead: first contact on most cases, referrals to the job centre, business service,
procurement and an outside provider, the departments' answers through their API keys
(accepted, declined with a reason, completed with people hired), social value recorded
on some cases (people employed by instrument, RSV registration helped, supplier
agreements and social clauses won; a few corrected or withdrawn), RSV readiness
checklists on some (a few ready, one or two registered), and some closings.
The report pages (http://127.0.0.1:8005, teamleder or ledelse / indgang-dev) then show
it. Every organisation, person and address is invented (example.dk). Everything happens
today: intake and routing stamp their own times, so the history falls in this week and
month.

    uv run python services/reporting/scripts/demo_history.py [--inquiries 36] [--seed 14]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

PASSWORD = "indgang-dev"  # the development users' (deploy/dev/users.toml)
CONSULTANT = "ane-kjaer"
TEAM_LEAD = "teamleder"
# Routing judges dates by the municipality's day: from 23:00 or 22:00 UTC the machine's
# date.today() is still yesterday there, and a first contact dated before the inquiry
# came in is refused.
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# The console's message after a refused form (routing's templates/console/layout.html).
REFUSAL = re.compile(r'class="alert alert-error".*?<p class="alert-text">([^<]*)<', re.S)

ORGANISATIONS = [
    ("Kaffe & Omsorg ApS", "start_up"),
    ("Værkstedet Ølstykke", "established_social_economy"),
    ("Grønne Hænder Genbrug", "established_social_economy"),
    ("Cykelsmeden i Brande", "start_up"),
    ("Fællesskabets Køkken", "idea"),
    ("Havebrug for Alle", "idea"),
    ("Strikkecaféen", "start_up"),
    ("Tømrerlauget Ikast", "ordinary_company"),
    ("Byens Vaskeri", "established_social_economy"),
    ("Bæredygtig Bageri", "start_up"),
    ("IT-Værkstedet", "ordinary_company"),
    ("Rengøring med Mening", "established_social_economy"),
]
FIRST_NAMES = ["Åse", "Bjørn", "Søren", "Mette", "Jørgen", "Ida", "Ahmed", "Fatma", "Lærke"]
LAST_NAMES = ["Ødegård", "Kjær", "Mølgaard", "Nielsen", "Hansen", "Yilmaz", "Sørensen"]
NEEDS = [
    ["hiring_vulnerable_unemployed"],
    ["hiring_vulnerable_unemployed", "courses_and_mentor_training"],
    ["business_development"],
    ["funding_and_support"],
    ["selling_to_municipality"],
    ["rsv_registration", "business_development"],
    ["legislation"],
    ["other"],
]
DOORS = ["web"] * 5 + ["phone"] * 3 + ["email"] * 2 + ["walk_in", "forwarded", "forwarded"]
FORWARDERS = ["job_centre", "business_service", "procurement"]
DECLINES = [
    "Ingen ledige praktikpladser før februar.",
    "Uden for vores område; kontakt Erhvervshuset.",
    "Virksomheden opfylder ikke kravene til løntilskud endnu.",
]


@dataclass
class Inquiry:
    door: str
    organisation: str
    stage: str
    email: str
    needs: list[str]
    reference: str = ""
    case_id: str = ""
    notes: dict[str, Any] = field(default_factory=dict)


def say(text: str) -> None:
    print(text, flush=True)


def post_with_patience(client: httpx.Client, url: str, **kwargs: Any) -> httpx.Response:
    """POST, waiting out 429 (intake limits the public to ten a minute)."""
    while True:
        response = client.post(url, **kwargs)
        if response.status_code != 429:
            return response
        wait = int(response.headers.get("retry-after", "10"))
        say(f"  (intake asks to wait {wait} s: the public's rate limit)")
        time.sleep(wait)


def staff_client(base: str, user: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=20, follow_redirects=False)
    login = client.post("/auth/login", data={"username": user, "password": PASSWORD})
    if login.status_code != 303:
        sys.exit(f"cannot sign in as {user} at {base}: {login.status_code} {login.text[:200]}")
    client.headers["X-CSRF-Token"] = client.get("/auth/session").json()["csrf_token"]
    return client


def submission(inquiry: Inquiry, rng: random.Random) -> dict[str, Any]:
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return {
        "organisation": {"name": inquiry.organisation, "stage": inquiry.stage},
        "contact": {"name": name, "email": inquiry.email, "preferred_language": "da"},
        "needs": inquiry.needs,
        "description": "Vi vil gerne have hjælp til at komme videre (demo-historik).",
        "privacy_notice_accepted": True,
    }


def send_inquiry(inquiry: Inquiry, intake: str, staff: httpx.Client, rng: random.Random) -> None:
    body = submission(inquiry, rng)
    if inquiry.door == "web":
        with httpx.Client(base_url=intake, timeout=20) as public:
            response = post_with_patience(public, "/api/v1/inquiries", json=body)
        response.raise_for_status()
        inquiry.reference = response.json()["reference"]
    elif inquiry.door == "forwarded":
        department = rng.choice(FORWARDERS)
        with httpx.Client(base_url=intake, timeout=20) as system:
            response = post_with_patience(
                system,
                "/api/v1/inquiries",
                json=body,
                headers={"X-API-Key": f"dev-key-{department}"},
            )
        response.raise_for_status()
        inquiry.reference = response.json()["reference"]
    else:
        form = staff.get("/medarbejder/henvendelse")
        token = re.search(r'name="form_token" value="([^"]+)"', form.text)
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        if token is None or csrf is None:
            sys.exit("intake's staff form has no form token: is intake the expected version?")
        response = post_with_patience(
            staff,
            "/medarbejder/henvendelse",
            data={
                "form_token": token.group(1),
                "csrf": csrf.group(1),
                "channel": inquiry.door,
                "forwarded_by": "",
                "organisation_name": inquiry.organisation,
                "organisation_stage": inquiry.stage,
                "contact_name": body["contact"]["name"],
                "contact_email": inquiry.email,
                "contact_language": "da",
                "needs": inquiry.needs,
                "description": body["description"],
                "privacy_notice_accepted": "yes",
            },
        )
        found = re.search(r'id="reference">([^<]+)<', response.text)
        if response.status_code != 200 or found is None:
            sys.exit(f"the staff form refused the inquiry: {response.status_code}")
        inquiry.reference = found.group(1).strip()


def find_case(routing: httpx.Client, reference: str, timeout: float = 60) -> dict[str, Any] | None:
    """The case routing opened (or joined) for the inquiry with `reference`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = routing.get("/api/v1/cases", params={"q": reference})
        if found.status_code == 200 and found.json():
            case: dict[str, Any] = found.json()[0]
            return case
        time.sleep(0.5)
    return None


def municipal_today() -> date:
    return datetime.now(COPENHAGEN).date()


def form_post(routing: httpx.Client, path: str, data: dict[str, str]) -> bool:
    """A case page's form, as a consultant posts it. The console answers a refusal too
    with a 303 back to the case, its reason in the message shown there: read it, so
    only what routing accepted is counted."""
    response = routing.post(path, data={**data, "csrf": routing.headers["X-CSRF-Token"]})
    if response.status_code != 303:
        say(f"  {path}: {response.status_code} {response.text[:160]}")
        return False
    page = routing.get(response.headers["location"])
    refused = REFUSAL.search(page.text)
    if refused is not None:
        say(f"  {path}: refused: {refused.group(1).strip()}")
        return False
    return True


class Missing(Exception):
    """Routing has no such staff API (an older routing): that part of the demo is skipped."""


def record_outcome(routing: httpx.Client, case_id: str, rng: random.Random) -> int:
    """Social value on the case through routing's staff API; sometimes corrected, or
    withdrawn. Returns 1 if a recording stays (counts), else 0."""
    outcome_id = str(uuid.uuid4())
    path = f"/api/v1/cases/{case_id}/outcomes/{outcome_id}"
    body: dict[str, Any] = {
        "wage_subsidy_hires": rng.choice([0, 0, 1, 2]),
        "flex_jobs": rng.choice([0, 0, 1]),
        "work_placements": rng.choice([0, 1, 2]),
        "ordinary_hires": rng.choice([0, 0, 1]),
        "rsv_registration_helped": rng.random() < 0.25,
        "supplier_agreements": rng.choice([0, 0, 1]),
        "social_clauses": rng.choice([0, 0, 0, 1]),
    }
    if not any(body.values()):
        body["ordinary_hires"] = 1
    response = routing.put(path, json=body)
    if response.status_code in (404, 405) and "outcome" not in response.text.lower():
        raise Missing("social value")
    if response.status_code not in (200, 201):
        say(f"  outcome refused: {response.status_code} {response.text[:160]}")
        return 0
    roll = rng.random()
    if roll < 0.2:  # a correction: the same id, other counts
        body["ordinary_hires"] = int(body["ordinary_hires"]) + 1
        routing.put(path, json=body)
    elif roll < 0.3:  # recorded by mistake: withdrawn
        routing.delete(path)
        return 0
    return 1


def rsv_checklist(
    routing: httpx.Client, case_id: str, rng: random.Random, *, register: bool
) -> bool | None:
    """The case's RSV readiness checklist through routing's staff API: all met (some of
    those registered today; the first ready one if `register`) or partly met. Returns
    whether it was marked registered; None if routing refused it."""
    criteria = [
        "social_purpose",
        "commercial_activity",
        "independence",
        "inclusive_governance",
        "social_profit_handling",
    ]
    ready = rng.random() < 0.4
    statuses = {
        c: "met" if ready else rng.choice(["met", "met", "not_yet", "unknown"]) for c in criteria
    }
    body: dict[str, Any] = {"criteria": {c: {"status": s} for c, s in statuses.items()}}
    if ready and (register or rng.random() < 0.5):
        body["registered_on"] = municipal_today().isoformat()
    response = routing.patch(f"/api/v1/cases/{case_id}/rsv-readiness", json=body)
    if response.status_code in (404, 405) and "rsv" not in response.text.lower():
        raise Missing("RSV readiness")
    if response.status_code != 200:
        say(f"  RSV checklist refused: {response.status_code} {response.text[:160]}")
        return None
    return "registered_on" in body


def casework(
    inquiries: list[Inquiry], routing: httpx.Client, routing_url: str, rng: random.Random
) -> dict[str, int]:
    done = {"first_contact": 0, "referrals": 0, "answers": 0, "closed": 0, "outcomes": 0}
    done["rsv"] = 0
    missing: set[str] = set()
    any_registered = False
    today = municipal_today().isoformat()
    seen: set[str] = set()
    emails: set[str] = set()
    for inquiry in inquiries:
        follow_up = inquiry.email in emails
        emails.add(inquiry.email)
        case = find_case(routing, inquiry.reference, timeout=10 if follow_up else 60)
        if case is None:
            if follow_up:
                continue  # joined the organisation's case, found under its own reference
            sys.exit(f"no case for {inquiry.reference} after 60 s: are routing and Kafka up?")
        inquiry.case_id = case["id"]
        if case["id"] in seen:
            continue  # a follow-up joined a case already worked on
        seen.add(case["id"])
        if rng.random() < 0.75 and form_post(
            routing,
            f"/sager/{case['id']}/foerste-kontakt",
            {"channel": rng.choice(["phone", "email", "meeting"]), "contact_date": today},
        ):
            done["first_contact"] += 1
        if rng.random() < 0.55:
            department, provider = rng.choice(
                [
                    ("job_centre", None),
                    ("job_centre", None),
                    ("business_service", None),
                    ("procurement", None),
                    ("outside_provider", "mentorhuset"),
                ]
            )
            made = routing.post(
                f"/api/v1/cases/{case['id']}/referrals",
                json={
                    "department": department,
                    "provider_id": provider,
                    "purpose": "Afklaring af muligheder for virksomheden (demo-historik).",
                    "needs": inquiry.needs,
                    "consent_to_share_contact": rng.random() < 0.7,
                },
            )
            if made.status_code != 201:
                say(f"  referral refused: {made.status_code} {made.text[:160]}")
                continue
            done["referrals"] += 1
            done["answers"] += answer(
                routing_url, made.json()["referral_id"], department, provider, rng
            )
        if rng.random() < 0.45 and "outcomes" not in missing:
            try:
                done["outcomes"] += record_outcome(routing, case["id"], rng)
            except Missing as exc:
                say(f"  routing has no {exc} API: skipped")
                missing.add("outcomes")
        if rng.random() < 0.4 and "rsv" not in missing:
            try:
                registered = rsv_checklist(routing, case["id"], rng, register=not any_registered)
                if registered is not None:
                    any_registered = any_registered or registered
                    done["rsv"] += 1
            except Missing as exc:
                say(f"  routing has no {exc} API: skipped")
                missing.add("rsv")
        if rng.random() < 0.3:
            # Half the closings tell the enterprise why (the closing mail in Mailpit); the
            # rest as if the enterprise had asked to close.
            told = rng.random() < 0.5
            if form_post(
                routing,
                f"/sager/{case['id']}/luk",
                {"outcome": "Virksomheden har fået den hjælp, den bad om."}
                | (
                    {"message_to_enterprise": "I har fået den hjælp, I bad om, og vi lukker sagen."}
                    if told
                    else {"no_message": "1"}
                ),
            ):
                done["closed"] += 1
    return done


def answer(
    routing_url: str, referral_id: str, department: str, provider: str | None, rng: random.Random
) -> int:
    key = f"dev-key-provider-{provider}" if provider else f"dev-key-{department}"
    roll = rng.random()
    if roll < 0.2:
        return 0  # not answered yet
    answers: list[dict[str, Any]]
    if roll < 0.4:
        answers = [{"status": "declined", "reason": rng.choice(DECLINES)}]
    elif roll < 0.7:
        answers = [{"status": "accepted"}]
    else:
        hires = {
            "summary": "Forløbet er afsluttet med ansættelser (demo-historik).",
            "wage_subsidy_hires": rng.randint(0, 3),
            "flex_jobs": rng.randint(0, 2),
            "work_placements": rng.randint(0, 2),
            "other_hires": rng.randint(0, 1),
        }
        answers = [{"status": "accepted"}, {"status": "completed", "outcome": hires}]
    given = 0
    with httpx.Client(base_url=routing_url, timeout=20, headers={"X-API-Key": key}) as system:
        for body in answers:
            response = system.post(f"/api/v1/referrals/{referral_id}/answer", json=body)
            if response.status_code != 200:
                say(f"  answer refused: {response.status_code} {response.text[:160]}")
                break
            given += 1
    return given


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--intake", default="http://127.0.0.1:8001")
    parser.add_argument("--routing", default="http://127.0.0.1:8002")
    parser.add_argument("--reporting", default="http://127.0.0.1:8005")
    parser.add_argument("--inquiries", type=int, default=36)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    run = uuid.uuid4().hex[:6]

    inquiries: list[Inquiry] = []
    for n in range(args.inquiries):
        if inquiries and rng.random() < 0.12:  # the same organisation comes back
            earlier = rng.choice(inquiries)
            inquiries.append(
                Inquiry(rng.choice(DOORS), earlier.organisation, earlier.stage, earlier.email,
                        rng.choice(NEEDS))
            )  # fmt: skip
            continue
        organisation, stage = ORGANISATIONS[n % len(ORGANISATIONS)]
        email = f"demo.{run}.{n}@example.dk"
        inquiries.append(Inquiry(rng.choice(DOORS), organisation, stage, email, rng.choice(NEEDS)))

    say(f"Sending {len(inquiries)} inquiries to intake at {args.intake} ...")
    staff = staff_client(args.intake, CONSULTANT)
    try:
        for inquiry in inquiries:
            send_inquiry(inquiry, args.intake, staff, rng)
            say(f"  {inquiry.reference}  {inquiry.door:<9}  {', '.join(inquiry.needs)}")
    finally:
        staff.close()
    say(f"Casework in routing at {args.routing} as {TEAM_LEAD} ...")
    routing = staff_client(args.routing, TEAM_LEAD)
    try:
        done = casework(inquiries, routing, args.routing, rng)
    finally:
        routing.close()
    say(
        f"Done: {len(inquiries)} inquiries, {done['first_contact']} first contacts, "
        f"{done['referrals']} referrals, {done['answers']} answers, {done['closed']} closings, "
        f"{done['outcomes']} social-value recordings, {done['rsv']} RSV checklists."
    )
    say(f"See the reports at {args.reporting}/rapporter (teamleder or ledelse / {PASSWORD}).")


if __name__ == "__main__":
    main()
