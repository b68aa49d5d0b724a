"""The store console's page kit: the staff layout (tulpar.web.staff) with this console's
templates and catalogues (locales/) first, then the staff and traveller ones, the staff
user's language, and the print view's own CSS and script (served from here: the staff pages'
CSP allows no inline style or script)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from tulpar.web.staff import pages as staff_pages

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


# The part's templates and catalogues first, on the staff layout.
render = partial(staff_pages.render_part, TEMPLATES)
