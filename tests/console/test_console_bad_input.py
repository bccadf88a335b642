"""A person filling in a console form gets a page they can read, never the API's problem JSON."""

from __future__ import annotations

from helpers.console_world import OFFICER, csrf_of, sign_in, submit_case


def test_an_overlong_reason_gets_an_html_page_naming_the_field_and_records_nothing(console_api):
    submit_case(console_api.post, 1)
    sign_in(console_api.client, OFFICER)
    confirm = console_api.client.get("/console/detainers/det-1/lift")
    size = console_api.store.ledger.size
    r = console_api.client.post("/console/detainers/det-1/lift",
                                data={"csrf": csrf_of(confirm.text), "reason": "x" * 201})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "reason" in r.text and "200" in r.text  # names the field and the limit
    assert "Sign out" in r.text  # still the officer's console, signed in
    assert console_api.store.ledger.size == size


def test_a_malformed_address_gets_an_html_page(console_api):
    sign_in(console_api.client, OFFICER)
    r = console_api.client.get("/console/audit/proof/not-a-number")
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "seq" in r.text


def test_the_api_still_answers_problem_json_for_the_same_kind_of_error(console_api):
    r = console_api.get("jail", "/v1/audit/proof/not-a-number")
    assert r.status_code in (404, 422)
    assert r.headers["content-type"].startswith("application/problem+json")
