"""`make prove`: thousands of inquiries while every service, the broker and the store are
killed and restarted; then, from outside, whether anything was lost or took effect twice.

It starts a stack of its own (infrastructure instance var/prove-<n>b on ports + 100, its
own topic prefix, databases and consumer groups: `make up` is untouched), sends the load
through intake's public API, has the team lead refer some cases and the job centre answer,
carries out the chaos schedule, injects poison records, lets the SMTP server refuse mail
and the webhook receiver fail for a while, drains, reads everything back and prints each
check as held or fell short. See prove/README.md.

    uv run --frozen python prove/prove.py [--n 10000 --rate 12 --brokers 3 --short ...]

Exit status: 0 when every check held; 1 when one fell short; 2 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks
import poison as poison_tool
from chaos import Chaos, broker_outages, merged, schedule
from lag import LagWatch, WriteProbe, subscriptions
from observe import jsonl, read_all
from report import plot, summary, write_json
from stack import (
    ROOT,
    SERVICES,
    WEBHOOK_SECRET,
    Child,
    Infra,
    Service,
    free_port,
    service_env,
    subscriptions_file,
)
from workload import Consultants, Inquirers, Inquiry, Organisations, open_loop

DEAD_LETTER = "indgang.dead-letter.v1"


def log(message: str) -> None:
    print(f"[prove {time.strftime('%T')}] {message}", flush=True)


async def api_many(
    http: httpx.AsyncClient, path: str, params: list[dict[str, str]], concurrency: int = 12
) -> list[Any]:
    """GET path with each params, concurrently, retried on errors; the JSON answers."""
    limit = asyncio.Semaphore(concurrency)

    async def one(p: dict[str, str]) -> Any:
        async with limit:
            for _ in range(10):
                with contextlib.suppress(httpx.HTTPError):
                    response = await http.get(path, params=p)
                    if response.status_code == 200:
                        return response.json()
                await asyncio.sleep(1)
            return None

    return await asyncio.gather(*(one(p) for p in params))


async def commit() -> str:
    git = await asyncio.create_subprocess_exec(
        "git", "rev-parse", "--short", "HEAD", cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await git.communicate()
    return out.decode().strip()


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.out = Path(args.out) / f"{stamp}-{args.brokers}b"
        self.out.mkdir(parents=True, exist_ok=True)
        self.infra = Infra(args.brokers, self.out / "infra.log")
        self.prefix = f"prove-{int(time.time())}."
        self.db_prefix = f"prove_{int(time.time())}_"
        self.smtp_port, self.hook_port = free_port(), free_port()
        self.smtp_out, self.hook_out = self.out / "smtp.jsonl", self.out / "webhooks.jsonl"
        self.services: dict[str, Service] = {}
        self.children: list[Child] = []

    # ------------------------------------------------------------------ setup ---

    async def start(self, duration: float) -> None:
        log(f"infrastructure: {self.args.brokers} broker(s), store, in {self.infra.var}")
        await self.infra.arun("up")
        # The SMTP server refuses a share of mails in the middle of the load: switched on
        # and off by SIGUSR1 at 20 % and 60 % of it (`smtp_trouble`), not by its clock.
        smtp = Child(
            "flaky SMTP",
            [
                "prove/flaky_smtp.py",
                str(self.smtp_port),
                str(self.smtp_out),
                "--fail-rate",
                str(self.args.smtp_fail_rate),
                "--fail-from",
                "1e9",
                "--fail-until",
                "1e9",
                "--seed",
                str(self.args.seed),
            ],
            self.out / "smtp.log",
        )
        # Slow answers outlast the services' WEBHOOK_TIMEOUT_SECONDS (3 s here).
        hook = Child(
            "flaky webhook receiver",
            [
                "prove/flaky_webhook.py",
                str(self.hook_port),
                str(self.hook_out),
                "--secret",
                WEBHOOK_SECRET,
                "--fail-rate",
                str(self.args.webhook_fail_rate),
                "--slow-seconds",
                "5",
                "--seed",
                str(self.args.seed),
            ],
            self.out / "webhook.log",
        )
        self.smtp = smtp
        for child in (smtp, hook):
            await child.start()
            self.children.append(child)
        subs = subscriptions_file(
            self.out / "subscriptions.toml", f"http://127.0.0.1:{self.hook_port}/hooks/prove"
        )
        for name in SERVICES:
            env = service_env(
                name,
                bootstrap=self.infra.bootstrap,
                mongodb_uri=self.infra.mongodb_uri,
                prefix=self.prefix,
                db_prefix=self.db_prefix,
                smtp_port=self.smtp_port,
                subscriptions=subs,
                brokers=self.args.brokers,
            )
            self.services[name] = Service(name, env, self.out / f"{name}.log")
        s = self.services
        s["routing"].env["GUIDE_URL"] = s["guide"].url
        s["intake"].env["GUIDE_PUBLIC_URL"] = s["guide"].url + "/hjaelp"
        s["guide"].env["INTAKE_FORM_URL"] = s["intake"].url + "/"
        s["notifications"].env["ROUTING_PUBLIC_URL"] = s["routing"].url
        for service in s.values():
            service.start()
        ready = await asyncio.gather(*(x.ready(120) for x in s.values()))
        if not all(ready):
            bad = [x for x, ok in zip(s.values(), ready, strict=True) if not ok]
            raise RuntimeError("\n".join(f"{x.name} not ready:\n{x.tail()}" for x in bad))
        log("services ready")

    async def warm_up(self, consultants: Consultants) -> None:
        """One inquiry routed end to end before the clock starts (topics exist, groups joined)."""
        inquirers = Inquirers(self.services["intake"].url, self.rng)
        org = Organisations(self.rng, 0).next()
        inq = Inquiry(-1, str(uuid.uuid4()), org, 0)
        await inquirers.send(inq)
        await inquirers.close()
        if inq.inquiry_id is None:
            raise RuntimeError(f"warm-up inquiry not accepted: {inq.status}")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if await consultants.case_of(inq.inquiry_id):
                self.warm_up_inquiry = inq
                return
            await asyncio.sleep(1)
        raise RuntimeError(
            "warm-up inquiry not routed within 90 s:\n" + self.services["routing"].tail()
        )

    # ---------------------------------------------------------------- the run ---

    async def run(self) -> int:
        a = self.args
        duration = a.n / a.rate
        await self.start(duration)
        consultants = Consultants(self.services["routing"].url, self.rng)
        await self.warm_up(consultants)

        inquirers = Inquirers(self.services["intake"].url, self.rng)
        orgs = Organisations(self.rng, a.repeat)
        inquiries = [Inquiry(i, str(uuid.uuid4()), orgs.next(), 0) for i in range(a.n)]
        # The warm-up inquiry is as real as the others: the checks count it too.
        checked = [self.warm_up_inquiry, *inquiries]
        lag = LagWatch(self.infra.bootstrap, self.prefix)
        chaos = Chaos(self.infra, self.services)
        faults = schedule(self.rng, duration, a.brokers, a.kills_per_service, a.kill_store)
        stop_chaos, stop_lag, load_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
        referral_tasks: list[asyncio.Task[None]] = []

        async def restart(service: Service) -> None:
            service.start()

        async def send(inq: Inquiry) -> None:
            await inquirers.send(inq)
            if inq.inquiry_id and self.rng.random() < a.referral_share:
                referral_tasks.append(asyncio.create_task(refer(inq.inquiry_id)))

        async def refer(inquiry_id: str) -> None:
            await asyncio.sleep(2 + 3 * self.rng.random())
            case_id = None
            for _ in range(120):
                if case_id := await consultants.case_of(inquiry_id):
                    break
                await asyncio.sleep(1)
            if case_id is None:
                return  # the case-routed check will say the inquiry was not routed
            ref = await consultants.refer(case_id)
            if ref.created:
                await asyncio.sleep(1 + 2 * self.rng.random())
                await consultants.answer(ref)

        injected: list[Any] = []

        async def inject_poison() -> None:
            await asyncio.sleep(0.3 * duration)
            topics = sorted({self.prefix + t for ts in subscriptions().values() for t in ts})
            for attempt in range(30):
                try:
                    injected.extend(
                        await poison_tool.inject(self.infra.bootstrap, topics, a.poison)
                    )
                    log(f"injected {len(injected)} poison records into {len(topics)} topics")
                    return
                except Exception as exc:  # the broker may be down right now
                    log(f"poison injection failed ({type(exc).__name__}), retrying")
                    await asyncio.sleep(2 + attempt)

        log(f"load: {a.n} inquiries at {a.rate}/s (~{duration:.0f} s), {len(faults)} faults")
        t0_mono, t0 = time.monotonic(), time.time()
        lag_task = asyncio.create_task(lag.run(stop_lag))
        probe = WriteProbe(self.infra.bootstrap, self.prefix + "prove-probe", min(a.brokers, 3))
        probe_task = asyncio.create_task(probe.run(stop_lag))
        chaos_task = asyncio.create_task(chaos.run(faults, t0_mono, load_done))
        supervisor = asyncio.create_task(chaos.supervise(stop_chaos, restart))
        poison_task = asyncio.create_task(inject_poison())
        progress = asyncio.create_task(self._progress(inquiries, chaos, lag, load_done))
        smtp_trouble = asyncio.create_task(self._smtp_trouble(duration, chaos))
        await open_loop(inquiries, a.rate, send, asyncio.Event())
        load_s = time.monotonic() - t0_mono
        log(f"load sent in {load_s:.0f} s; waiting for the referrals and the last faults")
        await asyncio.gather(*referral_tasks)
        await poison_task
        await smtp_trouble
        load_done.set()
        await chaos_task  # restarts already under way finish
        drain_t0 = time.monotonic()
        records = await self._drain(checked, lag)
        drain_s = time.monotonic() - drain_t0
        stop_chaos.set()
        await supervisor
        await asyncio.sleep(2)  # one more lag sample after the drain
        stop_lag.set()
        await lag_task
        await probe_task
        progress.cancel()

        log("reading back: topics, SMTP, webhooks, routing's API, the dead-letter topic")
        records = await read_all(self.infra.bootstrap, self.prefix)
        smtp, hooks = jsonl(self.smtp_out), jsonl(self.hook_out)
        accepted = [i for i in checked if i.inquiry_id]
        by_inquiry = await api_many(
            consultants.staff,
            "/api/v1/cases",
            [{"inquiry_id": str(i.inquiry_id)} for i in accepted],
        )
        org_keys = sorted(
            {
                str(r.body["organisation_key"])
                for r in records
                if r.topic == checks.INQUIRY_RECEIVED and r.body and r.body.get("organisation_key")
            }
        )
        by_org = await api_many(
            consultants.staff,
            "/api/v1/cases",
            [{"organisation_key": k, "limit": "200"} for k in org_keys],
        )
        markers = [p.marker for p in injected]
        dead = await poison_tool.dead_letters(
            self.infra.bootstrap, [self.prefix + DEAD_LETTER], markers, wait=30
        )
        groups_of = {p.topic: poison_tool.expected_groups(p.topic) for p in injected}

        # When the cluster itself took no writes: measured by the probe, and (to be sure)
        # inferred from the faults.
        outages = merged(probe.outages() + broker_outages(chaos.moments, a.brokers))
        results = [
            checks.accepted(checked),
            checks.inquiry_received(accepted, records),
            checks.case_routed(accepted, records),
            checks.cases_by_api(
                accepted,
                records,
                {str(i.inquiry_id): c or [] for i, c in zip(accepted, by_inquiry, strict=True)},
            ),
            checks.open_cases(records, {k: c or [] for k, c in zip(org_keys, by_org, strict=True)}),
            checks.mails(records, smtp),
            checks.webhooks(records, hooks),
            checks.causal_order(records),
            checks.referrals(consultants.referrals, records),
            checks.poison(injected, dead, groups_of),
            checks.lag(
                *lag.longest_stall(outages),
                lag.final_lag(),
                lag.longest_stall()[0],
                sum(b - a_ for a_, b in outages),
            ),
        ]
        await consultants.close()
        await inquirers.close()
        meta = {
            "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(t0)),
            "commit": await commit(),
            "brokers": a.brokers,
            "sent": a.n,
            "rate": a.rate,
            "seed": a.seed,
            "organisations": len(orgs.known),
            "referrals": sum(r.answered for r in consultants.referrals),
            "load_s": load_s,
            "drain_s": drain_s,
            "poison": len(injected),
            "smtp_fail_rate": a.smtp_fail_rate,
            "webhook_fail_rate": a.webhook_fail_rate,
            "faults_planned": [f.__dict__ for f in faults],
            "chaos_errors": chaos.errors,
            "lag_sample_gaps": lag.gaps,
            "prefix": self.prefix,
            "out": str(self.out),
        }
        text = summary(meta, results, chaos.moments)
        (self.out / "summary.md").write_text(text)
        write_json(self.out / "report.json", meta, results, chaos.moments, lag.samples)
        plot(
            self.out / "prove.png",
            t0,
            [i.accepted_at for i in inquiries if i.accepted_at],
            records,
            lag.samples,
            chaos.moments,
            f"make prove, {a.n} inquiries at {a.rate}/s, {a.brokers} broker(s)",
        )
        print()
        print(text)
        print(f"report: {self.out}/report.json, summary.md, prove.png")
        return 0 if all(c.held for c in results) else 1

    async def _smtp_trouble(self, duration: float, chaos: Chaos) -> None:
        """The SMTP server refuses mails from 10 % of the load until 30 s after 60 % of it
        (the short run's load is over before its broker is back: mail must flow meanwhile)."""
        assert self.smtp.process is not None
        await asyncio.sleep(0.1 * duration)
        self.smtp.process.send_signal(signal.SIGUSR1)
        chaos.note("refusing", "smtp")
        await asyncio.sleep(0.5 * duration + 30)
        self.smtp.process.send_signal(signal.SIGUSR1)
        chaos.note("accepting", "smtp")

    async def _progress(
        self, inquiries: list[Inquiry], chaos: Chaos, lag: LagWatch, done: asyncio.Event
    ) -> None:
        while True:
            await asyncio.sleep(30)
            sent = sum(1 for i in inquiries if i.status)
            ok = sum(1 for i in inquiries if i.inquiry_id)
            kills = sum(1 for m in chaos.moments if m.what == "kill")
            total = sum(lag.final_lag().values())
            log(f"{sent} sent, {ok} accepted, {kills} kills so far, consumer lag {total}")

    async def _drain(self, inquiries: list[Inquiry], lag: LagWatch) -> list[Any]:
        """Until every accepted inquiry is routed, its mails are in, every webhook event
        was answered 2xx and no group has lag (for 10 s running), or --drain seconds pass."""
        deadline = time.monotonic() + self.args.drain
        ids = {str(i.inquiry_id) for i in inquiries if i.inquiry_id}
        calm_since: float | None = None
        records: list[Any] = []
        while time.monotonic() < deadline:
            await asyncio.sleep(5)
            for service in self.services.values():
                if not service.running():
                    service.start()  # the supervisor stops with the load; not the drain
            try:
                records = await read_all(self.infra.bootstrap, self.prefix)
            except Exception as exc:
                log(f"drain: reading back failed ({type(exc).__name__}); again")
                continue
            routed = {
                str(r.body["inquiry_id"])
                for r in records
                if r.topic == checks.CASE_ROUTED and r.body
            }
            wanted = checks.expected_mails(records)
            took = {
                str(m.get("message_id", "")).strip()
                for m in jsonl(self.smtp_out)
                if m.get("accepted", True)
            }
            lagging = sum(lag.final_lag().values())
            hooked = {
                str(h.get("event_id"))
                for h in jsonl(self.hook_out)
                if 200 <= int(h.get("status") or 0) < 300
            }
            webhook_events = {
                r.ce_id
                for r in records
                if r.topic in (checks.REFERRAL_MADE, checks.REFERRAL_UPDATED) and r.ce_id
            }
            left = (
                len(ids - routed),
                len(set(wanted) - took),
                lagging,
                len(webhook_events - hooked),
            )
            log(
                f"drain: {left[0]} not routed, {left[1]} mails missing, lag {left[2]}, "
                f"{left[3]} webhooks missing"
            )
            if left == (0, 0, 0, 0):
                calm_since = calm_since or time.monotonic()
                if time.monotonic() - calm_since >= 10:
                    return records
            else:
                calm_since = None
        log("drain: deadline passed; checking what there is")
        return records

    # --------------------------------------------------------------- teardown ---

    async def stop(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(s.stop) for s in self.services.values()))
        for child in self.children:
            await child.stop()
        if self.args.keep:
            log(f"kept: infrastructure {self.infra.var}, prefix {self.prefix}")
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._drop(), 60)
        with contextlib.suppress(subprocess.CalledProcessError):
            await self.infra.arun("down")

    async def _drop(self) -> None:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.infra.mongodb_uri)
        try:
            for name in await client.list_database_names():
                if name.startswith(self.db_prefix):
                    await client.drop_database(name)
        finally:
            await client.close()
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.infra.bootstrap, request_timeout_ms=30000
        )
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if t.startswith(self.prefix)]
            if topics:
                await admin.delete_topics(topics)
        finally:
            await admin.close()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    env = os.environ.get
    p.add_argument("--n", type=int, default=int(env("N", "10000")), help="inquiries (env N)")
    p.add_argument(
        "--rate", type=float, default=float(env("RATE", "12")), help="per second (env RATE)"
    )
    p.add_argument("--brokers", type=int, choices=(1, 3), default=int(env("KAFKA_BROKERS", "1")))
    p.add_argument("--kills-per-service", type=int, default=3)
    p.add_argument("--no-store-kill", dest="kill_store", action="store_false")
    p.add_argument("--poison", type=int, default=50, help="poison records per consumed topic")
    p.add_argument(
        "--repeat", type=float, default=0.25, help="share of inquiries from a known organisation"
    )
    p.add_argument("--referral-share", type=float, default=0.03)
    p.add_argument("--smtp-fail-rate", type=float, default=0.2)
    p.add_argument("--webhook-fail-rate", type=float, default=0.3)
    p.add_argument("--drain", type=float, default=600, help="seconds to wait after the load")
    p.add_argument("--seed", type=int, default=int(env("SEED", str(int(time.time())))))
    p.add_argument("--out", default=str(ROOT / "var" / "prove"))
    p.add_argument("--keep", action="store_true", help="leave the stack's data and infrastructure")
    p.add_argument(
        "--short",
        action="store_true",
        help="the CI variant: 300 inquiries at 10/s, one kill per service, one broker "
        "restart, no store kill, 10 poison records per topic",
    )
    args = p.parse_args(argv)
    if args.short:
        args.n, args.rate, args.kills_per_service, args.kill_store = 300, 10.0, 1, False
        args.poison, args.drain, args.referral_share = 10, 240, 0.05
    return args


async def main_async(args: argparse.Namespace) -> int:
    run = Run(args)
    try:
        return await run.run()
    except Exception as exc:
        log(f"could not run: {type(exc).__name__}: {exc}")
        return 2
    finally:
        await run.stop()


def main(argv: list[str] | None = None) -> int:
    # aiokafka logs every refused connection while a broker is down on purpose.
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    return asyncio.run(main_async(parse(argv)))


if __name__ == "__main__":
    sys.exit(main())
