"""``tulpar`` command line."""

from __future__ import annotations

import typer

from tulpar.cli import bundles, cards, database, demo, partners, plans, serve

app = typer.Typer(no_args_is_help=True, help="Tulpar: travel-eSIM plans for Kazakhstan.")
app.add_typer(database.app, name="db")
app.add_typer(cards.app, name="cards")
app.add_typer(plans.app, name="plans")
app.add_typer(bundles.app, name="bundles")
app.add_typer(partners.app, name="partners")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("worker")(serve.worker)


def main() -> None:
    app()
