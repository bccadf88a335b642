"""``accord serve``: the HTTP API under uvicorn (FastAPI and uvicorn are imported only when it runs)."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from .support import DbOption, err, reported


def serve(
    host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on \\[default: 127.0.0.1, $ACCORD_HOST]", show_default=False)] = None,  # noqa: UP007
    port: Annotated[Optional[int], typer.Option("--port", help="Port \\[default: 8000, $ACCORD_PORT]", show_default=False)] = None,  # noqa: UP007
    workers: Annotated[Optional[int], typer.Option("--workers", help="Server processes \\[default: 1, $ACCORD_WORKERS]", show_default=False)] = None,  # noqa: UP007
    db: DbOption = None,
) -> None:
    """Serve the agencies' HTTP API (/v1, OpenAPI at /openapi.json, docs at /docs) and the officers' console (/console).

    Settings come from ACCORD_* variables (README lists them); options override them. Several
    workers are safe: the ledger's head lock serialises appends (on PostgreSQL and SQLite).
    """
    with reported():
        from accord.settings import Settings

        overrides = {"ACCORD_HOST": host, "ACCORD_PORT": port, "ACCORD_WORKERS": workers, "ACCORD_DATABASE_URL": db}
        for name, value in overrides.items():
            if value is not None:
                os.environ[name] = str(value)  # the workers read their settings from the environment
        try:
            settings = Settings()
        except Exception as exc:  # pydantic's ValidationError: name the setting, not a traceback
            from accord.errors import InputError

            first = getattr(exc, "errors", lambda: [{"loc": ("setting",), "msg": str(exc)}])()[0]
            raise InputError(first["msg"], field=".".join(map(str, first["loc"]))) from None
        os.environ["ACCORD_DATABASE_URL"] = settings.database_url
        _prepare(settings.database_url)
        import uvicorn

        err.print(f"serving on http://{settings.host}:{settings.port} ({settings.workers} worker(s)); docs at /docs")
        uvicorn.run("accord.api.app:serve_app", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, log_config=None, access_log=False, server_header=False,
                    h11_max_incomplete_event_size=settings.server_header_cap_bytes, log_level=settings.log_level)


def _prepare(url: str) -> None:
    """Create or migrate every table once, before workers start (they then find them current)."""
    from accord.api.tokens import ensure_tables
    from accord.console.users import ensure_tables as ensure_console_tables
    from accord.service.store import Store

    with Store.open(url) as store:
        ensure_tables(store.engine)
        ensure_console_tables(store.engine)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
