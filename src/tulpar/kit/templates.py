"""Jinja2 environments for HTML pages: autoescaped, with the package's gettext catalogue and
the formatter's filters installed."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tulpar.kit.format import formatter_for
from tulpar.kit.i18n import translations


@lru_cache(maxsize=64)
def page_environment(
    templates_dir: Path, language: str, *, locales_dir: Path | None = None
) -> Environment:
    """The environment for the templates in ``templates_dir`` in ``language``. Messages come
    from ``locales_dir`` (by default the ``locales`` folder beside ``templates_dir``).

    One environment per directory and language, because gettext is installed on the
    environment itself: sharing one across languages would mix them between requests.
    Templates get ``_``/``gettext``/``ngettext``, the filters ``money``, ``local_time``,
    ``local_date``, ``data``, ``minutes`` and ``countdown``, and the globals ``language`` and
    ``formatter``."""
    environment = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
    )
    catalogue = translations(locales_dir or templates_dir.parent / "locales", language)
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
