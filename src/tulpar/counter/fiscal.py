"""Fiscal registration of store receipts. The intent (``pending``) is recorded with the sale;
the online cash register is called after commit (:func:`attempt`, first by the page that made
the sale, then by the ``counter.fiscal_register`` job, which retries with backoff while the
operator is down). The receipt shows the sign once it is ``registered``."""

from __future__ import annotations

import structlog
from sqlalchemy.orm import Session, sessionmaker

from tulpar.counter import repository
from tulpar.db import transaction
from tulpar.integrations.fiscal.protocol import FiscalError, FiscalReceipt, FiscalRegistered
from tulpar.integrations.fiscal.registry import fiscal_register, provider_name
from tulpar.jobs import defer_in_transaction
from tulpar.models import FiscalRegistration, FiscalState, Receipt, Store

log = structlog.get_logger()

REGISTER_TASK = "counter.fiscal_register"


def open_registration(session: Session, receipt: Receipt, store: Store) -> FiscalRegistration:
    """Record that ``receipt`` must be registered and queue the job (once per receipt)."""
    existing = repository.registration_of(session, receipt.id)
    if existing is not None:
        return existing
    registration = FiscalRegistration(
        receipt_id=receipt.id,
        store_id=store.id,
        state=FiscalState.pending,
        provider=provider_name(),  # "none" while no register is configured
        attempts=0,
    )
    session.add(registration)
    session.flush()
    defer_in_transaction(
        session,
        REGISTER_TASK,
        queueing_lock=f"fiscal:{registration.id}",
        registration_id=registration.id,
    )
    return registration


def attempt(registration_id: int, factory: sessionmaker[Session] | None = None) -> bool:
    """Register once now (no transaction open during the call). True once registered;
    raises :class:`FiscalError` (after recording it) when the operator refused."""
    with transaction(factory) as session:
        registration = repository.registration(session, registration_id)
        if registration is None or registration.state is FiscalState.registered:
            return registration is not None
        receipt = session.get(Receipt, registration.receipt_id)
        store = repository.store(session, registration.store_id)
        assert receipt is not None
        assert store is not None
        request = FiscalReceipt(
            number=receipt.number,
            seller_bin=store.bin,
            store_code=store.code,
            issued_at=receipt.issued_at,
            total_minor=receipt.total_minor,
            vat_minor=receipt.vat_minor,
            currency=receipt.currency,
            payment_method=receipt.payment_method,
        )
    try:  # no register configured (production, before a real one): a FiscalError, retried
        register = fiscal_register()
        registered = register.register(request)
    except FiscalError as error:
        _record(registration_id, None, str(error), factory)
        log.warning("fiscal.register_failed", registration_id=registration_id, error=str(error))
        raise
    _record(registration_id, registered, None, factory, provider=register.name)
    return True


def _record(
    registration_id: int,
    registered: FiscalRegistered | None,
    error: str | None,
    factory: sessionmaker[Session] | None,
    *,
    provider: str | None = None,
) -> None:
    with transaction(factory) as session:
        registration = repository.registration(session, registration_id, for_update=True)
        assert registration is not None
        if registration.state is FiscalState.registered:
            return
        registration.attempts += 1
        registration.last_error = error
        if registered is not None:
            registration.state = FiscalState.registered
            registration.provider = provider or registration.provider
            registration.fiscal_sign = registered.fiscal_sign
            registration.registration_number = registered.registration_number
            registration.registered_at = registered.registered_at
        session.flush()


def of_receipt(session: Session, receipt: Receipt) -> FiscalRegistration | None:
    return repository.registration_of(session, receipt.id)
