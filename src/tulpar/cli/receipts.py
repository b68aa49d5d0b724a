from __future__ import annotations

import typer

from tulpar.cli.common import console
from tulpar.receipt import signing

app = typer.Typer(no_args_is_help=True, help="Receipts and the key that signs them.")


@app.command("rotate-key")
def rotate_key() -> None:
    """Sign new receipts with a new key; receipts signed before still verify (the old public
    key stays in the keyring). Restart web and worker afterwards so they sign with it."""
    try:
        old, new = signing.rotate()
    except signing.RotationRefusedError as refused:
        console.print(f"[red]{refused}[/red]", soft_wrap=True, highlight=False)
        raise typer.Exit(code=1) from None
    console.print(f"retired key {old}; new receipts are signed with key {new}", highlight=False)
    console.print("Restart `tulpar serve` and `tulpar worker` so that they use the new key.")
