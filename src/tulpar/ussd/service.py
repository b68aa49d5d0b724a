"""USSD dialogues, whatever the gateway: who is dialling (the network proves the number), where
their dialogue stands, the inputs since, and the screen to answer with.

Gateways differ in one way only: the Africa's Talking kind sends every input so far
(:func:`answer_path`), the JSON kind only the newest (:func:`answer_input`). Either way the
dialogue is kept in ``ussd_sessions``, locked per request, so a repeated request gets the
stored answer and a repeated "pay" places nothing twice. Refusals write nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tulpar import clock
from tulpar.card import service as card_service
from tulpar.errors import CardNotFoundError, InvalidInputError
from tulpar.kit.languages import DEFAULT_LANGUAGE, supported
from tulpar.models import Card, CardState, UssdSession
from tulpar.ussd import actions, facts, menu, repository
from tulpar.ussd.screens import END
from tulpar.ussd.settings import get_ussd_settings
from tulpar.ussd.texts import Ending

AFRICASTALKING = "africastalking"
JSON = "json"

PURGE_EVERY = timedelta(seconds=10)
MAX_PATH = 160  # characters of inputs in one dialogue: far beyond any real walk of the menu
_ENTRY = re.compile(r"[0-9]{0,6}")


@dataclass(frozen=True, slots=True)
class Dial:
    """Who dialled what, as the gateway told us."""

    gateway: str
    session_id: str
    msisdn: str
    service_code: str


def answer_path(session: Session, dial: Dial, text: str) -> menu.Screen:
    """Answer a request that carries every input so far joined by ``*`` (empty at first)."""
    caller = _caller(session, dial)
    if isinstance(caller, menu.Screen):
        return caller
    card, language = caller
    now = clock.now()
    if text == "":
        return _open(session, dial, card, language, now=now)
    dialogue = repository.lock(session, dial.gateway, dial.session_id)
    if dialogue is None or dialogue.expires_at <= now or dialogue.card_id != card.id:
        return _ended(Ending.session_expired, language)
    if text == dialogue.path or dialogue.path.startswith(text + "*"):
        return _stored(dialogue)  # the gateway repeats a request we answered
    if dialogue.path and not text.startswith(dialogue.path + "*"):
        return _ended(Ending.not_understood, language)
    entries = _entries(text[len(dialogue.path) + 1 :] if dialogue.path else text, text)
    if entries is None:
        return _ended(Ending.not_understood, language)
    return _advance(session, dialogue, card, language, entries, path=text, now=now)


def answer_input(session: Session, dial: Dial, entry: str | None) -> menu.Screen:
    """Answer a request that carries only the newest input. A session we do not know (or
    that expired) opens the menu; its input, often the dialled code itself, is not a choice."""
    caller = _caller(session, dial)
    if isinstance(caller, menu.Screen):
        return caller
    card, language = caller
    now = clock.now()
    dialogue = repository.lock(session, dial.gateway, dial.session_id)
    if dialogue is None or dialogue.expires_at <= now:
        return _open(session, dial, card, language, now=now)
    if dialogue.card_id != card.id:
        return _ended(Ending.session_expired, language)
    text = entry or ""
    path = f"{dialogue.path}*{text}" if dialogue.path else text
    entries = _entries(text, path)
    if entries is None:
        return _ended(Ending.not_understood, language)
    return _advance(session, dialogue, card, language, entries, path=path, now=now)


def refusal(ending: Ending, language: str = DEFAULT_LANGUAGE) -> menu.Screen:
    """An END screen for what a gateway adapter refuses itself (a malformed request)."""
    return _ended(ending, language)


def _caller(session: Session, dial: Dial) -> tuple[Card, str] | menu.Screen:
    """The card dialling and its language, or the END screen that refuses the request."""
    card = _card(session, dial.msisdn)
    language = supported(card.language) if card is not None else DEFAULT_LANGUAGE
    if dial.service_code.strip() not in get_ussd_settings().codes:
        return _ended(Ending.unknown_service, language)
    if card is None:
        return _ended(Ending.unknown_number, language)
    match card_service.effective_state(card, now=clock.now()):
        case CardState.terminated:
            return _ended(Ending.card_terminated, language)
        case CardState.suspended:
            return _ended(Ending.card_suspended, language)
    return card, language


def _card(session: Session, msisdn: str) -> Card | None:
    # Not a phone number at all and no card for it get the same answer.
    try:
        return card_service.find(session, msisdn)
    except (CardNotFoundError, InvalidInputError):
        return None


def _entries(new: str, path: str) -> list[str] | None:
    """The inputs in ``new`` (a traveller may type ``1*2`` at once); ``None`` when they are
    not menu inputs at all or the dialogue has grown beyond any real one."""
    entries = new.split("*")
    if len(path) > MAX_PATH or not all(_ENTRY.fullmatch(entry) for entry in entries):
        return None
    return entries


def _open(session: Session, dial: Dial, card: Card, language: str, *, now: datetime) -> menu.Screen:
    """The first screen of a dialogue: the balance, at once."""
    _purge_now_and_then(session, now=now)
    state = menu.Home()
    screen = _present(session, card, state, language)
    started = repository.start(
        session,
        {
            "gateway": dial.gateway,
            "session_id": dial.session_id,
            "card_id": card.id,
            "msisdn": card.msisdn or dial.msisdn,
            "state": _kept(state, screen),
            "path": "",
            "screen": screen.reply,
            "order_id": None,
            "created_at": now,
            "updated_at": now,
            "expires_at": _expiry(now),
        },
        now=now,
    )
    if not started:  # a live dialogue holds this id: a repeated first request
        dialogue = repository.lock(session, dial.gateway, dial.session_id)
        if dialogue is not None and dialogue.path == "":
            return _stored(dialogue)
    return screen


_last_purge: list[datetime] = []  # per process: when expired dialogues were last forgotten


def _purge_now_and_then(session: Session, *, now: datetime) -> None:
    """Expired dialogues are forgotten as new ones start, at most every few seconds per
    process (a batch each time), so a dial rarely pays for it and the table stays small."""
    if _last_purge and abs(now - _last_purge[0]) < PURGE_EVERY:
        return
    repository.purge_expired(session, now=now)
    _last_purge[:] = [now]


def _advance(
    session: Session,
    dialogue: UssdSession,
    card: Card,
    language: str,
    entries: list[str],
    *,
    path: str,
    now: datetime,
) -> menu.Screen:
    if dialogue.screen.startswith(END):
        return _stored(dialogue)  # over: a late input gets the last answer again
    try:
        state, choices = _restored(dialogue.state)
    except (KeyError, TypeError, ValueError):
        return _ended(Ending.session_expired, language)
    screen: menu.Screen | None = None
    for entry in entries:
        target = choices.get(entry)
        if target is None:
            notice = menu.invalid_choice(language)
            screen = _present(session, card, state, language, notice=notice)
        else:
            if isinstance(target, menu.Pay | menu.SendDetails | menu.SetLanguage):
                state = actions.perform(session, dialogue, card, target)
                language = supported(card.language)
            else:
                state = target
            screen = _present(session, card, state, language)
        choices = screen.choices
        if screen.ends:
            break
    assert screen is not None  # there is always at least one entry
    dialogue.state = _kept(state, screen)
    dialogue.path = path
    dialogue.screen = screen.reply
    dialogue.updated_at = now
    dialogue.expires_at = _expiry(now)
    session.flush()
    return screen


def _present(
    session: Session, card: Card, state: menu.State, language: str, *, notice: str | None = None
) -> menu.Screen:
    return menu.present(
        state,
        facts.for_state(session, card, state),
        language,
        service_code=get_ussd_settings().primary_code,
        notice=notice,
    )


def _kept(state: menu.State, screen: menu.Screen) -> dict[str, Any]:
    # The choices of the screen the traveller saw, so a key means what that screen said.
    return {
        "state": menu.encode(state),
        "choices": {key: menu.encode(target) for key, target in screen.choices.items()},
    }


def _restored(kept: dict[str, Any]) -> tuple[menu.State, Mapping[str, menu.Target]]:
    state = menu.decode(kept["state"])
    if isinstance(state, menu.Pay | menu.SendDetails | menu.SetLanguage):
        raise ValueError("an action is not a state")
    return state, {key: menu.decode(target) for key, target in kept["choices"].items()}


def _stored(dialogue: UssdSession) -> menu.Screen:
    ends = dialogue.screen.startswith(END)
    return menu.Screen(dialogue.screen[len(END if ends else "CON ") :], ends=ends)


def _ended(ending: Ending, language: str) -> menu.Screen:
    return menu.ended(menu.Ended(ending), language, service_code=get_ussd_settings().primary_code)


def _expiry(now: datetime) -> datetime:
    return now + timedelta(seconds=get_ussd_settings().session_ttl_seconds)
