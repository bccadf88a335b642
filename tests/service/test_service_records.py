"""The record-request use case: the registry's profile decides, never the request's; tenancy as for detainers."""

from __future__ import annotations

import json

import pytest

from accord.domain import Agency, RecordRequest
from accord.errors import ConflictError, InputError, NotFoundError
from accord.service.actors import Actor, Forbidden
from accord.service.agencies import register_agency
from accord.service.records import get_record_request, list_record_requests, submit_record_request
from accord.service.store import Store
from helpers.service_world import ICE, POLICE, agency_actor, world

DMV = "ny-dmv"


@pytest.fixture
def store(db_url: str):
    with Store.open(db_url) as s:
        world(s)
        dmv = Agency.model_validate_json(json.dumps({"agency_id": DMV, "name": "NY DMV", "kind": "dmv",
                                                     "jurisdiction": "US-NY"}))
        with s.transaction() as uow:
            register_agency(uow, Actor.operator(), dmv, access_pack="ny_dmv")
        yield s


def _request(n: int, requester: str = ICE, purpose: str = "civil_immigration_enforcement") -> RecordRequest:
    return RecordRequest.model_validate_json(json.dumps({
        "request_id": f"rr-{n}", "requester_agency_id": requester, "custodian_agency_id": DMV,
        "record_kind": "dmv_standard_license", "subject_person_id": f"p-{n}", "purpose": purpose,
        "requested_at": "2024-03-04T15:00:00Z"}))


def test_decided_under_the_custodians_pack_on_the_registered_profile(store: Store) -> None:
    with store.transaction() as uow:
        view = submit_record_request(uow, agency_actor(ICE), _request(1))
    assert view.pack == "ny_dmv" and view.outcome == "deny" and view.notices
    decided = next(store.ledger.events(kind="access.decided"))
    assert decided.caused_by == view.requested_seq and decided.seq == view.decided_seq
    requested = next(store.ledger.events(kind="record.requested"))
    assert requested.payload["requester_agency_id"] == ICE
    with store.reading() as r:
        assert get_record_request(r, agency_actor(DMV), "rr-1") == view
        assert [v.request_id for v in list_record_requests(r, agency_actor(ICE))] == ["rr-1"]
        assert list_record_requests(r, agency_actor(POLICE)) == []
        with pytest.raises(NotFoundError):
            get_record_request(r, agency_actor(POLICE), "rr-1")
        assert [v.request_id for v in list_record_requests(r, Actor("user:a", None, frozenset({"auditor"})))] == ["rr-1"]


def test_refusals_name_the_field_and_write_nothing(store: Store) -> None:
    size = store.ledger.size
    with pytest.raises(NotFoundError):  # the police cannot ask in ICE's name
        with store.transaction() as uow:
            submit_record_request(uow, agency_actor(POLICE), _request(2, requester=ICE))
    with pytest.raises(InputError) as exc:  # only the custodian finds that a notice would impede an investigation
        with store.transaction() as uow:
            submit_record_request(uow, agency_actor(ICE), _request(3), notice_would_impede_investigation=True)
    assert exc.value.field == "notice_would_impede_investigation"
    with pytest.raises(InputError) as exc:
        with store.transaction() as uow:
            submit_record_request(uow, Actor.operator(), _request(4, requester="nobody"))
    assert exc.value.field == "requester_agency_id"
    with pytest.raises(Forbidden):
        with store.transaction() as uow:
            submit_record_request(uow, Actor("user:a", None, frozenset({"auditor"})), _request(5))
    assert store.ledger.size == size
    with store.transaction() as uow:
        submit_record_request(uow, agency_actor(DMV), _request(6), notice_would_impede_investigation=True)
    with pytest.raises(ConflictError):
        with store.transaction() as uow:
            submit_record_request(uow, agency_actor(ICE), _request(6))
