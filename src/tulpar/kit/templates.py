"""Jinja2 environments for HTML pages: autoescaped, with the package's gettext catalogue and
the formatter's filters installed."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from tulpar.kit.format import formatter_for
from tulpar.kit.i18n import translations


@lru_cache(maxsize=64)
def page_environment(
    templates_dir: Path,
    language: str,
    *,
    locales_dir: Path | None = None,
    shared_dirs: tuple[Path, ...] = (),
) -> Environment:
    """The environment for the templates in ``templates_dir`` in ``language``. Messages come
    from ``locales_dir`` (by default the ``locales`` folder beside ``templates_dir``).

    One environment per directory and language, because gettext is installed on the
    environment itself: sharing one across languages would mix them between requests.
    Templates get ``_``/``gettext``/``ngettext``, the filters ``money``, ``local_time``,
    ``local_date``, ``data``, ``minutes`` and ``countdown``, and the globals ``language`` and
    ``formatter``.

    ``shared_dirs``: template folders whose layout and macros these templates reuse
    (``{% extends "_layout.html" %}``); a template of ``templates_dir`` wins over theirs, and
    a message missing from ``locales_dir`` is looked up in each one's ``locales`` beside it."""
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in (templates_dir, *shared_dirs)]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
    )
    catalogue = translations(locales_dir or templates_dir.parent / "locales", language)
    if shared_dirs:
        # Copies: the cached catalogues are shared, and add_fallback sets it on the object.
        catalogue = copy.copy(catalogue)
        for folder in shared_dirs:
            catalogue.add_fallback(copy.copy(translations(folder.parent / "locales", language)))
    environment.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    formatter = formatter_for(language)
    environment.filters.update(
        money=formatter.money,
        local_time=formatter.local_time,
        local_date=formatter.local_date,
        data=formatter.data,
        minutes=formatter.minutes,
        countdown=formatter.countdown,
    )
    environment.globals.update(language=formatter.language, formatter=formatter)
    return environment
