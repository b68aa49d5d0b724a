"""Who may read a card's balance: partners any card, a traveller only their own; anything
else answers exactly as an unknown card does."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_active_card, create_plan, make_iccid
from tests.fixtures.payments import partner_headers, traveller_headers
from tulpar.partner import service as partner_service


def test_a_traveller_token_reads_its_own_balance_by_iccid_and_by_phone(
    client: TestClient, session: Session
) -> None:
    card, bundle = create_active_card(session, plan=create_plan(session))
    headers = traveller_headers(session, card)

    by_iccid = client.get(f"/v1/cards/{card.iccid}/balance", headers=headers)
    by_phone = client.get(f"/v1/cards/{card.msisdn}/balance", headers=headers)

    assert by_iccid.status_code == 200, by_iccid.text
    assert by_iccid.json() == by_phone.json()
    assert by_iccid.json()["iccid"] == card.iccid
    assert by_iccid.json()["data_bytes"]["remaining"] == bundle.data_bytes_remaining


def test_a_traveller_token_gets_404_for_another_card_like_for_no_card(
    client: TestClient, session: Session
) -> None:
    plan = create_plan(session)
    mine, _ = create_active_card(session, plan=plan)
    other, _ = create_active_card(session, plan=plan)
    headers = traveller_headers(session, mine)

    someone_else = client.get(f"/v1/cards/{other.iccid}/balance", headers=headers)
    nobody = client.get(f"/v1/cards/{make_iccid()}/balance", headers=headers)

    assert someone_else.status_code == nobody.status_code == 404
    assert someone_else.json()["code"] == nobody.json()["code"] == "card_not_found"
    assert someone_else.json()["detail"] == nobody.json()["detail"]


def test_partners_read_any_card_and_other_credentials_are_refused(
    client: TestClient, session: Session
) -> None:
    card, _ = create_active_card(session, plan=create_plan(session))
    _, carrier_key = partner_service.create_key(session, "Carrier", scopes=["carrier"])

    partner = client.get(f"/v1/cards/{card.iccid}/balance", headers=partner_headers(session))
    carrier = client.get(
        f"/v1/cards/{card.iccid}/balance", headers={"Authorization": f"Bearer {carrier_key}"}
    )
    anonymous = client.get(f"/v1/cards/{card.iccid}/balance")
    forged = client.get(
        f"/v1/cards/{card.iccid}/balance", headers={"Authorization": "Bearer tvt_forged"}
    )

    assert partner.status_code == 200
    assert carrier.status_code == 403
    assert anonymous.status_code == forged.status_code == 401
