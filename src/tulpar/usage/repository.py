from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

# A recycled number may be on a terminated card and a live one: the live card wins.
_BY_MSISDN = """
    SELECT DISTINCT ON (msisdn) msisdn, id FROM cards WHERE msisdn = ANY (string_to_array(%s, ','))
    ORDER BY msisdn, state = 'terminated', id DESC
"""
_BY_ICCID = "SELECT iccid, id FROM cards WHERE iccid = ANY (string_to_array(%s, ','))"
_BY_IMSI = "SELECT imsi, id FROM cards WHERE imsi = ANY (string_to_array(%s, ','))"
_QUERIES = {"iccid": _BY_ICCID, "msisdn": _BY_MSISDN, "imsi": _BY_IMSI}


def card_ids(session: Session, by: str, values: Collection[str]) -> dict[str, int]:
    """Card ids for many ICCIDs, MSISDNs or IMSIs in one query (``by`` says which).

    Thousands of numbers per batch travel as one comma-joined text, split by the server: joining
    is one C call, where an array parameter is built element by element in Python. (The numbers
    are normalised digits and "+", never a comma.)"""
    if not values:
        return {}
    driver = session.connection().connection.driver_connection
    assert driver is not None  # a connection in use always has its driver connection
    with driver.cursor() as cursor:
        rows = cursor.execute(_QUERIES[by], [",".join(values)]).fetchall()
    return dict(rows)
