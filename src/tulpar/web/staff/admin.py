"""The staff home and the pages that manage access: staff users, stores, the audit log.
Every decision is the services' (:mod:`tulpar.staff.service`, :mod:`tulpar.store.service`,
:mod:`tulpar.audit.service`); these handlers only read forms and render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tulpar.audit import service as audit_service
from tulpar.auth import roles
from tulpar.kit.session import DbSession
from tulpar.models import StaffRole
from tulpar.staff import service as staff_service
from tulpar.store import service as store_service
from tulpar.web.staff.pages import StaffPageRoute, redirect, render
from tulpar.web.staff.session import StaffPage, require_staff_form, require_staff_page

router = APIRouter(route_class=StaffPageRoute, include_in_schema=False)  # pages, not API

# Where each role works, linked from the staff home.
CONSOLES = {
    "clerk": [("/store/", "Store console")],
    "store_manager": [("/store/", "Store console"), ("/staff/users", "Staff")],
    "support": [
        ("/support/", "Support console"),
        ("/staff/audit", "Audit log"),
        ("/backoffice/reports", "Reports"),
        ("/backoffice/webhooks", "Partner webhooks"),
    ],
    "admin": [
        ("/support/", "Support console"),
        ("/staff/audit", "Audit log"),
        ("/staff/users", "Staff"),
        ("/staff/stores", "Stores"),
        ("/backoffice/catalog", "Catalog"),
        ("/backoffice/promotions", "Promotions"),
        ("/backoffice/reports", "Reports"),
        ("/backoffice/webhooks", "Partner webhooks"),
    ],
}

Home = Annotated[StaffPage, Depends(require_staff_page("staff.home"))]
UsersPage = Annotated[StaffPage, Depends(require_staff_page("users.list"))]
StoresPage = Annotated[StaffPage, Depends(require_staff_page("stores.list"))]
AuditPage = Annotated[StaffPage, Depends(require_staff_page("audit.read"))]
# A form: any signed-in staff member with a valid CSRF token; the service decides the rest.
FormPage = Annotated[StaffPage, Depends(require_staff_form())]


@router.get("/staff/", response_class=HTMLResponse)
@router.get("/staff", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, session: DbSession, page: Home) -> HTMLResponse:
    store = store_service.own_store(session, page.caller) if page.caller.store_id else None
    links = CONSOLES.get(page.caller.role or "", [])
    return render(request, "home.html", page=page, links=links, store=store)


@router.get("/staff/users", response_class=HTMLResponse)
def users(request: Request, session: DbSession, page: UsersPage) -> HTMLResponse:
    return _users_page(request, session, page)


def _users_page(
    request: Request, session: DbSession, page: StaffPage, *, error: str | None = None
) -> HTMLResponse:
    everyone = staff_service.list_users(session, page.caller)
    is_admin = page.caller.role == roles.ADMIN
    stores = store_service.list_stores(session, page.caller) if is_admin else []
    creatable = (
        [role.value for role in StaffRole]
        if is_admin
        else [StaffRole.clerk.value, StaffRole.store_manager.value]
    )
    return render(
        request,
        "users.html",
        page=page,
        users=everyone,
        stores=stores,
        creatable=creatable,
        error=error,
        status_code=422 if error else 200,
    )


@router.post("/staff/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    session: DbSession,
    page: FormPage,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form(max_length=24)],
    display_name: Annotated[str, Form(max_length=120)] = "",
    language: Annotated[str, Form(max_length=8)] = "en",
    store_id: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    staff_service.create_user(
        session,
        page.caller,
        username=username,
        password=password,
        role=role,
        store_id=store_id,
        display_name=display_name or None,
        language=language,
    )
    return redirect(request, "/staff/users")


@router.post("/staff/users/{staff_id}/disable")
def disable_user(
    request: Request,
    session: DbSession,
    page: FormPage,
    staff_id: int,
    reason: Annotated[str, Form(min_length=1, max_length=500)],
) -> RedirectResponse:
    staff_service.disable_user(session, page.caller, staff_id, reason=reason)
    return redirect(request, "/staff/users")


@router.post("/staff/users/{staff_id}/revoke")
def revoke_sessions(
    request: Request,
    session: DbSession,
    page: FormPage,
    staff_id: int,
    reason: Annotated[str, Form(min_length=1, max_length=500)],
) -> RedirectResponse:
    staff_service.revoke_sessions(session, page.caller, staff_id, reason=reason)
    return redirect(request, "/staff/users")


@router.get("/staff/stores", response_class=HTMLResponse)
def stores(request: Request, session: DbSession, page: StoresPage) -> HTMLResponse:
    listed = store_service.list_stores(session, page.caller)
    return render(request, "stores.html", page=page, stores=listed)


@router.post("/staff/stores")
def create_store(
    request: Request,
    session: DbSession,
    page: FormPage,
    code: Annotated[str, Form(max_length=12)],
    name: Annotated[str, Form(max_length=120)],
    city: Annotated[str, Form(max_length=80)],
    address: Annotated[str, Form(max_length=240)],
    opening_hours: Annotated[str, Form(max_length=500)],
    legal_name: Annotated[str, Form(max_length=200)],
    bin: Annotated[str, Form(max_length=12)],
) -> RedirectResponse:
    store_service.create_store(
        session,
        page.caller,
        code=code,
        name=name,
        city=city,
        address=address,
        opening_hours=opening_hours,
        legal_name=legal_name,
        bin=bin,
    )
    return redirect(request, "/staff/stores")


@router.get("/staff/audit", response_class=HTMLResponse)
def audit(
    request: Request,
    session: DbSession,
    page: AuditPage,
    action: Annotated[str | None, Query(max_length=64)] = None,
    subject: Annotated[str | None, Query(max_length=120)] = None,
    actor: Annotated[str | None, Query(max_length=120)] = None,
    before_id: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    filters = audit_service.AuditFilter(
        action=action or None, subject=subject or None, actor=actor or None, before_id=before_id
    )
    entries = audit_service.list_for(session, page.caller, filters)
    return render(request, "audit.html", page=page, entries=entries, filters=filters)
