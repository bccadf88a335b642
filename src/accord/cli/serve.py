"""``accord serve``: the HTTP API under uvicorn (FastAPI and uvicorn are imported only when it runs)."""

from __future__ import annotations

import os
import socket
from typing import Annotated, Any, Optional

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
        options = {"factory": True, "host": settings.host, "port": settings.port, "log_config": None,
                   "access_log": False, "server_header": False, "log_level": settings.log_level,
                   "h11_max_incomplete_event_size": settings.server_header_cap_bytes}
        if settings.workers > 1 and hasattr(socket, "SO_REUSEPORT"):
            _serve_reuseport(settings.workers, options)
            return
        uvicorn.run(APP, workers=settings.workers, **options)


APP = "accord.api.app:serve_app"


def _serve_reuseport(workers: int, options: dict) -> None:
    """``workers`` uvicorn servers, each in a process of its own with its own ``SO_REUSEPORT`` socket.

    uvicorn's own ``--workers`` shares one listening socket, and whichever process is first to
    accept takes the connection: a handful of keep-alive clients (an agency's integration, the
    benchmark's 16) mostly end up on one worker while the others idle. Separate sockets on one
    port let the kernel spread connections over the workers. A worker that dies is started
    again; SIGTERM or SIGINT stops them all (each finishes its requests, as uvicorn does).
    """
    import multiprocessing
    import signal
    import time

    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> Any:
        proc = ctx.Process(target=_reuseport_worker, args=(options,), daemon=False)
        proc.start()
        return proc

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    procs = [start() for _ in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for i, proc in enumerate(procs):
                if not proc.is_alive() and not stopping:
                    err.print(f"worker {proc.pid} exited ({proc.exitcode}); starting another")
                    procs[i] = start()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for proc in procs:
            proc.join(60)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _reuseport_worker(options: dict) -> None:
    import uvicorn

    host, port = options["host"], options["port"]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # the kernel spreads connections over the workers
    sock.bind((host, port))
    sock.set_inheritable(True)
    uvicorn.Server(uvicorn.Config(APP, **options)).run(sockets=[sock])


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
