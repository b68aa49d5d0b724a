from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

# A recycled number may be on a terminated card and a live one: the live card wins.
_BY_MSISDN = """
    SELECT DISTINCT ON (msisdn) msisdn, id FROM cards WHERE msisdn = ANY (%b::text[])
    ORDER BY msisdn, state = 'terminated', id DESC
"""
_BY_ICCID = "SELECT iccid, id FROM cards WHERE iccid = ANY (%b::text[])"
_BY_IMSI = "SELECT imsi, id FROM cards WHERE imsi = ANY (%b::text[])"
_QUERIES = {"iccid": _BY_ICCID, "msisdn": _BY_MSISDN, "imsi": _BY_IMSI}


def card_ids(session: Session, by: str, values: Collection[str]) -> dict[str, int]:
    """Card ids for many ICCIDs, MSISDNs or IMSIs in one query (``by`` says which).

    Thousands of numbers per batch: they go as one array in PostgreSQL's binary format
    (``%b``, which text() statements cannot ask for), several times cheaper than as text."""
    if not values:
        return {}
    driver = session.connection().connection.driver_connection
    assert driver is not None  # a connection in use always has its driver connection
    with driver.cursor() as cursor:
        rows = cursor.execute(_QUERIES[by], [list(values)]).fetchall()
    return {str(value): int(card_id) for value, card_id in rows}
