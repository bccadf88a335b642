"""``accord ingest`` lands a file once, and only with steps that can happen (issue #12's trial)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app
from accord.ledger import Ledger
from helpers.service_world import booking, detainer

runner = CliRunner()


def _jsonl(path: Path, rows: list[tuple[str, object]]) -> Path:
    path.write_text("".join(json.dumps({"kind": k, "payload": json.loads(m.model_dump_json())}) + "\n" for k, m in rows))
    return path


def _ingest(path: Path, db: str, *extra: str):
    return runner.invoke(app, ["ingest", str(path), "--db", db, *extra])


def test_the_same_file_twice_is_a_no_op_that_says_so(tmp_path: Path, db_url: str) -> None:
    record, _ = booking(1)
    src = _jsonl(tmp_path / "b.jsonl", [("custody.booked", record), ("detainer.received", detainer(1))])
    first = _ingest(src, db_url, "--json")
    assert first.exit_code == 0, first.output
    again = _ingest(src, db_url)
    assert again.exit_code == 0 and "already ingested" in again.output and "nothing recorded" in again.output
    as_json = json.loads(_ingest(src, db_url, "--json").stdout)
    assert as_json["already_ingested"] is True and as_json["events"] == 0
    assert (as_json["first_seq"], as_json["last_seq"]) == (1, 2)
    with Ledger.open(db_url) as led:
        assert led.size == 2


def test_records_whose_ids_are_already_in_the_ledger_are_refused_by_line(tmp_path: Path, db_url: str) -> None:
    record, _ = booking(1)
    assert _ingest(_jsonl(tmp_path / "a.jsonl", [("custody.booked", record)]), db_url).exit_code == 0
    other, _ = booking(2)
    res = _ingest(_jsonl(tmp_path / "b.jsonl", [("custody.booked", other), ("custody.booked", record),
                                                  ("custody.booked", other)]), db_url)
    assert res.exit_code == 2
    assert "b.jsonl:2: field 'payload.booking_id': bk-1 is already in the ledger (event 1)" in res.output
    assert "b.jsonl:3: field 'payload.booking_id': bk-2 was already given earlier in this file" in res.output
    with Ledger.open(db_url) as led:
        assert led.size == 1  # nothing of b.jsonl, not even its good first row


def test_events_that_cannot_happen_are_refused_by_line(tmp_path: Path, db_url: str) -> None:
    from accord.domain import DetainerLifted, NoticeSent, Release

    from helpers.service_world import at, model

    release = model(Release, {"booking_id": "bk-9", "person_id": "p-9", "released_at": at(1).isoformat(),
                              "reason": "bail_posted"})
    sent = model(NoticeSent, {"notice_id": "N-404", "sent_at": at(2).isoformat()})
    lifted = model(DetainerLifted, {"request_id": "det-404", "lifted_at": at(3).isoformat()})
    res = _ingest(_jsonl(tmp_path / "bad.jsonl", [("custody.released", release), ("notice.sent", sent),
                                                    ("detainer.lifted", lifted)]), db_url)
    assert res.exit_code == 2, res.output
    assert "bad.jsonl:1: field 'payload.booking_id': no booking bk-9 is recorded" in res.output
    assert "bad.jsonl:2: field 'payload.notice_id': no notice N-404 is owed" in res.output
    assert "bad.jsonl:3: field 'payload.request_id': no detainer det-404 is recorded" in res.output


def test_a_whole_life_in_one_file_is_accepted_and_a_second_release_is_not(tmp_path: Path, db_url: str) -> None:
    from accord.domain import Release

    from helpers.service_world import at, model

    record, person = booking(3)
    release = model(Release, {"booking_id": "bk-3", "person_id": "p-3", "released_at": at(200).isoformat(),
                              "reason": "bail_posted"})
    ok = _ingest(_jsonl(tmp_path / "life.jsonl", [("person.registered", person), ("custody.booked", record),
                                                   ("detainer.received", detainer(3)), ("custody.released", release)]),
                 db_url)
    assert ok.exit_code == 0, ok.output
    twice = _ingest(_jsonl(tmp_path / "again.jsonl", [("custody.released", release)]), db_url)
    assert twice.exit_code == 2 and "again.jsonl:1: field 'payload.booking_id': booking bk-3 is already released" in twice.output
    early = model(Release, {"booking_id": "bk-4", "person_id": "p-4", "released_at": "2020-01-01T00:00:00Z",
                            "reason": "bail_posted"})
    res = _ingest(_jsonl(tmp_path / "early.jsonl", [("custody.booked", booking(4)[0]), ("custody.released", early)]), db_url)
    assert res.exit_code == 2 and "early.jsonl:2: field 'payload.released_at': is before the booking" in res.output


def _hold_notice(n: int, hours: int):
    from accord.domain import Notice

    from helpers.service_world import at, model

    return model(Notice, {"notice_id": f"N-hold-{n}", "kind": "hold_expiry", "recipient": "custodian",
                          "about_request_id": f"det-{n}", "due_by": at(hours).isoformat(),
                          "citation": "8 C.F.R. § 287.7(d)"})


def test_a_notice_that_a_release_discharged_cannot_be_ingested_as_sent(tmp_path: Path, db_url: str) -> None:
    """As ``mark_sent`` refuses it (409): a release closed the detainer, so its hold-expiry notice is no
    longer owed, whether the release is in the same file as the sending or was ingested before."""
    from accord.domain import NoticeSent, Release

    from helpers.service_world import at, model

    def release(n: int):
        return model(Release, {"booking_id": f"bk-{n}", "person_id": f"p-{n}", "released_at": at(100).isoformat(),
                               "reason": "bail_posted"})

    def sent(n: int):
        return model(NoticeSent, {"notice_id": f"N-hold-{n}", "sent_at": at(101).isoformat()})

    def life(n: int):
        record, person = booking(n)
        return [("person.registered", person), ("custody.booked", record), ("detainer.received", detainer(n)),
                ("notice.due", _hold_notice(n, 48))]

    same = _ingest(_jsonl(tmp_path / "same.jsonl", [*life(5), ("custody.released", release(5)),
                                                     ("notice.sent", sent(5))]), db_url)
    assert same.exit_code == 2, same.output
    assert "same.jsonl:6: field 'payload.notice_id': notice N-hold-5 is no longer owed" in same.output
    with Ledger.open(db_url) as led:
        assert led.size == 0  # the file landed not at all

    # sent before the release: owed then, so it is recorded
    before = _ingest(_jsonl(tmp_path / "before.jsonl", [*life(6), ("notice.sent", sent(6)),
                                                         ("custody.released", release(6))]), db_url)
    assert before.exit_code == 0, before.output

    # released in one file, "sent" in the next: the read model says discharged
    assert _ingest(_jsonl(tmp_path / "first.jsonl", [*life(7), ("custody.released", release(7))]), db_url).exit_code == 0
    later = _ingest(_jsonl(tmp_path / "later.jsonl", [("notice.sent", sent(7))]), db_url)
    assert later.exit_code == 2 and "later.jsonl:1: field 'payload.notice_id': notice N-hold-7 is no longer owed" in later.output
    with Ledger.open(db_url) as led:
        assert [e.kind for e in led.events(stream="notice/N-hold-7")] == ["notice.due"]

    # a notice owed to the person is not discharged by the release: sent after it, it is recorded
    from accord.domain import Notice

    subject = model(Notice, {"notice_id": "N-copy-8", "kind": "subject_detainer_copy", "recipient": "subject",
                             "about_request_id": "det-8", "due_by": at(120).isoformat(), "citation": "Cal. Gov. Code § 7283.1(b)"})
    copy_sent = model(NoticeSent, {"notice_id": "N-copy-8", "sent_at": at(101).isoformat()})
    kept = _ingest(_jsonl(tmp_path / "kept.jsonl", [*life(8), ("notice.due", subject), ("custody.released", release(8)),
                                                     ("notice.sent", copy_sent)]), db_url)
    assert kept.exit_code == 0, kept.output
