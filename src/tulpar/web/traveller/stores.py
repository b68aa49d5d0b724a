"""The public list of authorised stores, by city: the traveller's answer to "is this shop
official?", beside receipt verification (``/verify``). No sign-in; each store's map link is
a plain search link the traveller opens, nothing is fetched or embedded."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from tulpar.kit.session import DbSession
from tulpar.models import Store
from tulpar.store import service as store_service
from tulpar.web.traveller.pages import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAP_SEARCH = "https://www.openstreetmap.org/search"


@dataclass(frozen=True, slots=True)
class City:
    name: str
    stores: list[Store]


def map_link(store: Store) -> str:
    """A map search for the store's address (OpenStreetMap, opened by the traveller)."""
    return MAP_SEARCH + "?" + urlencode({"query": f"{store.address}, {store.city}"})


def by_city(stores: list[Store]) -> list[City]:
    """Stores grouped by city, in the order given (the service sorts by city, then name)."""
    return [City(name, list(group)) for name, group in groupby(stores, key=lambda s: s.city)]


@router.get("/stores")
def stores_page(request: Request, session: DbSession) -> Response:
    stores = store_service.authorised_stores(session)
    return render(request, "stores.html", cities=by_city(stores), map_link=map_link)
