"""Every setting of accord.settings is in README's table, and every variable the table names exists."""

from __future__ import annotations

import re
from pathlib import Path

from accord.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _variables() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names.add(choices[0] if choices else f"ACCORD_{name.upper()}")
    return names


def test_every_setting_is_documented_in_readme() -> None:
    documented = set(re.findall(r"^\| `(ACCORD_[A-Z_]+)` \|", README, flags=re.M))
    assert _variables() - documented == set(), "settings missing from README's table"
    assert documented - _variables() == set(), "README's table names settings that do not exist"


def test_a_setting_is_read_from_its_variable(monkeypatch) -> None:
    monkeypatch.setenv("ACCORD_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("ACCORD_BODY_LIMIT_BYTES", "2048")
    s = Settings()
    assert (s.database_url, s.body_limit_bytes) == ("sqlite:///elsewhere.db", 2048)
