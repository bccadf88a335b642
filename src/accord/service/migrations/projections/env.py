"""Alembic environment of the read model (see ``accord.service.migrate``)."""

from accord.service.migrate import run_env

run_env()
