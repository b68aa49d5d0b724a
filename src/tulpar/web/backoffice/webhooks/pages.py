"""The webhook pages' kit: the staff layout with this part's templates and catalogues
first (then the staff and traveller ones), in the signed-in staff member's language."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from tulpar.web.staff import pages as staff_pages

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


# The part's templates and catalogues first, on the staff layout.
render = partial(staff_pages.render_part, TEMPLATES)
