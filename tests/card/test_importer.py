from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_card, make_iccid
from tulpar.card import importer
from tulpar.errors import InvalidInputError
from tulpar.models import Card, Wallet

HEADER = "iccid,msisdn,imsi,eid,activation_code,language\n"


def _import(session: Session, text: str) -> importer.ImportReport:
    return importer.import_rows(session, importer.read_rows(io.StringIO(text)))


def _card_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Card)) or 0


def test_imports_good_rows_and_reports_bad_ones_by_line(session: Session) -> None:
    good_1, good_2, bad_luhn = make_iccid(9001), make_iccid(9002), make_iccid(9003)
    bad_luhn = bad_luhn[:-1] + str((int(bad_luhn[-1]) + 1) % 10)
    text = (
        HEADER
        + f"{good_1},+77011230001,401770000000001,,LPA:1$smdp.tulpar.kz$ABC-1,ru\n"
        + f"{bad_luhn},+77011230002,,,,\n"
        + f"{good_2},8 701 123 0003,,,,zh\n"
        + f"{make_iccid(9004)},+7 100 000 0000,,,,\n"
        + f"{make_iccid(9005)},+77011230005,,,LPA:9$x$y,\n"
        + f"{make_iccid(9006)},+77011230006,,,,fr\n"
        + f"{good_1},+77011230007,,,,\n"
    )

    report = _import(session, text)

    assert report.imported == 2
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "The ICCID check digit is wrong; please check the number"),
        (5, "This is not a valid phone number"),
        (6, "An activation code looks like LPA:1$smdp.example.com$MATCHING-ID"),
        (7, "language must be one of zh-Hans, ru, kk, en"),
        (8, f"A card with ICCID {good_1} already exists"),
    ]
    imported = {c.iccid: c for c in session.scalars(select(Card))}
    assert set(imported) == {good_1, good_2}
    assert imported[good_1].language == "ru"
    assert imported[good_1].imsi == "401770000000001"
    assert imported[good_1].activation_code == "LPA:1$smdp.tulpar.kz$ABC-1"
    assert imported[good_2].msisdn == "+77011230003"
    assert imported[good_2].language == "zh-Hans"
    assert session.scalar(select(func.count()).select_from(Wallet)) == 2


def test_a_number_already_in_use_is_refused_without_touching_the_owner(session: Session) -> None:
    owner = create_card(session, msisdn="+77011239999")
    report = _import(session, HEADER + f"{make_iccid(9100)},+77011239999,,,,\n")

    assert report.imported == 0
    assert [(e.line, e.message) for e in report.errors] == [
        (2, "The number +77011239999 belongs to another card")
    ]
    assert session.scalars(select(Card.iccid)).all() == [owner.iccid]


def test_a_wrong_header_imports_nothing(session: Session) -> None:
    with pytest.raises(InvalidInputError, match="missing: msisdn; unknown: phone"):
        _import(session, f"iccid,phone\n{make_iccid(9200)},+77011230001\n")
    assert _card_count(session) == 0


def test_a_row_with_extra_fields_is_rejected(session: Session) -> None:
    report = _import(session, HEADER + f"{make_iccid(9300)},+77011230301,,,,en,surplus\n")
    assert report.imported == 0
    assert [(e.line, e.message) for e in report.errors] == [
        (2, "this row has more fields than the header")
    ]
