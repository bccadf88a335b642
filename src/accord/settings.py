"""Every setting of a running Accord in one place, read from the environment (``ACCORD_<NAME>``).

``accord serve`` options override them; README lists each one (a test keeps that list honest).
Components that run inside the server (the clocks' scheduler, the console) add their settings
here, so an operator finds them all in one table.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore", frozen=True)

    database_url: str = Field(
        "sqlite:///./accord.db", validation_alias=AliasChoices("ACCORD_DATABASE_URL", "database_url"),
        description="The store: a SQLite file or postgresql+psycopg://... (the same as the CLI's --db)")
    host: str = Field("127.0.0.1", description="Address `accord serve` listens on")
    port: int = Field(8000, ge=0, le=65535, description="Port `accord serve` listens on")
    workers: int = Field(1, ge=1, le=64, description="Server processes (several are safe on PostgreSQL and SQLite)")
    body_limit_bytes: int = Field(1_048_576, ge=1024, description="Largest request body; larger ones get 413 while being read")
    header_limit_bytes: int = Field(16_384, ge=1024, description="Largest total size of request headers; larger get 431")
    server_header_cap_bytes: int = Field(
        262_144, ge=16_384,
        description="Headers the HTTP server itself buffers before refusing a request (uvicorn h11_max_incomplete_event_size)")
    idempotency_retention_hours: float = Field(
        168.0, gt=0, description="How long an Idempotency-Key and its first response are kept (a retry within it gets "
                                 "the first response again); the server purges older keys every hour")
    rate_limit: str = Field("1200/minute", description="Requests per API token (the `limits` notation, e.g. '100/second')")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Level of the JSON log lines")
    docs: bool = Field(True, description="Serve the interactive API documentation at /docs")


    # -- the ledger's keys and checkpoints (accord.ledger reads these variables when it runs) -----
    signing_key_file: str | None = Field(
        None, description="The checkpoint signing key (PEM, mode 0600) [default: beside a SQLite store; "
                          "$XDG_CONFIG_HOME/accord/keys/<ledger>.signing-key for PostgreSQL]; never in the database")
    trusted_keys: str | None = Field(
        None, description="Public key files `audit verify` trusts, separated by ':' [default: the configured key "
                          "and the keys it retired]")
    checkpoint_every_events: int = Field(10_000, ge=0, description="Sign a checkpoint once this many events follow the last (0: off)")
    checkpoint_every_minutes: float = Field(60.0, ge=0, description="Sign one when an append comes this long after the last (0: off)")
    checkpoint_publish: str | None = Field(
        None, description="Folder or http(s) URL each checkpoint is published to as a C2SP signed note (the witness)")

    # -- clocks (accord.clocks): the scheduler and the outbox's dispatcher ----------------------
    clocks_in_serve: bool = Field(True, description="Run the scheduler and dispatcher inside `accord serve`")
    hold_warning_lead_seconds: float = Field(4 * 3600.0, ge=0, description="How long before a hold's limit officers are warned (0: no warning)")
    clocks_poll_seconds: float = Field(0.5, gt=0, le=60, description="Longest sleep of the scheduler and dispatcher between looks at the queue")
    clocks_batch: int = Field(200, ge=1, le=10_000, description="Jobs fired in one transaction")
    webhook_key_file: str | None = Field(
        None, description="The key webhook secrets are sealed with (mode 0600) [default: beside the checkpoint signing "
                          "key, `<name>.webhook-key`]; never in the database: back it up with the signing key")
    webhook_timeout_seconds: float = Field(15.0, gt=0, le=120, description="Time limit of one webhook request")
    webhook_retry_window_seconds: float = Field(24 * 3600.0, gt=0, description="How long a failing delivery is retried before it is dead-lettered")
    webhook_backoff_base_seconds: float = Field(5.0, gt=0, description="First retry delay (doubled each attempt, with jitter)")
    webhook_backoff_cap_seconds: float = Field(3 * 3600.0, gt=0, description="Longest delay between two attempts")
    webhook_lease_seconds: float = Field(
        60.0, gt=0, description="How long a claimed delivery is left to its dispatcher before another may send it again "
                                "(at least the time limit plus a second)")
    webhook_concurrency: int = Field(32, ge=1, le=1024, description="Webhook requests in flight at once per dispatcher")
    webhook_allow_loopback_http: bool = Field(
        False, description="Allow http:// and 127.0.0.1 webhook URLs (tests and local receivers only)")

    # -- console (accord.console): officers' and auditors' sign-in ------------------------------
    console_lockout_failures: int = Field(5, ge=1, le=100, description="Wrong passwords in a row that lock a console account")
    console_lockout_seconds: float = Field(900.0, gt=0, description="How long a locked console account refuses sign-in")
    console_session_seconds: float = Field(12 * 3600.0, gt=0, description="How long a console sign-in lasts (one shift)")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
