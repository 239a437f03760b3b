"""The same state machine as test_case_machine.py, now through routing's use cases on the
real store (FerretDB or MongoDB): what the store holds after every step.

Rules: inquiries arrive (and are redelivered), the team lead and consultants
act on cases, move cases, register absences and remove consultants. After
every step, read back from the store:

- every case document has exactly one consultant; an open case's is on the team;
- an organisation has at most one open case, and it holds the organisation's slot;
- every inquiry is on exactly one case, once;
- the timeline names exactly the events in the case's outbox (it is built from them);
- the top-level copies the hot paths query agree with what they copy
  (`consultant_id`, `overdue_watch`, `closed_month`);
- every consultant's load counter is exactly their number of open cases (the
  machine's actions never crash between a case write and its bookkeeping, and a
  redelivered inquiry must not count its case again); a lost load change (a crash)
  is put right by the reconciliation, which finds nothing to correct otherwise;
- every organisation's document names its latest consultant: that of its open
  case, or, with none open, the one it named when its last case was closed
  (nothing but an open case can get a new owner).

Settings: 20 examples of up to 30 steps (deadline off: each step is several
store round trips, and each example builds a database with its indexes). On an
idle PostgreSQL-backed store 30 x 30 takes about 20 s, but it ran past the
300 s timeout on the shared store during a whole `make test`; 20 x 30 keeps
the depth of a run and leaves room. Default seed, example database on. Each
example has a database of its own and its own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import Coroutine
from datetime import date
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pymongo import AsyncMongoClient

from indgang_contracts.events import ContactChannel, InquiryReceived, Need
from indgang_contracts.examples import INQUIRY_RECEIVED
from indgang_routing.app import create_app
from indgang_routing.domain.actors import Actor
from indgang_routing.domain.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from indgang_routing.domain.lifecycle import CaseAction
from indgang_routing.handlers.loads import Loads
from indgang_routing.settings import RoutingSettings
from indgang_routing.web.console import Console

T = TypeVar("T")
MONGODB_URI = RoutingSettings(mongodb_database="x").mongodb_uri
LEAD = Actor(id="teamleder", name="Tove Leth", consultant_id=None, team_lead=True)
ORGANISATIONS = ("cvr:11111111", "cvr:22222222", "email:a@kaffe.example")
CONSULTANTS = ("ane-kjaer", "bjarne-holm", "camilla-dahl")
OPEN = ("assigned", "in_progress", "waiting")


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.database = f"t_machine_{uuid.uuid4().hex[:10]}"
        self.app = create_app(
            RoutingSettings(mongodb_database=self.database, guide_url="http://127.0.0.1:9")
        )
        self.use: Console = self.app.state.console
        for hook in self.app.state.runtime.on_startup:
            self.run(hook())
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URI, tz_aware=True)
        self.cases = self.client[self.database]["cases"]
        self.consultants = self.client[self.database]["consultants"]
        self.organisations = self.client[self.database]["organisations"]
        self.sent: list[InquiryReceived] = []
        self.latest: dict[str, str] = {}  # organisation → its latest consultant (the model)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def teardown(self) -> None:
        self.run(self.client.drop_database(self.database))
        self.run(self.client.close())
        self.run(self.app.state.runtime.client.close())
        self.loop.close()

    def docs(self) -> list[dict[str, Any]]:
        return self.run(self.cases.find({}).to_list())

    # --- rules ---------------------------------------------------------------------

    @rule(
        organisation=st.sampled_from(ORGANISATIONS),
        needs=st.lists(st.sampled_from(list(Need)), min_size=1, max_size=3, unique=True),
    )
    def inquiry_arrives(self, organisation: str, needs: list[Need]) -> None:
        data = INQUIRY_RECEIVED.model_dump(mode="json")
        data.update(
            {
                # Ids from a counter: the same steps give the same cases (Hypothesis replays).
                "inquiry_id": str(uuid.UUID(int=len(self.sent) + 1)),
                "reference": f"H-M{len(self.sent):07}",
                "organisation_key": organisation,
                "needs": [n.value for n in needs],
            }
        )
        inquiry = InquiryReceived.model_validate(data)
        self.sent.append(inquiry)
        self.run(self.use.routing.route_inquiry(inquiry))

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def inquiry_is_redelivered(self, data: st.DataObject) -> None:
        inquiry = data.draw(st.sampled_from(self.sent))
        before = self.run(self.cases.find_one({"inquiry_ids": inquiry.inquiry_id}))
        assert before is not None
        assert self.run(self.use.routing.route_inquiry(inquiry)) == before["_id"]
        after = self.run(self.cases.find_one({"_id": before["_id"]}))
        assert after is not None
        assert after["outbox_pending"] == before["outbox_pending"]  # nothing published again

    def case_ids(self, *statuses: str) -> list[str]:
        return sorted(d["_id"] for d in self.docs() if not statuses or d["status"] in statuses)

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), action=st.sampled_from(list(CaseAction)))
    def someone_acts(self, data: st.DataObject, action: CaseAction) -> None:
        self.act(data.draw(st.sampled_from(self.case_ids())), action)

    @precondition(lambda self: self.sent and self.case_ids(*OPEN))
    @rule(data=st.data())
    def someone_closes_an_open_case(self, data: st.DataObject) -> None:
        self.act(data.draw(st.sampled_from(self.case_ids(*OPEN))), CaseAction.CLOSE)

    @precondition(lambda self: self.sent and self.case_ids("closed"))
    @rule(data=st.data())
    def someone_reopens_a_closed_case(self, data: st.DataObject) -> None:
        self.act(data.draw(st.sampled_from(self.case_ids("closed"))), CaseAction.REOPEN)

    def act(self, case_id: str, action: CaseAction) -> None:
        before = self.run(self.cases.find_one({"_id": case_id}))
        assert before is not None
        casework = self.use.casework
        today = self.use.ctx.local_day(self.use.ctx.now())
        work = {
            CaseAction.LOG_FIRST_CONTACT: lambda: casework.log_first_contact(
                case_id, LEAD, ContactChannel.PHONE, today
            ),
            CaseAction.WAIT: lambda: casework.wait(case_id, LEAD),
            CaseAction.RESUME: lambda: casework.resume(case_id, LEAD),
            CaseAction.CLOSE: lambda: casework.close(case_id, LEAD, "Udfald."),
            CaseAction.REOPEN: lambda: casework.reopen(case_id, LEAD),
        }[action]
        try:
            self.run(work())
        except (InvalidTransition, Conflict):
            after = self.run(self.cases.find_one({"_id": case_id}))
            assert after is not None
            assert after["status"] == before["status"]  # a refusal changes nothing
            assert after["outbox_pending"] == before["outbox_pending"]

    @precondition(lambda self: self.sent)
    @rule(data=st.data(), to=st.sampled_from(CONSULTANTS))
    def team_lead_moves_a_case(self, data: st.DataObject, to: str) -> None:
        case_id = data.draw(st.sampled_from(self.case_ids()))
        with contextlib.suppress(Conflict, NotFound):  # closed, already theirs, or left
            self.run(self.use.routing.reassign(case_id, to, LEAD))

    @rule(who=st.sampled_from(CONSULTANTS))
    def team_lead_registers_an_absence(self, who: str) -> None:
        today = self.use.ctx.local_day(self.use.ctx.now())
        with contextlib.suppress(NotFound):  # they left
            self.run(self.use.team_admin.add_absence(who, today, date(today.year + 1, 1, 1)))

    @rule(who=st.sampled_from(CONSULTANTS), to=st.sampled_from([None, *CONSULTANTS]))
    def team_lead_removes_a_consultant(self, who: str, to: str | None) -> None:
        # Refused when not on the team, the last one, or moving to someone who left.
        with contextlib.suppress(NotFound, Conflict, InvalidInput):
            self.run(self.use.team_admin.remove(who, to, LEAD))

    @rule(who=st.sampled_from(CONSULTANTS), lost=st.sampled_from([-1, 1]))
    def a_crash_loses_a_load_change_and_the_reconciliation_repairs_it(
        self, who: str, lost: int
    ) -> None:
        self.run(self.consultants.update_one({"_id": who}, {"$inc": {"open_cases": lost}}))
        assert self.run(Loads(self.use.ctx).reconcile()) == 1

    @rule()
    def the_reconciliation_finds_nothing_to_correct(self) -> None:
        assert self.run(Loads(self.use.ctx).reconcile()) == 0

    # --- invariants ----------------------------------------------------------------

    @invariant()
    def the_store_keeps_the_promises(self) -> None:
        # One read of each collection per step: the checks below share them.
        docs = self.docs()
        self.check_cases(docs)
        self.check_loads(docs)
        self.check_organisations(docs)

    def check_cases(self, docs: list[dict[str, Any]]) -> None:
        team = self.run(self.use.ctx.team.load())
        for doc in docs:
            owner = doc["consultant"]
            assert isinstance(owner, dict)
            assert owner["id"]
            if doc["status"] in OPEN:
                assert team.get(owner["id"]) is not None, "an open case's owner left"
                assert doc["open_slot"] == doc["organisation_key"]
            else:
                assert doc["open_slot"] == f"closed:{doc['_id']}"
            outbox_ids = [e["id"] for e in doc["outbox"]]
            assert [e["event_id"] for e in doc["timeline"]] == outbox_ids
            assert doc["consultant_id"] == owner["id"]
            awaiting = doc["status"] == "assigned" and doc.get("overdue_reported_at") is None
            assert doc["overdue_watch"] == (doc["first_contact_due"] if awaiting else False)
            assert (doc.get("closed_month") is not None) is (doc["status"] == "closed")
        open_per_organisation = Counter(d["organisation_key"] for d in docs if d["status"] in OPEN)
        assert all(n == 1 for n in open_per_organisation.values())
        placed = Counter(i for d in docs for i in d["inquiry_ids"])
        assert set(placed) == {i.inquiry_id for i in self.sent}
        assert all(n == 1 for n in placed.values())

    def check_loads(self, docs: list[dict[str, Any]]) -> None:
        """Every member's (and former member's) counter is their number of open cases."""
        recorded = {
            m["_id"]: m["open_cases"] for m in self.run(self.consultants.find({}).to_list())
        }
        actual = Counter(d["consultant"]["id"] for d in docs if d["status"] in OPEN)
        assert set(recorded) == set(CONSULTANTS)
        assert recorded == {c: actual[c] for c in CONSULTANTS}

    def check_organisations(self, docs: list[dict[str, Any]]) -> None:
        """The model: an open case's owner is its organisation's latest consultant; only an
        open case can get an owner, so an organisation without one keeps its last."""
        for doc in docs:
            if doc["status"] in OPEN:
                self.latest[doc["organisation_key"]] = doc["consultant"]["id"]
        stored = {
            o["_id"]: o["consultant_id"] for o in self.run(self.organisations.find({}).to_list())
        }
        assert stored == self.latest


StoreMachine.TestCase.settings = settings(max_examples=20, stateful_step_count=30, deadline=None)
TestStoreMachine = StoreMachine.TestCase
