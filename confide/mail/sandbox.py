"""Parsing inbound mail in a separate process, with a time limit and a memory limit.

The parser enforces its own limits, but a mail is the one input Confide takes from anyone on the
internet: if some shape of MIME still makes the parser slow or hungry, the worker must not hang
or swell with it. The parse runs in a child process (spawned, so it inherits no threads or
database connections) that is killed when it overruns; a new one starts for the next mail.

A plain Process and Pipe rather than multiprocessing.Pool: terminating a Pool while its feeder
thread is still writing a large mail to a child deadlocks.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from confide.mail.parsing import MailLimits, ParsedMail, RejectedMail, parse_mail

# The child may use this much address space; the largest mail it is given is MAIL_MAX_BYTES.
CHILD_MEMORY_BYTES = 1024 * 1024 * 1024

_lock = threading.Lock()
_child: tuple[BaseProcess, Connection] | None = None


def _parse_in_child(raw: bytes, limits: MailLimits) -> ParsedMail | tuple[str, int]:
    """The parsed mail, or (reason, SMTP code): plain values cross the process boundary."""
    try:
        return parse_mail(raw, limits=limits)
    except RejectedMail as exc:
        return (exc.reason, exc.code)
    except MemoryError:
        return ("Your email needed more memory to read than Confide allows.", 552)


def _serve(connection: Connection) -> None:
    """The child: parse each mail it is sent until the pipe closes."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    while True:
        try:
            raw, limits = connection.recv()
        except EOFError:
            return
        connection.send(_parse_in_child(raw, limits))


def _start() -> tuple[BaseProcess, Connection]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs,), daemon=True, name="mail-parser")
    process.start()
    theirs.close()
    return process, ours


def _discard() -> None:
    global _child
    if _child is not None:
        process, connection = _child
        _child = None
        process.kill()
        process.join(timeout=10)
        connection.close()


def parse_within(raw: bytes, *, limits: MailLimits, seconds: float) -> ParsedMail:
    """parse_mail in the child process; RejectedMail on bad input, overrun or a crashed child."""
    global _child
    with _lock:
        if _child is None:
            _child = _start()
            atexit.register(shutdown)
        _, connection = _child
        try:
            connection.send((raw, limits))
            finished = connection.poll(seconds)
            result = connection.recv() if finished else None
        except (EOFError, OSError):
            # The child died (killed for memory, for instance): start a fresh one next time.
            _discard()
            raise RejectedMail(
                "Your email could not be read, so Confide did not post it.", code=554
            ) from None
        if not finished:
            _discard()
            raise RejectedMail(
                "Your email took too long to read, so Confide did not post it.", code=554
            )
    if isinstance(result, tuple):
        reason, code = result
        raise RejectedMail(reason, code=code)
    assert isinstance(result, ParsedMail)  # noqa: S101 - the child sends nothing else
    return result


def shutdown() -> None:
    with _lock:
        _discard()
