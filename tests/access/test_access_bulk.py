"""Bulk audited decisions: forked deciders, one writer, the same ledger as deciding one chunk at a time."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.service.access_events import record_decisions
from accord.service.bulk_access import audit_requests
from accord.access.gateway import Gateway
from accord.access.model import AccessRequest
from accord.cli import app
from accord.errors import InputError, NotFoundError
from accord.ledger import Ledger

ICE = {"agency_id": "ice-ero", "name": "ICE ERO", "kind": "immigration_enforcement", "jurisdiction": "US",
       "primarily_enforces_immigration": True}
PD = {"agency_id": "nypd", "name": "NYPD", "kind": "police", "jurisdiction": "US-NY-NYC",
      "certifications": [{"kind": "ny_vtl_201_12_b_no_immigration_use", "signed_on": "2020-01-10"}]}
MA_ICE = {**ICE, "agency_id": "ice-boston"}
START = datetime(2019, 11, 1, 9, tzinfo=timezone.utc)


def _doc(i: int, custodian: str = "ny-dmv") -> dict:
    agency = (ICE, PD)[i % 2] if custodian == "ny-dmv" else MA_ICE
    req = {"request_id": f"R-{custodian}-{i}", "requester_agency_id": agency["agency_id"],
           "custodian_agency_id": custodian, "record_kind": ("dmv_standard_license", "dmv_photo")[i % 3 == 0],
           "purpose": ("criminal_immigration_enforcement", "criminal_investigation")[i % 2],
           "subject_person_id": f"person-{i}", "requested_at": (START + timedelta(days=3 * (i % 2000), minutes=i // 2000)).isoformat()}
    if i % 5 == 0:
        req["legal_process"] = {"kind": "judicial_warrant", "judge_kind": "article_iii"}
    return {"request": req, "requester": agency}


def _reqs(n: int, custodian: str = "ny-dmv") -> list[AccessRequest]:
    return [AccessRequest.model_validate_json(json.dumps(_doc(i, custodian))) for i in range(n)]


def _content(led: Ledger) -> list[tuple]:
    """Everything an event says but the moment it was written."""
    return [(e.seq, e.stream, e.stream_seq, e.kind, e.caused_by, e.payload_json) for e in led.events()]


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_bulk_writes_what_recording_chunk_by_chunk_writes(db_url: str, sqlite_url: str, workers: int) -> None:
    reqs = _reqs(95)
    gw = Gateway("ny_dmv")
    with Ledger.open(sqlite_url.replace("accord.db", "reference.db")) as ref:
        for s in range(0, len(reqs), 20):
            chunk = reqs[s:s + 20]
            record_decisions(ref, list(zip(chunk, gw.check_many(chunk))))
        expected = _content(ref)
    done: list[int] = []
    with Ledger.open(db_url) as led:
        result = audit_requests(led, reqs, workers=workers, chunk=20, on_chunk=done.append)
        assert _content(led) == expected
        assert led.verify().ok
    assert done == [20, 20, 20, 20, 15]
    assert result.workers == workers and result.recorded == 95 and result.skipped == ()
    assert (result.first_seq, result.last_seq, result.events) == (1, len(expected), len(expected))
    decided = [json.loads(c[5]) for c in expected if c[3] == "access.decided"]
    assert result.allowed == sum(d["outcome"] == "allow" for d in decided) > 0
    assert result.denied == sum(d["outcome"] == "deny" for d in decided) > 0
    assert result.notices == sum(c[3] == "notice.due" for c in expected) > 0


def test_each_custodians_requests_are_decided_by_its_own_pack(sqlite_url: str) -> None:
    reqs = [r for pair in zip(_reqs(6), _reqs(6, "ma-rmv")) for r in pair]
    with Ledger.open(sqlite_url) as led:
        audit_requests(led, reqs, workers=2, chunk=4)
        packs = {e.payload["request_id"]: e.payload["pack"] for e in led.events(kind="access.decided")}
    assert {p for r, p in packs.items() if "ny-dmv" in r} == {"ny_dmv"}
    assert {p for r, p in packs.items() if "ma-rmv" in r} == {"ma_rmv"}
    assert list(packs) == [r.request.request_id for r in reqs]  # input order, whoever decided them


def test_a_rerun_skips_requests_already_recorded(db_url: str) -> None:
    reqs = _reqs(30)
    with Ledger.open(db_url) as led:
        audit_requests(led, reqs[:12], workers=0, chunk=5)
        size = led.size
        again = audit_requests(led, reqs, workers=2, chunk=5)
        assert again.skipped == tuple(r.request.request_id for r in reqs[:12])
        assert again.recorded == 18 and again.first_seq == size + 1
        requested = [e.payload["request_id"] for e in led.events(kind="record.requested")]
        assert requested == [r.request.request_id for r in reqs]  # each once
        assert audit_requests(led, reqs).recorded == 0 and led.size == again.last_seq


def test_a_request_id_given_twice_is_refused_before_anything_is_written(sqlite_url: str) -> None:
    reqs = _reqs(5)
    with Ledger.open(sqlite_url) as led:
        with pytest.raises(InputError) as err:
            audit_requests(led, [*reqs, reqs[1]], workers=2, chunk=2)
        assert err.value.line == 6 and err.value.field == "request.request_id" and "at request:2" in str(err.value)
        assert led.size == 0


def test_a_custodian_without_a_pack_is_named(sqlite_url: str) -> None:
    reqs = _reqs(3) + _reqs(1, "tx-dps")
    with Ledger.open(sqlite_url) as led:
        with pytest.raises(InputError) as err:
            audit_requests(led, reqs)
        assert err.value.line == 4 and err.value.field == "request.custodian_agency_id"
        assert led.size == 0


def test_a_failing_chunk_keeps_the_chunks_before_it_and_a_rerun_finishes(sqlite_url: str, monkeypatch) -> None:
    reqs = _reqs(40)
    real = Gateway.check_many

    def broken(self, areqs, as_of=None):
        if any(a.request.request_id == "R-ny-dmv-23" for a in areqs):
            raise RuntimeError("decider crashed")
        return real(self, areqs, as_of)

    with Ledger.open(sqlite_url) as led:
        monkeypatch.setattr(Gateway, "check_many", broken)  # the forked workers inherit it
        with pytest.raises(RuntimeError, match="decider crashed"):
            audit_requests(led, reqs, workers=2, chunk=10)
        requested = [e.payload["request_id"] for e in led.events(kind="record.requested")]
        assert requested == [r.request.request_id for r in reqs[:20]]  # chunks 1-2 committed, none after
        decided = [e.payload["request_id"] for e in led.events(kind="access.decided")]
        assert decided == requested  # never a request without its decision
        monkeypatch.setattr(Gateway, "check_many", real)
        rest = audit_requests(led, reqs, workers=2, chunk=10)
        assert rest.recorded == 20 and len(rest.skipped) == 20
        assert led.verify().ok


def test_bad_arguments_are_named(sqlite_url: str) -> None:
    with Ledger.open(sqlite_url) as led:
        with pytest.raises(InputError, match="chunk"):
            audit_requests(led, _reqs(2), chunk=0)
        with pytest.raises(InputError, match="workers"):
            audit_requests(led, _reqs(2), workers=-1)


def _write_jsonl(path: Path, docs: list) -> Path:
    path.write_text("".join((d if isinstance(d, str) else json.dumps(d)) + "\n" for d in docs))
    return path


def test_cli_check_batch_records_a_file_and_names_every_bad_line(tmp_path: Path, db_url: str) -> None:
    runner = CliRunner()
    good = _write_jsonl(tmp_path / "reqs.jsonl", [_doc(i) for i in range(25)])
    res = runner.invoke(app, ["access", "check-batch", str(good), "--db", db_url, "--chunk", "10", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["recorded"] == 25 and summary["allowed"] + summary["denied"] == 25
    assert summary["notices"] > 0 and summary["skipped"] == 0
    res = runner.invoke(app, ["access", "check-batch", str(good), "--db", db_url, "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["skipped"] == 25

    bad_kind = _doc(30)
    bad_kind["request"]["record_kind"] = "dmv_everything"
    no_requester = _doc(31)
    del no_requester["requester"]
    bad = _write_jsonl(tmp_path / "bad.jsonl", [_doc(40), bad_kind, "{not json", no_requester])
    with Ledger.open(db_url) as led:
        before = led.size
    res = runner.invoke(app, ["access", "check-batch", str(bad), "--db", db_url])
    assert res.exit_code == 2, res.output
    assert "bad.jsonl:2: field 'request.record_kind'" in res.output
    assert "bad.jsonl:3" in res.output and "bad.jsonl:4: field 'requester'" in res.output
    assert "nothing was written" in res.output and "Traceback" not in res.output
    with Ledger.open(db_url) as led:
        assert led.size == before


def test_ctrl_c_keeps_whole_chunks_and_says_how_to_finish(tmp_path: Path) -> None:
    """A real interrupt of the real command: no worker left behind, the ledger whole, a re-run finishes."""
    import signal
    import subprocess
    import sys
    import time

    reqs = _write_jsonl(tmp_path / "many.jsonl", [_doc(i) for i in range(40_000)])
    url = f"sqlite:///{tmp_path / 'ctrl-c.db'}"
    cmd = [sys.executable, "-c", "from accord.cli import main; main()", "access", "check-batch", str(reqs),
           "--db", url, "--chunk", "500"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:  # interrupt once the first chunks are in
        try:
            with Ledger.open(url, create=False) as led:
                if led.size > 0:
                    break
        except NotFoundError:  # not made yet, or its tables not yet
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before the interrupt landed")
    assert proc.returncode == 130 and "run the same command again" in err and "Traceback" not in err
    with Ledger.open(url, create=False) as led:
        requested = [e.payload["request_id"] for e in led.events(kind="record.requested")]
        decided = [e.payload["request_id"] for e in led.events(kind="access.decided")]
        assert requested == decided and len(requested) % 500 == 0 and 0 < len(requested) < 40_000
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", str(reqs)], capture_output=True, text=True)  # forked workers share the command line
    assert left.stdout.strip() == "", "decision workers outlived the interrupted command"
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    with Ledger.open(url, create=False) as led:
        assert len(list(led.events(kind="access.decided"))) == 40_000 and led.verify().ok


def test_cli_names_the_file_line_of_a_request_it_refuses(tmp_path: Path) -> None:
    docs = [_doc(0), "", _doc(1), _doc(0)]  # a blank line, then request R-ny-dmv-0 again on line 4
    f = _write_jsonl(tmp_path / "twice.jsonl", docs)
    res = CliRunner().invoke(app, ["access", "check-batch", str(f), "--db", f"sqlite:///{tmp_path / 'l.db'}"])
    assert res.exit_code == 2
    assert "twice.jsonl:4: field 'request.request_id'" in res.output and "already given at twice.jsonl:1" in res.output
    g = _write_jsonl(tmp_path / "nopack.jsonl", [_doc(0), "", _doc(0, "tx-dps")])
    res = CliRunner().invoke(app, ["access", "check-batch", str(g), "--db", f"sqlite:///{tmp_path / 'l.db'}"])
    assert res.exit_code == 2 and "nopack.jsonl:3: field 'request.custodian_agency_id'" in res.output


def test_cli_decides_a_file_in_blocks_and_checks_ids_across_the_whole_file(tmp_path: Path, db_url: str) -> None:
    f = _write_jsonl(tmp_path / "blocks.jsonl", [_doc(i) for i in range(25)])
    res = CliRunner().invoke(app, ["access", "check-batch", str(f), "--db", db_url, "--block", "7", "--chunk", "3", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["recorded"] == 25 and summary["first_seq"] == 1 and summary["last_seq"] == summary["events"]
    with Ledger.open(db_url) as led:
        requested = [e.payload["request_id"] for e in led.events(kind="record.requested")]
        assert requested == [f"R-ny-dmv-{i}" for i in range(25)] and led.verify().ok
    # a request id repeated in a later block is named with both lines, before anything is written
    g = _write_jsonl(tmp_path / "late-twin.jsonl", [_doc(100 + i) for i in range(10)] + [_doc(101)])
    res = CliRunner().invoke(app, ["access", "check-batch", str(g), "--db", db_url, "--block", "4"])
    assert res.exit_code == 2 and "late-twin.jsonl:11: field 'request.request_id'" in res.output
    assert "already given at late-twin.jsonl:2" in res.output
    with Ledger.open(db_url) as led:
        assert not any(e.payload["request_id"] == "R-ny-dmv-100" for e in led.events(kind="record.requested"))
    res = CliRunner().invoke(app, ["access", "check-batch", str(g), "--db", db_url, "--block", "0"])
    assert res.exit_code == 2 and "--block" in res.output


def test_two_check_batch_runs_of_one_file_at_once_record_each_request_once(tmp_path: Path, db_url: str) -> None:
    """Issue #15: both runs look the requests up before either writes; the ledger still holds each once."""
    import subprocess
    import sys
    from collections import Counter

    reqs = _write_jsonl(tmp_path / "same.jsonl", [_doc(i) for i in range(3000)])
    Ledger.open(db_url).close()
    cmd = [sys.executable, "-c", "from accord.cli import main; main()", "access", "check-batch", str(reqs),
           "--db", db_url, "--chunk", "100", "--workers", "0", "--json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    summaries = [json.loads(o) for o, _ in outs]
    assert sum(s["recorded"] for s in summaries) == 3000
    assert all(s["recorded"] + s["skipped"] == 3000 for s in summaries), summaries
    with Ledger.open(db_url, create=False) as led:
        for kind in ("record.requested", "access.decided"):
            counts = Counter(e.payload["request_id"] for e in led.events(kind=kind))
            assert len(counts) == 3000 and set(counts.values()) == {1}, kind
        assert led.verify().ok


def test_the_store_itself_refuses_a_second_record_of_one_request(db_url: str) -> None:
    from accord.errors import ConflictError
    from accord.ledger import NewEvent

    areq = _reqs(1)[0]
    with Ledger.open(db_url) as led:
        led.append("record.requested", areq.request)
        with pytest.raises(ConflictError, match="already holds a record.requested"):
            led.append_many([NewEvent("record.requested", areq.request)])
        assert led.size == 1


def test_a_loser_says_it_skipped(tmp_path: Path, sqlite_url: str, monkeypatch) -> None:
    """Requests recorded by another writer after the look-up are skipped in the chunk's own transaction."""
    from accord.ledger import Ledger as L

    reqs = _reqs(30)
    with Ledger.open(sqlite_url) as led:
        audit_requests(led, reqs[10:20], workers=0)
        monkeypatch.setattr(L, "known_streams", lambda self, streams: set())  # the early look-up misses them
        result = audit_requests(led, reqs, workers=0, chunk=7)
        assert result.recorded == 20 and sorted(result.skipped) == sorted(r.request.request_id for r in reqs[10:20])
        assert len(list(led.events(kind="record.requested"))) == 30 and led.verify().ok
