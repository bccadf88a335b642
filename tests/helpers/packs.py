"""A records-gateway pack of one policy file, written for a test (``accord.access.packs.load_pack`` reads it)."""

from __future__ import annotations

from pathlib import Path


def one_file_pack(tmp_path: Path, policies: str, name: str = "p", custodian: str = "ny-dmv") -> Path:
    """A pack directory ``tmp_path/name`` whose only policy file holds ``policies`` (UTC, default deny)."""
    d = tmp_path / name
    d.mkdir()
    (d / "pack.yaml").write_text(
        f"id: {name}\ntitle: t\nversion: '1'\ncustodian_agency_id: {custodian}\njurisdiction: US\ntimezone: UTC\n"
        "default_deny: {citation: none, explanation: none}\npolicies: [p.cedar]\n")
    (d / "p.cedar").write_text(policies)
    return d
