"""Authorised stores: create (admin), list, read. A clerk or store manager sees only their
own store; anything of another is "not found" (see :func:`tulpar.auth.roles.ensure_same_store`).
A store's receipts are numbered under its issuer, ``Store.receipt_issuer`` (``STORE-ALA01``)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tulpar.audit import service as audit
from tulpar.auth import roles
from tulpar.auth.identity import Caller
from tulpar.errors import InvalidInputError, TulparError
from tulpar.models import Store
from tulpar.models.staff import STORE_CODE_PATTERN

_CODE = re.compile(STORE_CODE_PATTERN)
_BIN = re.compile(r"^[0-9]{12}$")


class StoreExistsError(TulparError):
    status = 409
    code = "store_exists"
    title = "A store with this code exists"


def create_store(
    session: Session,
    caller: Caller,
    *,
    code: str,
    name: str,
    city: str,
    address: str,
    opening_hours: str,
    legal_name: str,
    bin: str,  # the Kazakh business identification number, as on the receipt
) -> Store:
    """A new store (admin only), audited."""
    roles.require(caller, "stores.create")
    code = code.strip().upper()
    if not _CODE.match(code):
        raise InvalidInputError("A store code looks like ALA-01 (letters, a dash, digits)")
    if not _BIN.match(bin.strip()):
        raise InvalidInputError("A BIN is 12 digits")
    fields = {
        "name": name,
        "city": city,
        "address": address,
        "opening_hours": opening_hours,
        "legal_name": legal_name,
    }
    for label, value in fields.items():
        if not value.strip():
            raise InvalidInputError(f"The store's {label.replace('_', ' ')} is missing")
    if by_code(session, code) is not None:
        raise StoreExistsError()
    store = Store(code=code, bin=bin.strip(), **{k: v.strip() for k, v in fields.items()})
    try:
        with session.begin_nested():
            session.add(store)
            session.flush()
    except IntegrityError as error:
        raise StoreExistsError() from error
    audit.record(
        session,
        caller,
        "stores.create",
        subject=f"store:{store.id}",
        after={"code": code, "name": store.name, "bin": store.bin, "legal_name": legal_name},
    )
    return store


def list_stores(session: Session, caller: Caller) -> list[Store]:
    """Every store (admin), ordered by code."""
    roles.require(caller, "stores.list")
    return list(session.scalars(select(Store).order_by(Store.code)))


def get_store(session: Session, caller: Caller, store_id: int) -> Store:
    """One store: any for support and admin, only their own for a clerk or manager (404)."""
    roles.require(caller, "stores.view")
    roles.ensure_same_store(caller, store_id)
    store = session.get(Store, store_id)
    if store is None:
        raise roles.NotFoundError()
    return store


def own_store(session: Session, caller: Caller) -> Store:
    """The store a clerk or store manager works at (404 for a caller without one)."""
    if caller.store_id is None:
        raise roles.NotFoundError()
    return get_store(session, caller, caller.store_id)


def by_code(session: Session, code: str) -> Store | None:
    """The store with ``code`` (any case), without an authorisation check: for commands and
    services that decide access themselves."""
    return session.scalars(select(Store).where(Store.code == code.strip().upper())).one_or_none()


def authorised_stores(session: Session) -> list[Store]:
    """The stores open to the public (active ones), by city then name: what the public list
    of authorised stores shows, to anyone, without a caller."""
    query = select(Store).where(Store.active).order_by(Store.city, Store.name, Store.id)
    return list(session.scalars(query))
