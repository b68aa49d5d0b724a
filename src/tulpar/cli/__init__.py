"""``tulpar`` command line."""

from __future__ import annotations

import typer

from tulpar.cli import (
    bundles,
    cards,
    carrier_sim,
    database,
    demo,
    partners,
    plans,
    receipts,
    serve,
    stores,
    usage,
    users,
)
from tulpar.config import get_settings
from tulpar.kit.logging import configure_logging

app = typer.Typer(no_args_is_help=True, help="Tulpar: travel-eSIM plans for Kazakhstan.")
app.add_typer(database.app, name="db")
app.add_typer(cards.app, name="cards")
app.add_typer(plans.app, name="plans")
app.add_typer(bundles.app, name="bundles")
app.add_typer(partners.app, name="partners")
app.add_typer(usage.app, name="usage")
app.add_typer(receipts.app, name="receipts")
app.add_typer(users.app, name="users")
app.add_typer(stores.app, name="stores")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("worker")(serve.worker)
app.command("carrier-sim")(carrier_sim.carrier_sim)


@app.callback()
def _configure() -> None:
    # Every command logs the same way (JSON in production, console elsewhere).
    configure_logging(get_settings())


def main() -> None:
    app()
