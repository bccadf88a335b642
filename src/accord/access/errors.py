"""Errors the records gateway reports (subclasses of :class:`accord.errors.AccordError`)."""

from __future__ import annotations

from accord.errors import AccordError


class PolicyError(AccordError):
    """A pack is broken: a manifest field, a policy annotation or a schema check failed at load."""
