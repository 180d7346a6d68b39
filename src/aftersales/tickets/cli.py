"""`aftersales mail-in`: the SMTP endpoint that turns customers' emails into tickets.

    aftersales mail-in                          (settings mail_in_host / mail_in_port; 127.0.0.1:2525)
    aftersales mail-in --host 0.0.0.0 --port 25

Point the shop's MTA at it (see docs/tickets-email.md): Postfix `transport_maps`, an alias piped
through an SMTP relay, or a cloud mail forwarder.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from aftersales.config import get_settings
from aftersales.db.uow import Database


def mail_in(
    host: Annotated[str | None, typer.Option(help="address to bind (default: mail_in_host, 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (default: mail_in_port, 2525)")] = None,
    workers: Annotated[int, typer.Option(help="mails stored at once (use PostgreSQL for more than 1–2)")] = 2,
) -> None:
    """Receive customers' emails over SMTP and turn them into tickets, until stopped."""
    from aftersales.tickets import classification
    from aftersales.tickets.mail_gateway import MailGateway
    from aftersales.understanding import service as understanding
    from aftersales.web.ops import configure_logging
    from aftersales.worker import wiring

    settings = get_settings()
    settings.ensure_data_dirs()
    configure_logging(settings.log_json, settings.log_level)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
    db = Database(settings.database_url)
    # Commits that write outbox rows kick the worker, as they do in the web process.
    wiring.connect(settings, db)
    # The first mail must not wait for the models (the sending server's patience is finite).
    understanding.load_model()
    classification.warm_up()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    gateway = MailGateway(db, host, port, workers=workers).start()
    typer.echo(f"mail-in listening on {gateway.host}:{gateway.port} (SMTP); Ctrl-C stops it")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        gateway.stop()
