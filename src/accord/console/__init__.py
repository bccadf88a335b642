"""The officers' console: server-rendered pages under ``/console`` of the API's FastAPI app.

Officers (bound to one custodian agency) and auditors (read-only, every agency) sign in with a
password (``accord users add``). Every page reads and every button writes through the
application layer (:mod:`accord.service`) with the signed-in user as the actor, so the console
applies the same law, lifecycle and tenancy as the HTTP API. Templates, CSS and the one small
script (the countdown) ship inside this package: no CDN, no front-end build.
"""
