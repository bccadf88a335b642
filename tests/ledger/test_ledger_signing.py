"""Checkpoint keys: the private key never in the database, verify trusts only keys given from outside it."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from accord.cli import app
from accord.ledger import Ledger
from accord.ledger.signing import KEY_FILE_ENV, TRUSTED_KEYS_ENV, Signer, key_file_for, key_id_of, signature_valid


def _keys(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT key_id, public_key, private_key FROM ledger_keys")).all()
    engine.dispose()
    return rows


def _sql(url: str, statement: str, **params) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


def _verify(url: str, *extra: str, env: dict | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["audit", "verify", "--db", url, *extra], env=env)
    return res.exit_code, res.output


def _ledger_with_checkpoints(url: str) -> Ledger:
    led = Ledger.open(url)
    for n in range(3):
        led.append("decision.made", {"n": n}, stream="detainer/D-1")
        led.checkpoint()
    return led


def test_private_key_is_a_0600_file_never_in_the_database(db_url: str) -> None:
    led = Ledger.open(db_url)
    cp = led.checkpoint()
    (key_id, public, private), = _keys(db_url)
    assert key_id == cp.key_id == key_id_of(bytes(public)) and bytes(public) == cp.public_key
    assert private is None  # PostgreSQL included
    path = key_file_for(led.engine)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Signer(Ed25519PrivateKey.generate()).key_id != cp.key_id
    if db_url.startswith("sqlite"):
        assert path == Path(db_url.removeprefix("sqlite:///") + ".signing-key")
        db_file = Path(db_url.removeprefix("sqlite:///"))
        assert stat.S_IMODE(db_file.stat().st_mode) == 0o600  # the store itself is created 0600
    led.close()


def test_re_signing_every_checkpoint_with_a_fresh_key_fails_verify(db_url: str) -> None:
    """The attacker who can write the tables rewrites each checkpoint's key and signature: not trusted."""
    led = _ledger_with_checkpoints(db_url)
    assert led.verify().ok
    forger = Signer(Ed25519PrivateKey.generate())
    for cp in led.checkpoints():
        _sql(db_url, "UPDATE ledger_checkpoints SET key_id = :k, public_key = :p, signature = :s WHERE size = :n",
             k=forger.key_id, p=forger.public_key, s=forger.sign(cp.note()), n=cp.size)
    _sql(db_url, "DELETE FROM ledger_keys")
    report = led.verify()
    assert not report.ok and "not trusted" in report.reason and forger.key_id in report.reason
    code, output = _verify(db_url)
    assert code == 3 and "checkpoint at size 1" in output and "not trusted" in output, output
    led.close()


def test_trusted_key_given_from_outside(db_url: str, tmp_path: Path, monkeypatch) -> None:
    led = _ledger_with_checkpoints(db_url)
    pub = tmp_path / "ledger.pub"
    res = CliRunner().invoke(app, ["audit", "key", "--db", db_url])
    assert res.exit_code == 0, res.output
    pub.write_text(res.output)
    code, output = _verify(db_url, "--trusted-key", str(pub))
    assert code == 0, output
    other = tmp_path / "other.pub"
    other.write_text(Signer(Ed25519PrivateKey.generate()).public_key.hex() + "\n")
    code, output = _verify(db_url, "--trusted-key", str(other))
    assert code == 3 and "checkpoint at size 1" in output and "not trusted" in output
    monkeypatch.setenv(TRUSTED_KEYS_ENV, str(other))
    assert _verify(db_url)[0] == 3
    monkeypatch.setenv(TRUSTED_KEYS_ENV, f"{other}{os.pathsep}{pub}")
    assert _verify(db_url)[0] == 0
    bad = tmp_path / "bad.pub"
    bad.write_text("hello")
    code, output = _verify(db_url, "--trusted-key", str(bad))
    assert code == 2 and "bad.pub" in output and "not a public key" in output and "Traceback" not in output
    led.close()


def test_a_new_key_file_without_rotation_is_not_trusted_but_a_rotation_is(db_url: str, tmp_path: Path, monkeypatch) -> None:
    led = _ledger_with_checkpoints(db_url)
    old = led.checkpoints()[0]
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "elsewhere.key"))
    led.close()
    led = Ledger.open(db_url)
    led.checkpoint()
    report = led.verify()  # the old checkpoints' key is no longer the configured one
    assert not report.ok and old.key_id in report.reason
    monkeypatch.delenv(KEY_FILE_ENV)
    led.close()

    url2 = db_url
    led = Ledger.open(url2)
    _sql(url2, "DELETE FROM ledger_checkpoints WHERE key_id <> :k", k=old.key_id)
    assert led.verify().ok
    res = CliRunner().invoke(app, ["audit", "rotate-key", "--db", url2])
    assert res.exit_code == 0 and "handed over" in res.output, res.output
    new_cp = led.checkpoint()
    assert new_cp.key_id != old.key_id
    assert signature_valid(old.public_key, old.signature, old.note())
    # Trusting only the OLD key still verifies: the rotation event, signed by it, hands over to the new one.
    old_pub = tmp_path / "old.pub"
    old_pub.write_text(old.public_key.hex())
    report = led.verify(trusted=[old.public_key])
    assert report.ok and report.checkpoints_checked == 4, report
    assert _verify(url2, "--trusted-key", str(old_pub))[0] == 0
    assert led.verify().ok  # default: the configured (new) key and the public key it retired
    retired, = Path(key_file_for(led.engine)).parent.glob("*.retired-*.pub")
    assert old.key_id in retired.name and "PRIVATE" not in retired.read_text()
    led.close()


def test_a_key_others_can_read_is_refused_and_a_new_key_is_announced_once(tmp_path: Path, caplog) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    with caplog.at_level(logging.WARNING, logger="accord.ledger"):
        Ledger.open(url).close()
        Ledger.open(url).close()
    made = [r for r in caplog.records if "created a new checkpoint signing key" in r.getMessage()]
    assert len(made) == 1
    key = tmp_path / "k.db.signing-key"
    key.chmod(0o644)
    res = CliRunner().invoke(app, ["audit", "checkpoint", "--db", url])
    assert res.exit_code != 0 and "chmod 600" in res.output and "Traceback" not in res.output


def test_a_private_key_left_in_the_table_by_an_older_version_is_moved_out(db_url: str, tmp_path: Path) -> None:
    led = Ledger.open(db_url)
    path = key_file_for(led.engine)
    pem = path.read_bytes()
    public = Signer(__import__("cryptography.hazmat.primitives.serialization", fromlist=["x"]).load_pem_private_key(pem, None)).public_key
    led.close()
    path.unlink()
    _sql(db_url, "UPDATE ledger_keys SET private_key = :p", p=pem)
    _sql(db_url, "UPDATE accord_ledger_version SET version_num = '0001'")
    if db_url.startswith("sqlite"):
        _sql(db_url, "DROP TRIGGER IF EXISTS ledger_events_opening_first")
    else:
        _sql(db_url, "ALTER TABLE ledger_events DROP CONSTRAINT IF EXISTS ck_ledger_events_opening_first")
    led = Ledger.open(db_url)
    assert all(private is None for _, _, private in _keys(db_url))
    assert path.read_bytes() == pem and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert led.checkpoint().public_key == public
    led.close()


def test_any_command_refuses_to_start_with_a_key_others_can_read(db_url: str) -> None:
    led = Ledger.open(db_url)
    path = key_file_for(led.engine)
    led.close()
    path.chmod(0o644)
    res = CliRunner().invoke(app, ["events", "--db", db_url])
    assert res.exit_code == 2 and "chmod 600" in res.output and "Traceback" not in res.output
    path.chmod(0o600)
    assert CliRunner().invoke(app, ["events", "--db", db_url]).exit_code == 0


def test_a_verifier_key_reads_back_whatever_its_base64_holds() -> None:
    from accord.ledger.signing import parse_public_key, verifier_key

    for _ in range(200):  # "+" and "/" appear in base64 often enough
        public = Signer(Ed25519PrivateKey.generate()).public_key
        assert parse_public_key(verifier_key("accord.ledger/x", public), "k") == public
        assert parse_public_key(public.hex(), "k") == public


def test_a_store_inside_a_git_work_tree_keeps_its_key_outside_it(tmp_path: Path) -> None:
    # README's own example (`--db sqlite:///try.db` in a checkout) must not leave a key for `git add .`.
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    work = tmp_path / "repo" / "cases"
    work.mkdir()
    url = f"sqlite:///{work / 'try.db'}"
    with Ledger.open(url) as led:
        led.checkpoint()
        path = key_file_for(led.engine)
    assert not list((tmp_path / "repo").rglob("*.signing-key"))
    assert path.is_file() and Path(os.environ["XDG_CONFIG_HOME"]) in path.parents
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with Ledger.open(url) as again:  # the same key is found again: the checkpoints still verify
        assert key_file_for(again.engine) == path and again.verify().ok


def test_a_key_already_beside_a_store_in_a_git_work_tree_is_still_used(tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    url = f"sqlite:///{work / 'old.db'}"
    with Ledger.open(url) as led:
        led.checkpoint()
    (tmp_path / ".git").mkdir()  # the folder became a git work tree afterwards
    with Ledger.open(url) as led:
        assert key_file_for(led.engine) == work / "old.db.signing-key" and led.verify().ok
