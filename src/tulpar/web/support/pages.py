"""The support console's page kit, on the staff layout (tulpar.web.staff): the signed-in
staff page (session, caller and CSRF token), rendering in the staff user's language with this
console's templates and catalogues first (then the staff and traveller ones), and refusals as
the staff error page (tulpar.web.staff.pages.StaffPageRoute: the request's transaction is
rolled back, so a refused action changes nothing)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

from fastapi import Depends

from tulpar.web.staff import pages as staff_pages
from tulpar.web.staff.session import StaffPage, check_csrf, require_staff_page

TEMPLATES = Path(__file__).parent / "templates"

# Every console form posts through this dependency (the session's own CSRF token).
SessionCsrf = Depends(check_csrf)

# The signed-in staff member (password, and TOTP for support and admin: a session still
# waiting for its second factor is no sign-in). What they may do is the services' call.
Staff = Annotated[StaffPage, Depends(require_staff_page())]


# The part's templates and catalogues first, on the staff layout.
render = partial(staff_pages.render_part, TEMPLATES)
