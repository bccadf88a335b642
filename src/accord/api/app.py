"""``create_app(settings)``: the FastAPI application, its middleware, errors, routes and documents.

The one place where the pieces meet. Routers are listed in :mod:`accord.api.routes` (add a
resource there). Components that run for the life of the server (the clocks' scheduler, say) are
listed in :data:`COMPONENTS`: each is called with the app once the store is open and returns an
async context manager that is entered at start-up and left at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from accord import __version__
from accord.console import web as console
from accord.console.users import ensure_tables as ensure_console_tables
from accord.settings import Settings, get_settings

from . import logs, problems, routes
from .guards import SizeLimits
from .ratelimit import RateLimiter
from .tokens import Lookup

#: Run for the life of the server, after the store opens: ``component(app) -> async context manager``.
COMPONENTS: list[Callable[[FastAPI], AbstractAsyncContextManager[Any]]] = []

DESCRIPTION = """Accord decides, records and reports the requests one agency makes of another under the law
of the jurisdiction that holds them. Every request is answered with the decision and the clause
that decided it, and every event is in a hash-chained, signed ledger (`/v1/audit`).

Authenticate with `Authorization: Bearer <token>` (`accord tokens issue`). Every POST takes an
`Idempotency-Key`. Errors are RFC 9457 problem JSON (`application/problem+json`)."""


def create_app(settings: Settings | None = None, *, store: Any = None) -> FastAPI:
    """The API over the store at ``settings.database_url`` (or over ``store``, which the caller closes)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from accord.service.store import Store

        from .tokens import ensure_tables

        own = store is None
        app.state.store = Store.open(settings.database_url) if own else store
        app.state.token_lookup = Lookup(app.state.store.engine)
        try:
            ensure_tables(app.state.store.engine)
            ensure_console_tables(app.state.store.engine)
            async with AsyncExitStack() as stack:
                for component in COMPONENTS:
                    await stack.enter_async_context(component(app))
                yield
        finally:
            app.state.token_lookup.close()
            if own:
                app.state.store.close()

    app = FastAPI(title="Accord", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None)
    app.state.settings = settings
    if store is not None:  # the caller's store is there at once (tests drive the app without its lifespan)
        from .tokens import ensure_tables

        app.state.store = store
        app.state.token_lookup = Lookup(store.engine)
        ensure_tables(store.engine)
        ensure_console_tables(store.engine)
    app.state.rate_limiter = RateLimiter(settings.rate_limit)
    problems.install(app)
    routes.include(app)
    console.install(app)  # the officers' console at /console (HTML; not in the OpenAPI document)
    if settings.docs:
        _docs(app)
    app.add_middleware(SizeLimits, body_limit=settings.body_limit_bytes, header_limit=settings.header_limit_bytes)
    app.add_middleware(logs.RequestContext)  # outermost: every answer, a refused one too, gets an id and a line
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _docs(app: FastAPI) -> None:
    """Swagger UI from the assets the ``fastapi-offline`` package ships: /docs works without a network."""
    import fastapi_offline

    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs/static", StaticFiles(directory=static), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Accord API",
                                   swagger_js_url="/docs/static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/static/swagger-ui.css",
                                   swagger_favicon_url="/docs/static/favicon.png")


#: Error statuses every operation can answer; authenticated ones, POSTs and ones with a path id add theirs.
_ALWAYS = (400, 413, 422, 431, 500, 503)
_AUTHENTICATED = (401, 403, 429)


def _body_model(route: APIRoute) -> Any:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        model = getattr(dep.call, "__accord_body__", None)
        if model is not None:
            return model
        stack.extend(dep.dependencies)
    return None


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the JSON bodies read by ``SubmitPost``/``OfficerPost`` and every problem response."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = problems.Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(components["Problem"].pop("$defs", {}))
    for route in routes.api_routes():
        if not route.include_in_schema:
            continue
        model = _body_model(route)
        for method in route.methods:
            op = doc["paths"][route.path_format][method.lower()]
            if model is not None:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
                components.update(schema.pop("$defs", {}))
                components[model.__name__] = schema
                op["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}
            statuses = set(_ALWAYS)
            if op.get("security"):
                statuses |= set(_AUTHENTICATED)
            if method == "POST":
                statuses |= {404, 409}
            if "{" in route.path_format:
                statuses.add(404)
            responses = op.setdefault("responses", {})
            for status in sorted(statuses):
                responses[str(status)] = {"description": problems.HTTPStatus(status).phrase, "content": {
                    problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's own error shape, never answered here
        components.pop(unused, None)
    app.openapi_schema = doc
    return doc


def serve_app() -> FastAPI:
    """What ``accord serve`` hands uvicorn (``factory=True``): settings from the environment, JSON logs."""
    settings = get_settings()
    logs.configure(settings.log_level)
    from accord.clocks.runner import in_server  # the scheduler and dispatcher run with the server

    from .key_retention import in_server as key_retention  # old idempotency keys are purged hourly

    for component in (in_server, key_retention):
        if component not in COMPONENTS:
            COMPONENTS.append(component)
    return create_app(settings)
