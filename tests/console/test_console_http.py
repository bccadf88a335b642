"""The console over the ASGI app: sign-in, sessions, CSRF, lock-out, tenancy and the release flow."""

from __future__ import annotations

import re

from helpers.console_world import AUDITOR, OFFICER, OTHER, PASSWORD, csrf_of, sign_in, submit_case

from .conftest import fresh_client


def test_pages_need_sign_in(console_api):
    r = console_api.client.get("/console/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in"


def test_sign_in_sets_a_strict_cookie_and_shows_the_queue(console_api):
    r = sign_in(console_api.client, OFFICER)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "accord_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # loopback: a plain-http test server still works
    page = console_api.client.get("/console/queue")
    assert page.status_code == 200 and "Signed in as <strong>olive</strong>" in page.text


def test_cookie_is_secure_outside_loopback(console_api):
    client = fresh_client(console_api, "https://console.example.test")
    r = sign_in(client, OFFICER)
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_wrong_password_and_unknown_user_read_the_same(console_api):
    wrong = sign_in(console_api.client, OFFICER, "not-the-password-at-all")
    nobody = sign_in(fresh_client(console_api), "nobody-here", "not-the-password-at-all")
    assert wrong.status_code == nobody.status_code == 401
    assert "wrong user name or password" in wrong.text and "wrong user name or password" in nobody.text


def test_lock_out_after_repeated_failures_even_with_the_right_password(console_api):
    for _ in range(3):  # the fixture sets ACCORD_CONSOLE_LOCKOUT_FAILURES=3
        assert sign_in(console_api.client, OFFICER, "not-the-password-at-all").status_code == 401
    r = sign_in(console_api.client, OFFICER, PASSWORD)
    assert r.status_code == 401 and "locked" in r.text
    assert sign_in(fresh_client(console_api), AUDITOR).status_code == 303  # other accounts are not locked


def test_sign_in_form_without_its_token_is_refused(console_api):
    console_api.client.get("/console/sign-in")
    r = console_api.client.post("/console/sign-in", data={"username": OFFICER, "password": PASSWORD},
                                follow_redirects=False)
    assert r.status_code == 403 and "accord_session" not in r.headers.get("set-cookie", "")


def test_form_without_csrf_token_is_refused_and_records_nothing(console_api):
    submit_case(console_api.post, 1)
    sign_in(console_api.client, OFFICER)
    size = console_api.store.ledger.size
    r = console_api.client.post("/console/detainers/det-1/release", data={"reason": "bail_posted"})
    assert r.status_code == 403 and "Nothing was recorded" in r.text
    r = console_api.client.post("/console/detainers/det-1/release", data={"reason": "bail_posted", "csrf": "forged"})
    assert r.status_code == 403
    assert console_api.store.ledger.size == size


def test_a_session_does_not_carry_over(console_api):
    sign_in(console_api.client, OFFICER)
    olive = console_api.client.cookies.get("accord_session")
    csrf = csrf_of(console_api.client.get("/console/queue").text)
    # another user signs in on the same browser: the old session ends, a new one begins
    r = sign_in(console_api.client, AUDITOR)
    audrey = r.cookies.get("accord_session")
    assert audrey and audrey != olive
    stale = fresh_client(console_api)
    stale.cookies.set("accord_session", olive, path="/console")
    assert stale.get("/console/queue", follow_redirects=False).status_code == 303
    # a signed-out session is dead on the server, not just forgotten by the browser
    console_api.client.post("/console/sign-out", data={"csrf": csrf_of(console_api.client.get("/console/queue").text)})
    replay = fresh_client(console_api)
    replay.cookies.set("accord_session", audrey, path="/console")
    assert replay.get("/console/queue", follow_redirects=False).status_code == 303
    assert csrf  # olive's token is no use to anyone now


def test_officer_sees_only_its_custodians_detainers(console_api):
    submit_case(console_api.post, 1)
    sign_in(console_api.client, OFFICER)
    assert "det-1" in console_api.client.get("/console/queue").text
    other = fresh_client(console_api)
    sign_in(other, OTHER)
    assert "det-1" not in other.get("/console/queue").text
    assert other.get("/console/detainers/det-1").status_code == 404
    assert other.get("/console/detainers/det-1/release").status_code == 404
    assert other.get("/console/detainers/no-such").status_code == 404  # the same answer as for a stranger's


def test_auditor_sees_all_and_changes_nothing(console_api):
    submit_case(console_api.post, 1)
    client = fresh_client(console_api)
    sign_in(client, AUDITOR)
    page = client.get("/console/detainers/det-1")
    assert page.status_code == 200 and "Record release" not in page.text
    csrf = csrf_of(page.text)
    size = console_api.store.ledger.size
    r = client.post("/console/detainers/det-1/release", data={"reason": "bail_posted", "csrf": csrf})
    assert r.status_code == 403 and console_api.store.ledger.size == size


def test_release_through_the_console_is_written_with_the_officer_as_actor(console_api):
    submit_case(console_api.post, 1)
    sign_in(console_api.client, OFFICER)
    page = console_api.client.get("/console/detainers/det-1")
    assert "Record release" in page.text and "Citation" in page.text
    confirm = console_api.client.get("/console/detainers/det-1/release")
    r = console_api.client.post("/console/detainers/det-1/release",
                                data={"reason": "bail_posted", "csrf": csrf_of(confirm.text)}, follow_redirects=False)
    assert r.status_code == 303
    after = console_api.client.get(r.headers["location"]).text
    assert "closed: the person was released" in after and "Record release" not in after
    assert "Release notification to ice: <strong>owed" in after  # the decision allows notifying ICE
    ev = console_api.store.ledger.get(console_api.store.ledger.size)
    released = [e for e in console_api.store.ledger.events(kind="custody.released")]
    assert released and '"recorded_by":"user:olive"' in released[-1].payload_json
    assert ev.seq >= released[-1].seq


def test_queue_filters_and_search(console_api):
    for n in (1, 2):
        submit_case(console_api.post, n)
    sign_in(console_api.client, OFFICER)
    page = console_api.client.get("/console/queue", params={"booking": "bk-2"}).text
    assert "det-2" in page and "det-1" not in page
    state = re.search(r'<td>(hold allowed|notify at release|declined|decided in part|received)', page)
    assert state
    assert "det-1" in console_api.client.get("/console/queue", params={"action": "hold_past_release"}).text or \
        "det-1" in console_api.client.get("/console/queue", params={"action": "notify_release"}).text
    bad = console_api.client.get("/console/queue", params={"state": "released"})
    assert bad.status_code == 422 and "state must be one of" in bad.text


def test_every_page_renders_for_each_role(console_api):
    submit_case(console_api.post, 1)
    for user in (OFFICER, AUDITOR):
        client = fresh_client(console_api)
        sign_in(client, user)
        for path in ("/console/queue", "/console/detainers/det-1", "/console/notices", "/console/notices?show=all",
                     "/console/records", "/console/audit", "/console/audit?verify=1"):
            r = client.get(path)
            assert r.status_code == 200, (user, path, r.text[:300])
        assert "PASSED" in client.get("/console/audit?verify=1").text


def test_overdue_and_soon_due_are_marked_in_words_with_the_zone_named(console_api):
    from datetime import timedelta

    submit_case(console_api.post, 1)  # the example's dates: the hold ended in March 2024
    sign_in(console_api.client, OFFICER)
    page = console_api.client.get("/console/queue").text
    row = page[page.index('href="/console/detainers/det-1"'):].split("</tr>")[0]
    assert "OVERDUE" in row and "overdue by" in row and "(America/New_York)" in row
    deadline = console_api.get("jail", "/v1/detainers/det-1").json()["deadline"]
    from datetime import datetime

    at = datetime.fromisoformat(deadline.replace("Z", "+00:00"))
    console_api.store.clock = lambda: at - timedelta(hours=1)
    row = console_api.client.get("/console/queue").text
    row = row[row.index('href="/console/detainers/det-1"'):].split("</tr>")[0]
    assert "DUE SOON" in row and "1 h 00 min left" in row and "OVERDUE" not in row
    console_api.store.clock = lambda: at - timedelta(days=2)
    row = console_api.client.get("/console/queue").text
    row = row[row.index('href="/console/detainers/det-1"'):].split("</tr>")[0]
    assert "DUE SOON" not in row and "OVERDUE" not in row and "2 d 0 h left" in row


def test_a_notice_letter_opens_to_print_and_is_marked_sent_once(console_api):
    from datetime import datetime, timezone

    from accord.console.users import add_user
    from helpers.api_world import DMV, record_body

    body = record_body(1, requester="ice", purpose="criminal_immigration_enforcement")
    assert console_api.post("ice", "/v1/record-requests", body, key="r1").status_code == 201, "record request"
    add_user(console_api.store.engine, "dana", PASSWORD, "officer", DMV, datetime.now(timezone.utc))
    client = fresh_client(console_api)
    sign_in(client, "dana")
    records = client.get("/console/records").text
    assert "rr-1" in records and "criminal immigration enforcement" in records and "(America/New_York)" in records
    page = client.get("/console/notices").text
    assert "Open letter to print" in page
    notice_id = re.search(r'/console/notices/([^/"]+)/letter', page).group(1)
    letter = client.get(f"/console/notices/{notice_id}/letter")
    assert letter.status_code == 200 and "N.Y. VTL §201(12)(a)" in letter.text
    confirm = client.get(f"/console/notices/{notice_id}/sent")
    r = client.post(f"/console/notices/{notice_id}/sent", data={"csrf": csrf_of(confirm.text), "channel": "mail"},
                    follow_redirects=False)
    assert r.status_code == 303
    sent = [e for e in console_api.store.ledger.events(kind="notice.sent")]
    assert len(sent) == 1 and '"recorded_by":"user:dana"' in sent[0].payload_json
    again = client.post(f"/console/notices/{notice_id}/sent", data={"csrf": csrf_of(confirm.text), "channel": "mail"})
    assert again.status_code == 409 and "already recorded as sent" in again.text
    # the jail's officer cannot open the DMV's letter
    sign_in(console_api.client, OFFICER)
    assert console_api.client.get(f"/console/notices/{notice_id}/letter").status_code == 404


def test_transfer_and_lift_are_confirmed_and_written(console_api):
    for n in (1, 2):
        submit_case(console_api.post, n)
    sign_in(console_api.client, OFFICER)
    page = console_api.client.get("/console/detainers/det-1").text
    assert "Record transfer to the issuing agency" in page  # the decision allows a transfer at release
    confirm = console_api.client.get("/console/detainers/det-1/transfer")
    assert confirm.status_code == 200 and "handed to ice" in confirm.text
    r = console_api.client.post("/console/detainers/det-1/transfer", data={"csrf": csrf_of(confirm.text)})
    assert r.status_code == 200 and "closed: the person was handed to the issuing agency" in r.text
    assert console_api.get("jail", "/v1/detainers/det-1").json()["state"] == "transferred"
    confirm = console_api.client.get("/console/detainers/det-2/lift")
    r = console_api.client.post("/console/detainers/det-2/lift", data={"csrf": csrf_of(confirm.text), "reason": "ICE phoned"})
    assert r.status_code == 200 and "closed: the issuing agency lifted it" in r.text
    lifted = list(console_api.store.ledger.events(kind="detainer.lifted"))
    assert len(lifted) == 1 and '"reason":"ICE phoned"' in lifted[0].payload_json
    # a closed detainer offers no step, and a forged step is refused with the reason
    again = console_api.client.post("/console/detainers/det-2/lift", data={"csrf": csrf_of(confirm.text)})
    assert again.status_code == 409 and len(list(console_api.store.ledger.events(kind="detainer.lifted"))) == 1
