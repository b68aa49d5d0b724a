from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import text
from sqlalchemy.orm import Session

# A recycled number may be on a terminated card and a live one: the live card wins.
_BY_MSISDN = text(
    """
    SELECT DISTINCT ON (msisdn) msisdn, id FROM cards WHERE msisdn = ANY (:values)
    ORDER BY msisdn, state = 'terminated', id DESC
    """
)
_BY_ICCID = text("SELECT iccid, id FROM cards WHERE iccid = ANY (:values)")
_BY_IMSI = text("SELECT imsi, id FROM cards WHERE imsi = ANY (:values)")
_QUERIES = {"iccid": _BY_ICCID, "msisdn": _BY_MSISDN, "imsi": _BY_IMSI}


def card_ids(session: Session, by: str, values: Collection[str]) -> dict[str, int]:
    """Card ids for many ICCIDs, MSISDNs or IMSIs in one query (``by`` says which)."""
    if not values:
        return {}
    rows = session.execute(_QUERIES[by], {"values": list(values)})
    return {str(value): int(card_id) for value, card_id in rows}
