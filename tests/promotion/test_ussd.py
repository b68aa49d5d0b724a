"""USSD renewal: the automatic promotion is applied, told on the confirmation screen (within
the screen limits) and the wallet pays the promoted price."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.promotion.conftest import create_promotion
from tests.ussd.conftest import AtGateway, create_ussd_card, create_ussd_plans
from tulpar.kit.format import GB
from tulpar.models import Channel, DiscountKind, Notification, Order, PaymentProviderName
from tulpar.ussd.screens import fits
from tulpar.wallet import service as wallet_service


def _confirm_pages(gateway: AtGateway, pay_label: str) -> list[str]:
    screens = [gateway.dial(), gateway.press("1"), gateway.press("1")]
    while f"1 {pay_label}" not in screens[-1]:
        screens.append(gateway.press("0"))
    return screens


def test_the_confirmation_tells_the_promotion_and_the_wallet_pays_the_promoted_price(
    client: TestClient, session: Session
) -> None:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], wallet_minor=10_000_00, language="en")
    promotion = create_promotion(
        session,
        channels=["ussd"],
        effect_kind=DiscountKind.fixed,
        effect_value=500_00,
        bonus_data_bytes=1 * GB,
        plan_codes=["U-7D"],
    )
    assert card.msisdn is not None
    gateway = AtGateway(client, card.msisdn)

    screens = _confirm_pages(gateway, "Pay")
    paid = gateway.press("1")

    confirmation = "\n".join(screens[2:])
    assert "3000 KZT, until" in confirmation
    assert "Promotion Early bird: -500 KZT, +1 GB" in confirmation
    assert all(fits(screen) for screen in screens)
    assert paid.startswith("END Paid from your wallet.")
    order = session.scalars(select(Order)).one()
    assert (order.promotion_id, order.amount_minor, order.bonus_data_bytes) == (
        promotion.id,
        3_000_00,
        GB,
    )
    assert order.payment_provider == PaymentProviderName.wallet.value
    assert wallet_service.balance(session, card_id=card.id).amount_minor == 7_000_00


def test_the_chinese_confirmation_fits_the_ucs2_screens(
    client: TestClient, session: Session
) -> None:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], wallet_minor=10_000_00, language="zh-Hans")
    create_promotion(session, effect_kind=DiscountKind.none, bonus_days=2)
    assert card.msisdn is not None
    gateway = AtGateway(client, card.msisdn)

    screens = _confirm_pages(gateway, "支付")

    assert all(fits(screen) and len(screen) <= 80 for screen in screens), screens
    assert "优惠早鸟续费：+2天" in "".join(screens).replace("\n", "")


def test_a_payment_link_names_the_promoted_price_its_order_is_placed_at(
    client: TestClient, session: Session
) -> None:
    plans = create_ussd_plans(session)
    card = create_ussd_card(session, plan=plans[0], wallet_minor=1_000_00, language="en")
    # The link is paid on the web page: a web promotion is what the order will get.
    create_promotion(
        session,
        channels=["web"],
        payment_methods=["sandbox"],
        effect_kind=DiscountKind.fixed,
        effect_value=500_00,
    )
    create_promotion(session, channels=["ussd"], effect_value=50)  # not for the link
    assert card.msisdn is not None
    gateway = AtGateway(client, card.msisdn)

    screens = _confirm_pages(gateway, "Send payment link")
    gateway.press("1")

    assert "3000 KZT, until" in "\n".join(screens[2:])
    sms = session.scalars(
        select(Notification.body).where(Notification.template == "ussd_payment_link")
    ).one()
    assert sms.startswith("Tulpar: to pay 3,000 KZT for Test, open http")
    link = re.search(r"https?://[^\s/]+(/pay/link/\S+)", sms)
    assert link is not None
    assert client.get(link.group(1), follow_redirects=False).status_code == 303
    order = session.scalars(select(Order)).one()
    assert (order.amount_minor, order.channel) == (3_000_00, Channel.web)
