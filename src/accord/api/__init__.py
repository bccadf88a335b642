"""accord.api — the agencies' HTTP API (FastAPI) over the application layer ``accord.service``.

``create_app(settings)`` (in ``app.py``) builds the app; ``accord serve`` runs it with uvicorn.
Routes only parse, call ``accord.service`` and map its answers and errors (``problems.py``).
Importing this package imports nothing heavy: ``tokens.py`` is used by the CLI too.
"""
