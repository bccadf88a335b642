"""The console's pages: an APIRouter under ``/console`` that only parses forms and calls the service.

Every page needs a signed-in user (else a redirect to the sign-in page); every POST needs the
session's CSRF token in its form (else 403, nothing written). Errors are HTML pages with the
status the API would answer: a detainer of another custodian is a 404, as if it did not exist.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.convertors import StringConvertor, register_url_convertor

from accord.errors import AccordError, ConflictError, InputError, NotFoundError
from accord.service.actors import Actor, Forbidden

from . import users
from .words import (ACTION_NAMES, DELIVERY_WORDS, EVENT_NAMES, MESSAGE_NAMES, OUTCOME_WORDS, REASON_WORDS, SHORT_STATES,
                    STATE_WORDS, STEP_WORDS)

_HERE = Path(__file__).parent
COOKIE = "accord_session"
PRE_COOKIE = "accord_signin"  # the sign-in form's CSRF token, before there is a session
PREFIX = "/console"
PAGE = 100

router = APIRouter(prefix=PREFIX, include_in_schema=False)


class PageError(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        self.status, self.title, self.message = status, title, message


class _SignInFirst(Exception):
    pass


@lru_cache(maxsize=1)
def _env():  # -> jinja2.Environment
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["words"] = lambda v, table: _word(table, v)
    return env


def _word(table: str, value: Any) -> str:
    tables = {"state": STATE_WORDS, "action": ACTION_NAMES, "outcome": OUTCOME_WORDS, "event": EVENT_NAMES,
              "step": STEP_WORDS, "reason": REASON_WORDS, "message": MESSAGE_NAMES, "short": SHORT_STATES, "delivery": DELIVERY_WORDS}
    v = str(value)
    return tables[table].get(v, v.replace("_", " "))


# -- time in the custodian's zone ------------------------------------------------------------

@lru_cache(maxsize=64)
def zone_of_pack(pack_id: str | None) -> ZoneInfo:
    if pack_id:
        try:
            from accord.law.pack import load_pack

            return load_pack(pack_id).tz
        except Exception:  # noqa: BLE001 - an unknown pack: UTC, named as such
            pass
    return ZoneInfo("UTC")


def local(at: datetime | None, tz: ZoneInfo) -> str:
    """``Tue 05 Mar 2024, 14:00 EST (America/New_York)``: the zone is always named."""
    if at is None:
        return "—"
    here = at.astimezone(tz)
    name = here.tzname()
    return f"{here:%a %d %b %Y, %H:%M} {name}" + ("" if name == tz.key else f" ({tz.key})")


def remaining(at: datetime | None, now: datetime) -> str:
    """``3 h 05 min left`` or ``overdue by 2 h 10 min`` (what the countdown script keeps current)."""
    if at is None:
        return "no deadline"
    secs = int((at - now).total_seconds())
    late, secs = secs < 0, abs(secs)
    d, rest = divmod(secs, 86400)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    text = (f"{d} d {h} h" if d else f"{h} h {m:02d} min" if h else f"{m} min")
    return f"overdue by {text}" if late else f"{text} left"


SOON = timedelta(hours=4)


def urgency(at: datetime | None, now: datetime) -> str | None:
    if at is None:
        return None
    if at < now:
        return "overdue"
    if at - now <= SOON:
        return "soon"
    return None


# -- who is signed in ------------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    user: users.User
    csrf: str

    @property
    def actor(self) -> Actor:
        return self.user.actor


def _store(request: Request) -> Any:
    return request.app.state.store


def _now(request: Request) -> datetime:
    return _store(request).clock()


def _settings(request: Request) -> Any:
    return request.app.state.settings


def session(request: Request) -> Session:
    got = users.session_user(_store(request).engine, request.cookies.get(COOKIE), _now(request))
    if got is None:
        raise _SignInFirst()
    return Session(*got)


def check_csrf(sess_csrf: str, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sess_csrf.encode(), sent.encode()):
        raise PageError(403, "Form refused", "This form did not carry this session's security token "
                        "(it may have expired or come from another site). Nothing was recorded. "
                        "Go back, reload the page and try again.")


def _loopback(request: Request) -> bool:
    host = (request.url.hostname or "").strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PREFIX, httponly=True, samesite="lax",
                        secure=not _loopback(request))


def render(request: Request, name: str, status: int = 200, sess: Session | None = None, **ctx: Any) -> HTMLResponse:
    page = _env().get_template(name).render(request=request, session=sess, prefix=PREFIX, **ctx)
    resp = HTMLResponse(page, status_code=status)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Content-Security-Policy"] = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                               "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


def _call(fn: Callable[[], Any]) -> Any:
    """Run a service call; its errors become the page a person reads (never a traceback)."""
    try:
        return fn()
    except NotFoundError:
        raise PageError(404, "Not found", "There is nothing here that you may see. "
                        "Check the address, or go back to the queue.") from None
    except Forbidden:
        raise PageError(403, "Not allowed", "Your role may read this but not change it.") from None
    except ConflictError as exc:
        raise PageError(409, "Not recorded", str(exc)) from None
    except InputError as exc:
        raise PageError(422, "Not accepted", str(exc)) from None
    except AccordError as exc:
        raise PageError(400, "Not accepted", str(exc)) from None


# -- sign in and out -------------------------------------------------------------------------

@router.get("")
@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/queue", status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request, error: str | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    resp = render(request, "sign_in.html.j2", csrf=token, error=error, status=401 if error else 200)
    _cookie(resp, request, PRE_COOKIE, token, 600)
    return resp


@router.post("/sign-in")
def sign_in(request: Request, username: str = Form("", max_length=64), password: str = Form("", max_length=1024),
            csrf: str = Form("", max_length=100)) -> Response:
    check_csrf(request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(8), csrf)
    s = _settings(request)
    store, now = _store(request), _now(request)
    try:
        user = users.check_password(store.engine, username.strip(), password, now,
                                    max_failures=s.console_lockout_failures,
                                    lockout=timedelta(seconds=s.console_lockout_seconds))
    except users.SignInRefused as exc:
        return sign_in_page(request, error=str(exc))
    users.close_session(store.engine, request.cookies.get(COOKIE))  # a session never carries over to another sign-in
    cookie, _ = users.open_session(store.engine, user.username, now, timedelta(seconds=s.console_session_seconds))
    resp = RedirectResponse(f"{PREFIX}/queue", status_code=303)
    _cookie(resp, request, COOKIE, cookie, int(s.console_session_seconds))
    resp.delete_cookie(PRE_COOKIE, path=PREFIX)
    return resp


@router.post("/sign-out")
def sign_out(request: Request, csrf: str = Form("", max_length=100)) -> Response:
    sess = session(request)
    check_csrf(sess.csrf, csrf)
    users.close_session(_store(request).engine, request.cookies.get(COOKIE))
    resp = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    resp.delete_cookie(COOKIE, path=PREFIX)
    return resp


# -- pages -----------------------------------------------------------------------------------

def zone_of_agency(reader: Any, agency_id: str | None) -> ZoneInfo | None:
    """The zone of an agency's law (its detainer pack, else its records pack); None if it has neither."""
    from accord.service import schema

    row = reader.row(schema.agencies, agency_id) if agency_id else None
    if row is None:
        return None
    if row["law_pack"]:
        return zone_of_pack(row["law_pack"])
    if row["access_pack"]:
        try:
            from accord.access.packs import load_pack

            return load_pack(row["access_pack"]).timezone
        except Exception:  # noqa: BLE001 - an unknown pack: UTC, named as such
            return ZoneInfo("UTC")
    return None


def _officer_zone(reader: Any, actor: Actor) -> ZoneInfo | None:
    return zone_of_agency(reader, actor.agency_id)


@router.get("/queue")
def queue_page(request: Request, state: str = "", action: str = "", booking: str = "", after: str = "") -> HTMLResponse:
    from accord.service.queue import ACTIONS, OPEN_STATES, count_open, open_queue

    sess = session(request)
    store = _store(request)
    with store.reading() as r:
        now = r.now
        rows = _call(lambda: open_queue(r, sess.actor, state=state or None, action=action or None,
                                        booking_id=booking[:128] or None, limit=PAGE, after=after[:128] or None))
        total = count_open(r, sess.actor)
        tz = _officer_zone(r, sess.actor)
    items = []
    for row in rows:
        z = tz or zone_of_pack(row.pack_id)
        items.append({"row": row, "deadline": local(row.deadline, z), "left": remaining(row.deadline, now),
                      "urgency": urgency(row.deadline, now),
                      "iso": row.deadline.astimezone(timezone.utc).isoformat() if row.deadline else None})
    query = {k: v for k, v in (("state", state), ("action", action), ("booking", booking)) if v}
    more = f"{PREFIX}/queue?" + urlencode({**query, "after": rows[-1].request_id}) if len(rows) == PAGE else None
    return render(request, "queue.html.j2", sess=sess, items=items, total=total, states=OPEN_STATES, actions=ACTIONS,
                  state=state, action=action, booking=booking, more=more, now_local=local(now, tz or ZoneInfo("UTC")),
                  filtered=bool(query))


def _detainer(reader: Any, actor: Actor, request_id: str) -> Any:
    from accord.service.detainers import get_detainer

    view = _call(lambda: get_detainer(reader, actor, request_id))
    if not actor.sees_all and view.custodian_agency_id != actor.agency_id:  # an officer: its custodian's only
        raise PageError(404, "Not found", "There is nothing here that you may see. Check the address, or go back to the queue.")
    return view


def _timeline(reader: Any, view: Any, notices: list[Any], tz: ZoneInfo) -> list[dict[str, Any]]:
    from accord.service.detainer_events import detainer_stream

    ledger = reader.store.ledger
    streams = [detainer_stream(view.request_id), f"booking/{view.booking_id}"] + [f"notice/{n.notice_id}" for n in notices]
    seen: dict[int, Any] = {}
    for stream in streams:
        for ev in ledger.events(stream=stream, limit=500):
            seen[ev.seq] = ev
    out = []
    for seq in sorted(seen):
        ev = seen[seq]
        p = json.loads(ev.payload_json)
        by = p.get("recorded_by") if isinstance(p, dict) else None
        out.append({"seq": seq, "kind": ev.kind, "at": local(ev.recorded_at, tz), "stream": ev.stream, "by": by})
    return out


def _facts(view: Any) -> list[tuple[str, str]]:
    out = []
    for k, v in sorted((view.decision.facts if view.decision else {}).items()):
        out.append((k.replace("_", " "), "unknown" if v is None else
                    ("yes" if v is True else "no" if v is False else json.dumps(v) if isinstance(v, (list, dict)) else str(v))))
    return out


def _request_fields(reader: Any, view: Any, tz: ZoneInfo) -> list[tuple[str, str]]:
    ev = reader.event(view.detainer_seq)
    p = json.loads(ev.payload_json) if ev is not None else {}
    out = []
    for k, v in p.items():
        if k in ("recorded_by",):
            continue
        if isinstance(v, str) and k.endswith("_at") and len(v) >= 19:
            try:
                text = local(datetime.fromisoformat(v.replace("Z", "+00:00")), tz)
            except ValueError:
                text = v
        elif isinstance(v, dict):
            text = "; ".join(f"{a.replace('_', ' ')}: {'—' if b in (None, '') else b}" for a, b in v.items())
        elif isinstance(v, list):
            text = ", ".join(str(x).replace("_", " ") for x in v) or "none"
        elif isinstance(v, bool):
            text = "yes" if v else "no"
        else:
            text = "none" if v is None else str(v)
        out.append((k.replace("_", " "), text))
    return out


def _messages(reader: Any, actor: Actor, request_id: str) -> list[Any]:
    try:
        from accord.clocks.views import messages_about

        return messages_about(reader, actor, request_id)
    except Exception:  # noqa: BLE001 - a store without the clocks' tables: no messages to show
        return []


STEPS = ("release", "transfer", "lift", "cancel")


class _StepConvertor(StringConvertor):
    """A path segment that is one of :data:`STEPS`, so ``/detainers/{request_id:path}/{step:step}`` takes
    ``NYC/1/release`` as detainer ``NYC/1``, step ``release``, and leaves ``NYC/1`` to the detainer's page."""

    regex = "|".join(STEPS)


register_url_convertor("step", _StepConvertor())

RELEASE_REASONS = ("bail_posted", "released_on_recognizance", "charges_dismissed", "sentence_served", "acquitted",
                   "transferred_other")


def _step_allowed(view: Any, step: str, actor: Actor) -> None:
    """(``step`` is one of :data:`STEPS`: the routes' ``step`` segment matches nothing else.)"""
    if not actor.writes:
        raise PageError(403, "Not allowed", "Your role may read this but not change it.")
    if step not in view.steps:
        raise PageError(409, "Not allowed now", f"The law and the detainer's state do not allow this step now "
                        f"(it is {_word('state', view.state.value)}).")


@router.get("/detainers/{request_id:path}/{step:step}")
def confirm_page(request: Request, request_id: str, step: str) -> HTMLResponse:
    sess = session(request)
    with _store(request).reading() as r:
        view = _detainer(r, sess.actor, request_id[:128])
        _step_allowed(view, step, sess.actor)
        tz = zone_of_pack(view.decision.pack_id if view.decision else None)
        now = r.now
    return render(request, "confirm.html.j2", sess=sess, d=view, step=step, now_local=local(now, tz),
                  reasons=RELEASE_REASONS)


@router.post("/detainers/{request_id:path}/{step:step}")
def do_step(request: Request, request_id: str, step: str, csrf: str = Form("", max_length=100),
            reason: str = Form("", max_length=200)) -> Response:
    from accord.domain import DetainerLifted, Release
    from accord.service import detainers

    sess = session(request)
    check_csrf(sess.csrf, csrf)
    actor = sess.actor
    store = _store(request)
    with store.reading() as r:
        view = _detainer(r, actor, request_id[:128])
        _step_allowed(view, step, actor)
    now = store.clock()

    def write() -> None:
        with store.transaction() as uow:
            if step in ("release", "transfer"):
                if step == "release" and reason not in RELEASE_REASONS:
                    raise InputError("choose why the person is released", field="reason")
                rel = Release.model_validate({
                    "booking_id": view.booking_id, "person_id": view.person_id, "released_at": now,
                    "reason": "transferred_to_immigration" if step == "transfer" else reason,
                    "to_agency_id": view.issuing_agency_id if step == "transfer" else None,
                    "detainer_request_id": view.request_id if step == "transfer" else None, "recorded_by": actor.id},
                    strict=False)
                detainers.record_release(uow, actor, rel)
            else:
                lifted = DetainerLifted.model_validate({"request_id": view.request_id, "lifted_at": now,
                                                        "reason": reason.strip(), "cancelled": step == "cancel",
                                                        "recorded_by": actor.id}, strict=False)
                detainers.lift_detainer(uow, actor, lifted)

    _call(write)
    return RedirectResponse(f"{PREFIX}/detainers/{view.request_id}?done={step}", status_code=303)


# Registered after the step pages: its ``path`` id ("NYC/2024/1" may hold "/") would also match ``…/release``.
@router.get("/detainers/{request_id:path}")
def detainer_page(request: Request, request_id: str, done: str = "") -> HTMLResponse:
    from accord.service.notices import list_notices

    sess = session(request)
    with _store(request).reading() as r:
        view = _detainer(r, sess.actor, request_id[:128])
        tz = zone_of_pack(view.decision.pack_id if view.decision else None)
        notices = list_notices(r, Actor.operator(), state=None, about_request_id=view.request_id)
        notices = [n for n in notices if sess.actor.may_see(n.owed_by_agency_id)]
        timeline = _timeline(r, view, notices, tz)
        messages = _messages(r, sess.actor, view.request_id)
        kept = r.store.ledger.checkpoints()
        request_fields = _request_fields(r, view, tz)
        now = r.now
    return render(request, "detainer.html.j2", sess=sess, d=view, tz=tz, local=lambda t: local(t, tz),
                  left=remaining(view.deadline, now), urgency=urgency(view.deadline, now),
                  iso=view.deadline.astimezone(timezone.utc).isoformat() if view.deadline else None,
                  facts=_facts(view), notices=notices, messages=messages, covered=kept[-1].size if kept else 0, timeline=timeline, request_fields=request_fields,
                  steps=view.steps if sess.actor.writes else [], done=done)


@router.get("/notices")
def notices_page(request: Request, show: str = "owed", done: str = "") -> HTMLResponse:
    from accord.service.notices import count_notices, list_notices

    sess = session(request)
    with _store(request).reading() as r:
        now = r.now
        got = list_notices(r, sess.actor, state=None if show == "all" else "sent" if show == "sent" else "owed",
                           overdue_at=now if show == "overdue" else None, limit=500)
        counts = count_notices(r, sess.actor, now)
        mine = _officer_zone(r, sess.actor)
        zones = {a: mine or zone_of_agency(r, a) or ZoneInfo("UTC") for a in {n.owed_by_agency_id for n in got}}
    tz = mine or ZoneInfo("UTC")
    items = [{"n": n, "due": local(n.due_by, zones[n.owed_by_agency_id]),
              "left": remaining(n.due_by, now) if n.state == "owed" else "sent",
              "urgency": urgency(n.due_by, now) if n.state == "owed" else None,
              "iso": n.due_by.astimezone(timezone.utc).isoformat() if n.state == "owed" else None,
              "sent": local(n.sent_at, zones[n.owed_by_agency_id]) if n.sent_at else None,
              "letter": n.recipient in ("subject", "subject_attorney_or_designee")} for n in got]
    return render(request, "notices.html.j2", sess=sess, items=items, counts=counts, show=show, done=done,
                  writes=sess.actor.writes, zone=tz.key if mine else None)


@router.get("/notices/{notice_id:path}/letter")
def letter_page(request: Request, notice_id: str) -> HTMLResponse:
    from accord.clocks.views import letter

    sess = session(request)
    with _store(request).reading() as r:
        html = _call(lambda: letter(r, sess.actor, notice_id[:128]))
    resp = HTMLResponse(html)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    return resp


@router.get("/notices/{notice_id:path}/sent")
def confirm_sent(request: Request, notice_id: str) -> HTMLResponse:
    from accord.service.notices import get_notice

    sess = session(request)
    if not sess.actor.writes:
        raise PageError(403, "Not allowed", "Your role may read this but not change it.")
    with _store(request).reading() as r:
        n = _call(lambda: get_notice(r, sess.actor, notice_id[:128]))
        tz = _officer_zone(r, sess.actor) or ZoneInfo("UTC")
        now = r.now
    return render(request, "confirm_sent.html.j2", sess=sess, n=n, due=local(n.due_by, tz), now_local=local(now, tz))


@router.post("/notices/{notice_id:path}/sent")
def mark_sent(request: Request, notice_id: str, csrf: str = Form("", max_length=100),
              channel: str = Form("mail", max_length=50)) -> Response:
    from accord.service.notices import mark_sent as service_mark_sent

    sess = session(request)
    check_csrf(sess.csrf, csrf)
    if channel not in ("mail", "hand", "email"):
        raise PageError(422, "Not accepted", "channel must be mail, hand or email")
    store = _store(request)

    def write() -> None:
        with store.transaction() as uow:
            service_mark_sent(uow, sess.actor, notice_id[:128], store.clock(), channel)

    _call(write)
    return RedirectResponse(f"{PREFIX}/notices?done={notice_id[:128]}", status_code=303)


@router.get("/records")
def records_page(request: Request, outcome: str = "", after: str = "") -> HTMLResponse:
    from accord.service.records import list_record_requests

    sess = session(request)
    with _store(request).reading() as r:
        rows = _call(lambda: list_record_requests(r, sess.actor, outcome=outcome if outcome in ("allow", "deny") else None,
                                                  limit=PAGE, after=after[:128] or None))
        mine = _officer_zone(r, sess.actor)
        zones = {a: mine or zone_of_agency(r, a) or ZoneInfo("UTC") for a in {x.custodian_agency_id for x in rows}}
    more = f"{PREFIX}/records?" + urlencode({**({"outcome": outcome} if outcome else {}), "after": rows[-1].request_id}) \
        if len(rows) == PAGE else None
    return render(request, "records.html.j2", sess=sess, rows=rows, outcome=outcome, more=more,
                  local=lambda t, agency: local(t, zones[agency]))


@router.get("/audit")
def audit_page(request: Request, verify: str = "") -> HTMLResponse:
    sess = session(request)
    store = _store(request)
    ledger = store.ledger
    with store.reading() as r:
        size = ledger.size
        kept = ledger.checkpoints()
        tz = _officer_zone(r, sess.actor) or ZoneInfo("UTC")
        recent = []
        if sess.actor.sees_all:
            for ev in ledger.events(after_seq=max(0, size - 50)):
                recent.append({"seq": ev.seq, "kind": ev.kind, "stream": ev.stream, "at": local(ev.recorded_at, tz)})
            recent.reverse()
    report = ledger.verify() if verify else None
    checkpoint = kept[-1] if kept else None
    signed_at = local(datetime.fromisoformat(checkpoint.created_at.replace("Z", "+00:00")), tz) if checkpoint else None
    return render(request, "audit.html.j2", sess=sess, size=size, checkpoint=checkpoint, report=report, recent=recent,
                  signed_at=signed_at,
                  covered=checkpoint.size if checkpoint else 0)


@router.get("/audit/proof/{seq}")
def proof_page(request: Request, seq: int) -> HTMLResponse:
    from accord.service.audit import prove

    sess = session(request)
    if not 1 <= seq <= 2**62:
        raise PageError(404, "Not found", "There is no such event.")
    with _store(request).reading() as r:
        proof = _call(lambda: prove(r, sess.actor, seq))
        ev = r.event(seq)
        tz = _officer_zone(r, sess.actor) or ZoneInfo("UTC")
    signed = local(datetime.fromisoformat(proof.checkpoint.created_at.replace("Z", "+00:00")), tz) if proof.checkpoint else None
    return render(request, "proof.html.j2", sess=sess, p=proof, kind=ev.kind if ev else "", signed=signed)


# -- mounting --------------------------------------------------------------------------------

async def _page_error(request: Request, exc: PageError) -> HTMLResponse:
    sess = None
    try:
        sess = session(request)
    except _SignInFirst:
        pass
    return render(request, "error.html.j2", status=exc.status, sess=sess, title=exc.title, message=exc.message)


async def _sign_in_first(request: Request, exc: _SignInFirst) -> Response:
    if request.method == "POST":
        return render(request, "error.html.j2", status=401, title="Signed out",
                      message="You are not signed in (or your sign-in has ended). Nothing was recorded. Sign in and try again.")
    return RedirectResponse(f"{PREFIX}/sign-in", status_code=303)


def _form_problems(exc: RequestValidationError) -> str:
    """What was wrong with a form field or an address, in words an officer reads (no JSON)."""
    from accord.api.problems import validation_problems

    named = [f"{e.field.removeprefix('body.')}: {e.problem}" for e in validation_problems(list(exc.errors()))]
    return "; ".join(named[:5]) or "the form or address was not understood"


def _html_for_console(previous: Callable[..., Any]) -> Callable[..., Any]:
    """The app's handler for invalid requests, answering a page instead on the console's own paths.

    FastAPI checks form fields and path parameters before a console handler runs (a reason over
    its length, a proof seq that is not a number); the API answers those with problem JSON, which
    an officer's browser would show raw."""
    async def handler(request: Request, exc: RequestValidationError) -> Response:
        path = request.url.path
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return await previous(request, exc)
        return await _page_error(request, PageError(422, "Not accepted", f"Nothing was recorded. {_form_problems(exc)}."))
    return handler


def install(app: FastAPI) -> None:
    """Mount the console at ``/console`` of ``app`` (its pages, CSS and script).

    After the API's error handlers (``api.problems.install``): it wraps their handler of invalid requests."""
    app.mount(f"{PREFIX}/static", StaticFiles(directory=_HERE / "static"), name="console-static")
    app.include_router(router)
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(_SignInFirst, _sign_in_first)
    previous = app.exception_handlers.get(RequestValidationError)
    if previous is not None:
        app.add_exception_handler(RequestValidationError, _html_for_console(previous))
