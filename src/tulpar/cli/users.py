"""``tulpar users``: staff users (the first admin, and anyone after)."""

from __future__ import annotations

import sys

import typer

from tulpar.auth import service as auth_service
from tulpar.cli.common import command_transaction, console, errors
from tulpar.staff import service, totp
from tulpar.store import service as store_service

app = typer.Typer(no_args_is_help=True, help="Staff users: clerks, managers, support, admins.")


@app.command("create")
def create(
    username: str,
    role: str = typer.Option(..., "--role", help="clerk, store_manager, support or admin"),
    store: str | None = typer.Option(None, "--store", help="the store code (clerk, store_manager)"),
    name: str | None = typer.Option(None, "--name", help="display name (default: USERNAME)"),
    language: str = typer.Option("en", "--language", help="en, ru, kk or zh-Hans"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from the first line of stdin"
    ),
) -> None:
    """Create a staff user. Admin and support users get a TOTP secret now: the command
    prints it with its otpauth:// address to add to an authenticator app (the first
    sign-in also shows it as a QR code until a code has been entered once)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with command_transaction() as session:
        store_id = None
        if store is not None:
            found = store_service.by_code(session, store)
            if found is None:
                errors.print(f"[red]error:[/red] no store {store!r} (tulpar stores create)")
                raise typer.Exit(1)
            store_id = found.id
        user = service.create_user(
            session,
            auth_service.command_line(),
            username=username,
            password=password,
            role=role,
            store_id=store_id,
            display_name=name,
            language=language,
        )
        secret = user.totp_secret
        summary = f"staff user [bold]{user.username}[/bold] ({user.role.value})"
    console.print(summary + (f" at {store.upper()}" if store else ""))
    if secret is not None:
        console.print("TOTP secret (second factor, shown at sign-in until first used):")
        console.print(secret, soft_wrap=True, highlight=False)
        console.print(totp.enrolment_uri(secret, username.strip()), soft_wrap=True, highlight=False)
