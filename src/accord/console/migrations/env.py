"""Alembic environment of the console's tables (see ``accord.service.migrate``)."""

from accord.service.migrate import run_env

run_env()
