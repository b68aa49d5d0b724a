"""Typed business failures. Each has an HTTP status and a stable ``code``; the web layer maps
them once to RFC 9457 problem JSON."""

from __future__ import annotations

from typing import Any, ClassVar


class TulparError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)


class InvalidInputError(TulparError):
    status = 422
    code = "invalid_input"
    title = "Invalid input"


class InvalidIccidError(InvalidInputError):
    code = "invalid_iccid"
    title = "Invalid ICCID"


class InvalidEidError(InvalidInputError):
    code = "invalid_eid"
    title = "Invalid EID"


class InvalidMsisdnError(InvalidInputError):
    code = "invalid_msisdn"
    title = "Invalid phone number"


class InvalidActivationCodeError(InvalidInputError):
    code = "invalid_activation_code"
    title = "Invalid activation code"


class InvalidMoneyError(InvalidInputError):
    code = "invalid_money"
    title = "Invalid amount"


class InvalidCardReferenceError(InvalidInputError):
    code = "invalid_card"
    title = "Not a card number"


class CardNotFoundError(TulparError):
    # Same answer for "no such card" and "not yours": existence is never revealed.
    status = 404
    code = "card_not_found"
    title = "Card not found"


class CardAlreadyExistsError(TulparError):
    status = 409
    code = "card_exists"
    title = "Card already exists"


class PlanNotFoundError(TulparError):
    status = 404
    code = "plan_not_found"
    title = "Plan not found"


class CardNotRenewableError(TulparError):
    status = 409
    code = "card_not_renewable"
    title = "This card cannot be renewed"


class CardTerminatedError(CardNotRenewableError):
    code = "card_terminated"
    title = "This card's number has been recycled; it cannot be renewed"


class CardSuspendedError(CardNotRenewableError):
    code = "card_suspended"
    title = "This card is suspended"


class UnauthorizedError(TulparError):
    status = 401
    code = "unauthorized"
    title = "Missing or invalid credentials"


class ForbiddenError(TulparError):
    status = 403
    code = "forbidden"
    title = "Not allowed with these credentials"


class LedgerMismatchError(TulparError):
    status = 500
    code = "ledger_mismatch"
    title = "Balances do not match the ledger"
