"""Back office: promotions (admin pages on the staff layout): the list with what each has
used of its limits, create, edit, deactivate and reactivate. Every change goes through
:mod:`tulpar.promotion.admin`, which checks the role and audits before and after."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request, Response

from tulpar.kit.session import DbSession
from tulpar.promotion import admin
from tulpar.promotion.admin import PromotionCodeTakenError, PromotionInvalidError
from tulpar.web.backoffice.promotions.form import CHANNELS, PAYMENT_METHODS, PromotionForm
from tulpar.web.backoffice.promotions.pages import render
from tulpar.web.staff.pages import StaffPageRoute, redirect
from tulpar.web.staff.session import StaffPage, require_staff_form, require_staff_page

router = APIRouter(
    prefix="/backoffice/promotions", route_class=StaffPageRoute, include_in_schema=False
)

Viewer = Annotated[StaffPage, Depends(require_staff_page("promotions.view"))]
Editor = Annotated[StaffPage, Depends(require_staff_page("promotions.edit"))]
EditForm = Annotated[StaffPage, Depends(require_staff_form("promotions.edit"))]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Fields = Annotated[PromotionForm, Form()]

__all__ = ["router"]


@router.get("")
def list_page(request: Request, session: DbSession, page: Viewer) -> Response:
    return render(
        request, "promotions.html", page=page, promotions=admin.listing(session, page.caller)
    )


@router.get("/new")
def new_page(request: Request, page: Editor) -> Response:
    return _form_page(request, page, PromotionForm(), promotion_id=None)


@router.post("")
def create(request: Request, session: DbSession, page: EditForm, fields: Fields) -> Response:
    try:
        promotion = admin.create(session, page.caller, fields.definition())
    except (PromotionInvalidError, PromotionCodeTakenError) as refused:
        session.rollback()
        return _form_page(request, page, fields, promotion_id=None, refused=refused)
    return redirect(request, f"/backoffice/promotions?saved={promotion.id}")


@router.get("/{promotion_id}")
def edit_page(promotion_id: Id, request: Request, session: DbSession, page: Editor) -> Response:
    promotion = admin.get(session, page.caller, promotion_id)
    return _form_page(request, page, PromotionForm.of(promotion), promotion_id=promotion.id)


@router.post("/{promotion_id}")
def update(
    promotion_id: Id, request: Request, session: DbSession, page: EditForm, fields: Fields
) -> Response:
    try:
        admin.update(session, page.caller, promotion_id, fields.definition())
    except (PromotionInvalidError, PromotionCodeTakenError) as refused:
        session.rollback()
        return _form_page(request, page, fields, promotion_id=promotion_id, refused=refused)
    return redirect(request, f"/backoffice/promotions?saved={promotion_id}")


@router.post("/{promotion_id}/active")
def set_active(
    promotion_id: Id,
    request: Request,
    session: DbSession,
    page: EditForm,
    active: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    admin.set_active(session, page.caller, promotion_id, active=active == "1")
    return redirect(request, "/backoffice/promotions")


def _form_page(
    request: Request,
    page: StaffPage,
    fields: PromotionForm,
    *,
    promotion_id: int | None,
    refused: PromotionInvalidError | PromotionCodeTakenError | None = None,
) -> Response:
    return render(
        request,
        "promotion_form.html",
        page=page,
        status_code=200 if refused is None else 422,
        fields=fields,
        promotion_id=promotion_id,
        refused=refused,
        refused_field=None if refused is None else refused.extra.get("field"),
        channels=CHANNELS,
        payment_methods=PAYMENT_METHODS,
    )
