"""`accord init`, `accord ingest`, `accord events` and `accord audit ...` as a person uses them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.domain import PAYLOAD_MODELS
from accord.ledger import Ledger

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def jsonl_rows(samples) -> list[dict]:
    return [{"kind": str(kind), "payload": json.loads(model.model_dump_json())} for kind, model in samples.items()]


def test_init_creates_store_and_signing_key(tmp_path: Path) -> None:
    db = tmp_path / "accord.db"
    result = invoke("init", "--db", str(db))
    assert result.exit_code == 0, result.output
    assert db.exists() and Path(f"{db}.signing-key").exists()
    assert oct(Path(f"{db}.signing-key").stat().st_mode & 0o777) == "0o600"
    assert "0 events" in result.output


def test_ingest_jsonl_then_list_and_prove(db_url: str, samples, sample_factory, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "records.jsonl", [*jsonl_rows(samples), ""])  # blank lines are skipped
    result = invoke("ingest", str(src), "--db", db_url)
    assert result.exit_code == 0, result.output
    assert f"committed {len(samples)} events" in result.output and f"seq 1..{len(samples)}" in result.output

    listed = invoke("events", "--db", db_url, "--json", "--include-personal")  # the payloads as stored
    events = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [e["kind"] for e in events] == [str(k) for k in samples]
    for e in events:
        model = PAYLOAD_MODELS[e["kind"]]
        assert model.model_validate_json(json.dumps(e["payload"])) == samples[e["kind"]]

    only = [json.loads(x) for x in invoke("events", "--db", db_url, "--json", "--kind", "custody.released").stdout.splitlines()]
    assert [(e["kind"], e["stream"]) for e in only] == [("custody.released", "booking/B-0")]
    ranged = [json.loads(x)["seq"] for x in invoke("events", "--db", db_url, "--json", "--from", "3", "--to", "5").stdout.splitlines()]
    assert ranged == [3, 4, 5]
    table = invoke("events", "--db", db_url, "--stream", "booking/B-0")
    assert table.exit_code == 0 and "custody.booked" in table.output and "custody.released" in table.output

    proof = json.loads(invoke("audit", "prove", "4", "--db", db_url).stdout)
    assert proof["seq"] == 4 and proof["size"] == len(samples) and proof["verified"] is True
    cp = json.loads(invoke("audit", "checkpoint", "--db", db_url).stdout)
    assert cp["size"] == len(samples) and cp["root_hash"] == proof["root_hash"]
    again = invoke("ingest", str(src), "--db", db_url)  # the same file again: a no-op that says so
    assert again.exit_code == 0 and "already ingested" in again.output
    more = write_jsonl(tmp_path / "more.jsonl", [jsonl_rows(sample_factory(1))[0]])  # new records: new events
    assert invoke("ingest", str(more), "--db", db_url).exit_code == 0
    cons = json.loads(invoke("audit", "consistency", str(cp["size"]), "--db", db_url).stdout)
    assert cons["old_root"] == cp["root_hash"] and cons["new_size"] == len(samples) + 1 and cons["verified"] is True
    assert invoke("audit", "verify", "--db", db_url).exit_code == 0


def test_bad_rows_are_all_named_and_nothing_lands(db_url: str, samples, tmp_path: Path) -> None:
    good = jsonl_rows(samples)
    release = dict(next(r for r in good if r["kind"] == "custody.released")["payload"])
    person = {"person_id": "P-9", "name": "Jane Roe", "birth_date": "Jane's birthday"}
    rows = [
        good[0],
        "{not json",
        {"kind": "custody.teleported", "payload": {}},
        {"kind": "custody.released", "payload": {**release, "released_at": "2026-03-04T10:00:00"}},
        {"kind": "custody.released", "payload": {**release, "shoe_size": 9}},
        {"kind": "person.registered", "payload": person},
        {"payload": release},
        "[1, 2]",
        good[1],
    ]
    src = write_jsonl(tmp_path / "mixed.jsonl", rows)
    result = invoke("ingest", str(src), "--db", db_url)
    assert result.exit_code == 2
    out = result.output
    assert "7 row(s) rejected, nothing was written" in out
    assert "mixed.jsonl:2:" in out and "not valid JSON" in out
    assert "mixed.jsonl:3: field 'kind': unknown kind" in out
    assert "mixed.jsonl:4: field 'payload.released_at':" in out and "timezone" in out
    assert "mixed.jsonl:5: field 'payload.shoe_size':" in out
    assert "mixed.jsonl:6: field 'payload.birth_date':" in out
    assert "mixed.jsonl:7: field 'kind':" in out
    assert "mixed.jsonl:8: each line must be a JSON object" in out
    assert "Jane" not in out  # personal data stays out of error messages
    assert "Traceback" not in out
    assert Ledger.open(db_url).size == 0


def test_ingest_csv_with_dotted_and_json_columns(db_url: str, samples, tmp_path: Path) -> None:
    rr = samples["record.requested"]
    src = tmp_path / "requests.csv"
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["request_id", "requester_agency_id", "custodian_agency_id", "record_kind", "subject_person_id",
                    "purpose", "legal_process.kind", "legal_process.judge_kind", "legal_process.court",
                    "legal_process.issued_on", "legal_process.specific_records_only", "requested_at", "requester_reference"])
        lp = rr.legal_process
        w.writerow([rr.request_id, rr.requester_agency_id, rr.custodian_agency_id, rr.record_kind.value, rr.subject_person_id,
                    rr.purpose.value, lp.kind.value, lp.judge_kind.value, lp.court, lp.issued_on.isoformat(), "true",
                    rr.requested_at.isoformat(), rr.requester_reference])
        w.writerow(["R-2", "ICE-HSI", "NY-DMV", "dmv_photo", "", rr.purpose.value, "", "", "", "", "",
                    "2026-03-05T08:00:00Z", ""])
    result = invoke("ingest", str(src), "--kind", "record.requested", "--db", db_url)
    assert result.exit_code == 0, result.output
    led = Ledger.open(db_url)
    first, second = list(led.events())
    assert PAYLOAD_MODELS["record.requested"].model_validate_json(first.payload_json) == rr
    assert second.payload["subject_person_id"] is None and second.stream == "record/R-2"

    booked = samples["custody.booked"]
    src2 = tmp_path / "bookings.csv"
    with src2.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["booking_id", "person_id", "jurisdiction", "agency_id", "facility", "booked_at", "charges"])
        charges = json.dumps([json.loads(c.model_dump_json()) for c in booked.charges])
        w.writerow(["B-7", "P-7", "US-TX", "AG-7", "Synthetic Jail", "2026-03-01T10:00:00Z", charges])
        w.writerow(["B-8", "P-8", "US-TX", "AG-7", "Synthetic Jail", "2026-03-01T10:00:00Z", "[{oops"])
        w.writerow(["B-9", "P-9", "Texas", "AG-7", "Synthetic Jail", "2026-03-01T10:00:00Z", "[]"])
    bad = invoke("ingest", str(src2), "--kind", "custody.booked", "--db", db_url)
    assert bad.exit_code == 2
    assert "bookings.csv:3: field 'charges': is not a JSON value" in bad.output
    assert "bookings.csv:4: field 'jurisdiction':" in bad.output
    assert led.size == 2
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("booking_id,colour\nB-1,red\n")
    res = invoke("ingest", str(unknown), "--kind", "custody.booked", "--db", db_url)
    assert res.exit_code == 2 and "unknown.csv:1: field 'colour': no such field" in res.output
    assert invoke("ingest", str(src2), "--db", db_url).exit_code == 2  # CSV without --kind
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("notice_id,sent_at\nN-\u00e9,2026-03-01T10:00:00Z\n".encode("latin-1"))
    res = invoke("ingest", str(latin), "--kind", "notice.sent", "--db", db_url)
    assert res.exit_code == 2 and "is not UTF-8 text" in res.output and "Traceback" not in res.output
    bom = tmp_path / "bom.csv"
    bom.write_bytes("notice_id,sent_at\nN-1,2026-03-01T10:00:00Z\n".encode("utf-8-sig"))
    never_owed = invoke("ingest", str(bom), "--kind", "notice.sent", "--db", db_url)  # read past the BOM, then refused
    assert never_owed.exit_code == 2 and "bom.csv:2: field 'payload.notice_id': no notice N-1 is owed" in never_owed.output
    owed = tmp_path / "owed.jsonl"
    owed.write_text(json.dumps({"kind": "notice.due", "payload": {**json.loads(samples["notice.due"].model_dump_json()),
                                                                   "notice_id": "N-1"}}) + "\n")
    assert invoke("ingest", str(owed), "--db", db_url).exit_code == 0
    assert invoke("ingest", str(bom), "--kind", "notice.sent", "--db", db_url).exit_code == 0
    led.close()


@pytest.mark.parametrize("args", [["audit", "prove", "99"], ["events", "--db", "mysql://x/y"], ["ingest", "missing.jsonl"],
                                  ["init", "--db", "/nonexistent/dir/accord.db"],
                                  ["events", "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"]])
def test_errors_are_one_line_without_traceback(args: list[str], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    full = [*args, "--db", db] if "--db" not in args else args
    result = invoke(*full)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error:") and "Traceback" not in result.output


def test_real_command_line(tmp_path: Path, samples, accord_cli) -> None:
    """The real CLI in a subprocess, with ACCORD_DATABASE_URL as the only pointer to the store."""
    env = {"ACCORD_DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}"}
    assert accord_cli("init", env=env).returncode == 0
    src = write_jsonl(tmp_path / "r.jsonl", jsonl_rows(samples))
    done = accord_cli("ingest", str(src), "--json", env=env)
    assert done.returncode == 0, done.stderr
    import hashlib

    assert json.loads(done.stdout) == {"file": str(src), "events": len(samples), "first_seq": 1, "last_seq": len(samples),
                                       "sha256": hashlib.sha256(src.read_bytes()).hexdigest(), "already_ingested": False}
    assert accord_cli("audit", "verify", env=env).returncode == 0
    bad = accord_cli("audit", "prove", "0", env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_large_files_land_chunk_by_chunk_in_one_transaction(db_url: str, sample_factory, tmp_path: Path, monkeypatch) -> None:
    """Rows are checked and appended in chunks (bounded memory), still all or nothing; the result is the same."""
    import accord.service.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "CHUNK", 3)
    sets = [sample_factory(i) for i in range(3)]
    src = write_jsonl(tmp_path / "many.jsonl", [row for s in sets for row in jsonl_rows(s)])
    result = invoke("ingest", str(src), "--db", db_url)
    assert result.exit_code == 0, result.output
    led = Ledger.open(db_url)
    got = [PAYLOAD_MODELS[e.kind].model_validate_json(e.payload_json) for e in led.events()]
    assert got == [m for s in sets for m in s.values()]
    assert led.verify().ok
    broken = write_jsonl(tmp_path / "late.jsonl", [*jsonl_rows(sample_factory(7)), "{oops"])  # a bad last row
    assert invoke("ingest", str(broken), "--db", db_url).exit_code == 2
    assert led.size == len(got)  # chunks appended before the bad row were rolled back with it
    led.close()
