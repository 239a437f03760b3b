"""The summaries the driver may take from the receivers' JSON lines."""

from __future__ import annotations

from pathlib import Path

from records import JsonLines, mail_summary, read_jsonl, webhook_summary


def test_lines_written_are_read_back_at_once(tmp_path: Path) -> None:
    out = JsonLines(tmp_path / "deep" / "out.jsonl")
    out.write({"message_id": "<a@indgang>", "subject": "Åse"})
    assert read_jsonl(tmp_path / "deep" / "out.jsonl") == [
        {"message_id": "<a@indgang>", "subject": "Åse"}
    ]
    out.close()


def test_mail_summary_counts_retries_duplicates_and_never_taken() -> None:
    lines = [
        {"message_id": "<a@indgang>", "accepted": False},
        {"message_id": "<a@indgang>", "accepted": True},
        {"message_id": "<b@indgang>", "accepted": True},
        {"message_id": "<b@indgang>", "accepted": True},
        {"message_id": "<c@indgang>", "accepted": False},
    ]
    summary = mail_summary(lines)
    assert summary.attempts == 5
    assert summary.duplicates == {"<b@indgang>": 2}
    assert summary.never_taken == {"<c@indgang>"}


def test_webhook_summary_counts_a_slow_answer_as_not_taken() -> None:
    lines = [
        {"delivery_id": "d1", "status": 204, "slow": True},
        {"delivery_id": "d1", "status": 204, "slow": False},
        {"delivery_id": "d2", "status": 500, "slow": False},
        {"delivery_id": "d3", "status": 401, "slow": False},
    ]
    summary = webhook_summary(lines)
    assert summary.accepted == {"d1": 1}
    assert summary.refused == {"d1": 1, "d2": 1, "d3": 1}
    assert summary.never_taken == {"d2", "d3"}
