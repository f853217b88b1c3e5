"""A failed task is mailed to the address in [email] receiver (set here from the environment), through a real
SMTP server on 127.0.0.1."""

from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from bench.dumpserver import DumpServer
from tests.pipeline_helpers import DUMPS, RELEASE, TASK_FAILED, run_luigi, sample_release


class Inbox(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    def handle_message(self, message: Message) -> None:
        self.messages.append(message)


class PortZeroController(Controller):
    """aiosmtpd's threaded server on a port the OS picks: once bound, its port is read from the socket (the
    controller then connects to it to check the server answers)."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def test_a_failed_task_is_mailed_to_the_configured_receiver(tmp_path: Path) -> None:
    source = sample_release(tmp_path / "source")
    (source / f"ol_dump_works_{RELEASE}.txt.gz").unlink()
    inbox = Inbox()
    smtp = PortZeroController(inbox, hostname="127.0.0.1", port=0)
    smtp.start()
    port = smtp.port
    try:
        with DumpServer(source, release=RELEASE, dumps=DUMPS) as server:
            environment = {
                "EMAIL_RECEIVER": "data-team@example.org", "EMAIL_SENDER": "pipeline@example.org",
                "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_NO_TLS": "true",
            }  # fmt: skip
            completed = run_luigi(
                tmp_path, server.url, "IngestDump", "--release", RELEASE, "--dump", "works", env=environment
            )
    finally:
        smtp.stop()
    assert completed.returncode == TASK_FAILED, completed.stderr[-2000:]
    (mail,) = inbox.messages
    assert mail["To"] == "data-team@example.org" and mail["From"] == "pipeline@example.org"
    assert mail["Subject"].startswith(
        "[openlibrary] Luigi: IngestDump(release=2026-10-31, dump=works) FAILED"
    )
    body = "".join(
        part.get_payload(decode=True).decode()
        for part in mail.walk()
        if part.get_content_type() == "text/plain"
    )
    assert f"ol_dump_works_{RELEASE}.txt.gz: HTTP 404 Not Found" in body
