"""Back office: the plan catalog (admin pages on the staff layout): the list with where each
plan stands and whether it has been sold, a plan's page with its audited history, create,
edit (prices only for ``catalog.change_price``), retire, and delete for a plan never sold.
Retire and delete ask first: their buttons lead to a confirm page, and only a POST that
carries its Confirm acts (any other shows that page again, nothing changed). Every change
goes through :mod:`tulpar.catalog.editing`, which checks the role, checks the plan and
audits before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import FileResponse

from tulpar.auth import roles
from tulpar.catalog import editing
from tulpar.catalog.editing import PlanRetiredError, PlanSoldError
from tulpar.catalog.rules import PlanRefusedError
from tulpar.kit.session import DbSession
from tulpar.web.backoffice.catalog.form import CHANNELS, CURRENCIES, RENEWAL_POLICIES, PlanForm
from tulpar.web.backoffice.catalog.pages import STATIC, render
from tulpar.web.staff.pages import StaffPageRoute, redirect
from tulpar.web.staff.session import StaffPage, require_staff_form, require_staff_page

router = APIRouter(
    prefix="/backoffice/catalog", route_class=StaffPageRoute, include_in_schema=False
)

Viewer = Annotated[StaffPage, Depends(require_staff_page("catalog.view"))]
Editor = Annotated[StaffPage, Depends(require_staff_page("catalog.edit"))]
EditForm = Annotated[StaffPage, Depends(require_staff_form("catalog.edit"))]
Code = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,32}$")]
Fields = Annotated[PlanForm, Form()]
Reason = Annotated[str, Form(max_length=500)]
# Sent only by the confirm page's Confirm button.
Confirmed = Annotated[str, Form(max_length=8)]
CONFIRMED = "yes"
PRICING = "catalog.change_price"
_ACTION_REFUSALS = (PlanSoldError, PlanRetiredError)

__all__ = ["router"]


@router.get("/static/{name}")
def static_file(name: Annotated[str, Path(pattern=r"^catalog\.css$")]) -> Response:
    return FileResponse(
        STATIC / name, media_type="text/css", headers={"Cache-Control": "max-age=300"}
    )


@router.get("")
def list_page(
    request: Request, session: DbSession, page: Viewer, deleted: str | None = None
) -> Response:
    return render(
        request,
        "catalog.html",
        page=page,
        plans=editing.listing(session, page.caller),
        may_create=roles.may(page.caller, "catalog.edit") and roles.may(page.caller, PRICING),
        deleted=deleted if deleted and len(deleted) <= 32 else None,
    )


@router.get("/new")
def new_page(request: Request, page: Editor) -> Response:
    roles.require(page.caller, PRICING)  # a new plan is priced by whoever creates it
    return _form_page(request, page, PlanForm(channels=list(CHANNELS)), code=None)


@router.post("")
def create(request: Request, session: DbSession, page: EditForm, fields: Fields) -> Response:
    try:
        plan = editing.create_plan(session, page.caller, fields.definition())
    except PlanRefusedError as refused:
        session.rollback()
        return _form_page(request, page, fields, code=None, refused=refused)
    return redirect(request, f"/backoffice/catalog/{plan.code}?saved=1")


@router.get("/{code}")
def plan_page(
    code: Code, request: Request, session: DbSession, page: Viewer, saved: str | None = None
) -> Response:
    return _plan_page(request, session, page, code, saved=bool(saved))


@router.get("/{code}/edit")
def edit_page(code: Code, request: Request, session: DbSession, page: Editor) -> Response:
    listed = editing.plan_for(session, page.caller, code)
    return _form_page(request, page, PlanForm.of(listed.plan), code=listed.plan.code)


@router.post("/{code}")
def update(
    code: Code, request: Request, session: DbSession, page: EditForm, fields: Fields
) -> Response:
    plan = editing.plan_for(session, page.caller, code).plan
    code = plan.code
    kept: dict[str, int] | None = None
    if not roles.may(page.caller, PRICING):
        # The form shows the prices read-only and sends none: the plan's own are kept.
        kept = {price.currency: price.amount_minor for price in plan.prices}
        fields = fields.with_prices_of(plan)
    try:
        editing.update_plan(session, page.caller, code, fields.definition(prices_minor=kept))
    except (PlanRefusedError, PlanRetiredError) as refused:
        session.rollback()
        return _form_page(request, page, fields, code=code, refused=refused)
    return redirect(request, f"/backoffice/catalog/{code}?saved=1")


@router.get("/{code}/retire")
def retire_page(code: Code, request: Request, session: DbSession, page: Editor) -> Response:
    return _confirm_page(request, session, page, code, "retire")


@router.post("/{code}/retire")
def retire(
    code: Code,
    request: Request,
    session: DbSession,
    page: EditForm,
    reason: Reason = "",
    confirmed: Confirmed = "",
) -> Response:
    if confirmed != CONFIRMED:
        return _confirm_page(request, session, page, code, "retire", reason=reason)
    try:
        plan = editing.retire_plan(session, page.caller, code, reason=reason.strip() or None)
    except _ACTION_REFUSALS as refused:
        session.rollback()
        return _plan_page(request, session, page, code, refused=refused)
    return redirect(request, f"/backoffice/catalog/{plan.code}?saved=1")


@router.get("/{code}/delete")
def delete_page(code: Code, request: Request, session: DbSession, page: Editor) -> Response:
    return _confirm_page(request, session, page, code, "delete")


@router.post("/{code}/delete")
def delete(
    code: Code, request: Request, session: DbSession, page: EditForm, confirmed: Confirmed = ""
) -> Response:
    if confirmed != CONFIRMED:
        return _confirm_page(request, session, page, code, "delete")
    try:
        editing.delete_plan(session, page.caller, code)
    except _ACTION_REFUSALS as refused:
        session.rollback()
        return _plan_page(request, session, page, code, refused=refused)
    return redirect(request, f"/backoffice/catalog?deleted={code.upper()}")


def _confirm_page(
    request: Request,
    session: DbSession,
    page: StaffPage,
    code: str,
    action: Literal["retire", "delete"],
    *,
    reason: str = "",
) -> Response:
    """Retire or delete asked first; a plan the action would be refused for gets its page
    with the refusal instead (the service still decides when the confirmed POST comes)."""
    listed = editing.plan_for(session, page.caller, code)
    if action == "retire" and listed.plan.retired_at is not None:
        return _plan_page(request, session, page, code, refused=PlanRetiredError())
    if action == "delete" and listed.sold:
        return _plan_page(request, session, page, code, refused=PlanSoldError())
    return render(
        request,
        "plan_confirm.html",
        page=page,
        plan=listed.plan,
        action=action,
        reason=reason,
        confirmed=CONFIRMED,
    )


def _plan_page(
    request: Request,
    session: DbSession,
    page: StaffPage,
    code: str,
    *,
    saved: bool = False,
    refused: PlanSoldError | PlanRetiredError | None = None,
) -> Response:
    listed = editing.plan_for(session, page.caller, code)
    return render(
        request,
        "plan.html",
        page=page,
        status_code=200 if refused is None else refused.status,
        listed=listed,
        plan=listed.plan,
        entries=editing.history(session, page.caller, listed.plan),
        moment=datetime.fromisoformat,  # the audit log keeps moments as ISO text
        may_edit=roles.may(page.caller, "catalog.edit"),
        saved=saved,
        refused=refused,
    )


def _form_page(
    request: Request,
    page: StaffPage,
    fields: PlanForm,
    *,
    code: str | None,
    refused: PlanRefusedError | PlanRetiredError | None = None,
) -> Response:
    problems = refused.problems if isinstance(refused, PlanRefusedError) else ()
    return render(
        request,
        "plan_form.html",
        page=page,
        status_code=200 if refused is None else refused.status,
        fields=fields,
        code=code,
        refused=refused,
        problems=problems,
        fields_with_problems={problem.field for problem in problems},
        may_price=roles.may(page.caller, PRICING),
        channels=CHANNELS,
        currencies=CURRENCIES,
        renewal_policies=RENEWAL_POLICIES,
    )
