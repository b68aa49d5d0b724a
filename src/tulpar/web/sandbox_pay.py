"""The sandbox payment provider's hosted pay page (demo and tests): the payer pays or
declines, and the sandbox sends its signed webhooks back to Tulpar. Where the sandbox is off
(always in production) the page does not exist: 404, and nothing is read or written."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse

from tulpar.config import get_settings
from tulpar.errors import TulparError
from tulpar.kit.format import formatter_for
from tulpar.kit.session import DbSession
from tulpar.payment import sandbox_checkout
from tulpar.payment.sandbox_checkout import CheckoutPage

router = APIRouter(tags=["payments"])


class SandboxOffError(TulparError):
    status = 404
    code = "not_found"
    title = "Not found"


@router.get("/pay/sandbox/{reference}", include_in_schema=False)
def sandbox_pay_page(reference: str, session: DbSession) -> HTMLResponse:
    if not get_settings().sandbox_enabled:
        return HTMLResponse(_layout("Not found"), status_code=404)
    try:
        checkout = sandbox_checkout.page(session, reference)
    except TulparError as error:
        return HTMLResponse(_layout(escape(error.title)), status_code=error.status)
    return HTMLResponse(_layout(_page_body(checkout)))


@router.post("/pay/sandbox/{reference}", include_in_schema=False)
def sandbox_pay_decision(
    reference: str, session: DbSession, decision: Annotated[str, Form()]
) -> RedirectResponse:
    if not get_settings().sandbox_enabled:
        raise SandboxOffError()
    sandbox_checkout.decide(session, reference, pay=decision == "pay")
    return RedirectResponse(f"/pay/sandbox/{reference}", status_code=303)


def _page_body(checkout: CheckoutPage) -> str:
    # The page is bilingual (Chinese first, as the payer most likely is): one money format.
    show = formatter_for("zh-Hans").money
    equivalents = "".join(
        f"<li>≈ {escape(show(money.amount_minor, money.currency))}</li>"
        for money in checkout.equivalents
    )
    header = (
        f"<h1>{escape(show(checkout.amount.amount_minor, checkout.amount.currency))}</h1>"
        f"<p>{escape(checkout.description)} · 订单 Order {checkout.order_id}</p>"
        f"<ul>{equivalents}</ul>"
    )
    back = _link(checkout.return_url, "返回订单 Back to your order")
    if checkout.decision is not None:
        if checkout.decision.value == "paid":
            done = "已支付 Paid. 正在开通套餐 The plan is being applied."
        else:
            done = (
                "已拒绝 Declined. 未扣款 Nothing was charged."
                " 您可以在订单页面重新支付 You can pay again from the order page."
            )
        return header + f'<p class="result" role="status">{done}</p>{back}'
    if not checkout.payable:
        return header + f"<p>此付款已结束 This payment is closed.</p>{back}"
    return header + (
        '<form method="post">'
        '<button name="decision" value="pay">支付 Pay</button> '
        '<button name="decision" value="decline">拒绝 Decline</button>'
        "</form>" + _link(checkout.cancel_url, "取消并返回 Cancel and go back")
    )


def _link(url: str | None, text: str) -> str:
    return "" if url is None else f'<p><a class="back" href="{escape(url)}">{text}</a></p>'


def _layout(body: str) -> str:
    return (
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>Tulpar sandbox payment</title><link rel="icon" href="data:,"></head>'
        f"<body><main><p>Tulpar sandbox · 测试支付</p>{body}</main></body></html>"
    )
