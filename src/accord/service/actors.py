"""Who is acting: an agency's API token, an officer or auditor of the console, or the operator's CLI.

Every use case takes an :class:`Actor` and asks it what it may see and do, so the HTTP API, the
console and the command line apply the same tenancy rules in one place: an agency sees only the
requests it made or that were made of it; an auditor sees everything and changes nothing; the
operator at the command line acts for every agency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accord.errors import NotFoundError


class Forbidden(Exception):
    """The actor lacks the scope for a step (the HTTP layer answers 403)."""


@dataclass(frozen=True)
class Actor:
    #: ``agency:<id>``, ``user:<name>``, ``cli``, ``system:<component>``: written into the events it causes.
    id: str
    agency_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def operator(cls) -> Actor:
        """The person at the command line of the machine that holds the database: every scope."""
        return cls("cli", None, frozenset({"submit", "read", "officer", "auditor", "admin"}))

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls(f"system:{component}", None, frozenset({"submit", "read", "officer", "admin"}))

    @property
    def sees_all(self) -> bool:
        return self.agency_id is None or bool(self.scopes & {"auditor", "admin"})

    @property
    def writes(self) -> bool:
        """An auditor reads everything and writes nothing (unless also given a writing scope)."""
        return bool(self.scopes & {"submit", "officer", "admin"})

    def may_see(self, *agency_ids: str | None) -> bool:
        return self.sees_all or (self.agency_id is not None and self.agency_id in agency_ids)

    def require(self, *scopes: str) -> None:
        """Go on only if the actor holds one of ``scopes`` (``admin`` holds them all)."""
        if not (self.scopes & {*scopes, "admin"}):
            raise Forbidden(f"this needs the {' or '.join(repr(s) for s in scopes)} scope")

    def acts_for(self, agency_id: str | None, what: str, field_name: str) -> None:
        """Refuse writing for another agency: the thing is 'not found' to a stranger (no 403 to probe with)."""
        if self.agency_id is not None and "admin" not in self.scopes and agency_id != self.agency_id:
            raise NotFoundError(f"{what} not found", field=field_name)
