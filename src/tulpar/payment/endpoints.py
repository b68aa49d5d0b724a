from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from tulpar.errors import TulparError
from tulpar.payment import inbox, sandbox_checkout
from tulpar.payment.sandbox_checkout import CheckoutPage
from tulpar.web.dependencies import DbSession

router = APIRouter(tags=["payments"])


@router.post("/webhooks/sandbox")
async def sandbox_webhook(request: Request, session: DbSession) -> dict[str, bool]:
    """Signed events from the sandbox provider (``Sandbox-Signature: t=…,v1=…``)."""
    body = await request.body()
    # Database work off the event loop: the inbox is hit hardest when a provider retries.
    stored = await run_in_threadpool(inbox.receive, session, "sandbox", body, request.headers)
    return {"received": True, "duplicate": not stored}


@router.post("/webhooks/stripe")
async def stripe_webhook(request: Request, session: DbSession) -> dict[str, bool]:
    """Stripe events, verified with the official SDK (``Stripe-Signature``, 300 s)."""
    body = await request.body()
    stored = await run_in_threadpool(inbox.receive, session, "stripe", body, request.headers)
    return {"received": True, "duplicate": not stored}


@router.get("/pay/sandbox/{reference}", include_in_schema=False)
def sandbox_pay_page(reference: str, session: DbSession) -> HTMLResponse:
    try:
        checkout = sandbox_checkout.page(session, reference)
    except TulparError as error:
        return HTMLResponse(_layout(escape(error.title)), status_code=error.status)
    return HTMLResponse(_layout(_page_body(checkout)))


@router.post("/pay/sandbox/{reference}", include_in_schema=False)
def sandbox_pay_decision(
    reference: str, session: DbSession, decision: Annotated[str, Form()]
) -> RedirectResponse:
    sandbox_checkout.decide(session, reference, pay=decision == "pay")
    return RedirectResponse(f"/pay/sandbox/{reference}", status_code=303)


def _page_body(checkout: CheckoutPage) -> str:
    equivalents = "".join(
        f"<li>≈ {escape(money.format('zh-Hans'))}</li>" for money in checkout.equivalents
    )
    header = (
        f"<h1>{escape(checkout.amount.format('en'))}</h1>"
        f"<p>{escape(checkout.description)} · 订单 Order {checkout.order_id}</p>"
        f"<ul>{equivalents}</ul>"
    )
    if checkout.decision is not None:
        done = "已支付 Paid" if checkout.decision.value == "paid" else "已拒绝 Declined"
        return header + f'<p class="result">{done}</p>'
    if not checkout.payable:
        return header + "<p>此付款已结束 This payment is closed.</p>"
    return header + (
        '<form method="post">'
        '<button name="decision" value="pay">支付 Pay</button> '
        '<button name="decision" value="decline">拒绝 Decline</button>'
        "</form>"
    )


def _layout(body: str) -> str:
    return (
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Tulpar sandbox payment</title></head>"
        f"<body><p>Tulpar sandbox · 测试支付</p>{body}</body></html>"
    )
