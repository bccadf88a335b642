"""Accord: decide, record and report inter-agency requests under the law that governs them."""

__version__ = "0.1.0"
