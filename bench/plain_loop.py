"""The baseline: a plain aiokafka consume→produce loop on the same broker, in a process of
its own (as each service has one), fed at the same rates as the system.

It does the Kafka part of what routing does and nothing else: consume in a consumer
group, one record at a time produce it (acks=all, idempotent, as the services publish)
and then commit. `python bench/plain_loop.py IN OUT GROUP BOOTSTRAP` is the worker.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from load import Sample, inquiry, now
from observe import Watch
from resources import Part

PARTITIONS = 6  # as the services' event topics
DURABLE: dict[str, Any] = {"acks": "all", "enable_idempotence": True}


class PlainLoop:
    """Topics `<prefix>bench-loop.in/out`, the worker, a producer and a watch on the output."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.source, self.sink = f"{prefix}bench-loop.in", f"{prefix}bench-loop.out"
        self.group = f"{prefix}bench-loop"
        self.watch = Watch(bootstrap, self.sink)
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **DURABLE)
        self.worker: asyncio.subprocess.Process | None = None
        self.body = json.dumps(inquiry(0))

    @property
    def part(self) -> Part | None:
        return Part("plain loop", (self.worker.pid,)) if self.worker else None

    async def start(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10000)
        await admin.start()
        try:
            await admin.create_topics(
                [NewTopic(t, PARTITIONS, 1) for t in (self.source, self.sink)]
            )
        finally:
            await admin.close()
        self.worker = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__)), self.source, self.sink, self.group,
            self.bootstrap, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.worker.stdout is not None
        if await asyncio.wait_for(self.worker.stdout.readline(), 60) != b"ready\n":
            raise RuntimeError("plain loop worker did not get its partitions")
        await self.watch.start(PARTITIONS)  # after the join: the new topics have leaders now
        await self.producer.start()

    async def send(self, n: int, sample: Sample) -> None:
        key = str(uuid.uuid4())
        value = f'{{"inquiry_id": "{key}", "inquiry": {self.body}}}'.encode()
        await self.producer.send_and_wait(self.source, value=value, key=key.encode())
        sample.accepted, sample.key = now(), key

    async def stop(self) -> None:
        await self.producer.stop()
        await self.watch.stop()
        if self.worker is not None and self.worker.returncode is None:
            self.worker.terminate()
            await self.worker.wait()


async def worker(source: str, sink: str, group: str, bootstrap: str) -> None:
    # The services' consumer settings: a group, manual commits, start at the beginning.
    options = {"group_id": group, "enable_auto_commit": False, "auto_offset_reset": "earliest"}
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, **options)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **DURABLE)
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await consumer.start()
    await producer.start()
    try:
        while not consumer.assignment():  # joins the group before the feeder starts
            await consumer.getmany(timeout_ms=100)
        print("ready", flush=True)
        while True:
            for tp, records in (await consumer.getmany(timeout_ms=100)).items():
                for record in records:
                    await producer.send_and_wait(sink, value=record.value, key=record.key)
                    await consumer.commit({tp: record.offset + 1})
    except asyncio.CancelledError:
        pass
    finally:
        await producer.stop()
        await consumer.stop()  # leaves the group cleanly


if __name__ == "__main__":
    asyncio.run(worker(*sys.argv[1:5]))
