"""The body limit against the real server (`aftersales serve`, uvicorn): a chunked upload with no
Content-Length is cut off once it passes 1 MB, and answered 413 while the client is still sending."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

from .conftest import LiveServer

MB = 1024 * 1024


def test_a_chunked_body_past_the_limit_gets_413_from_the_real_server(live_server: LiveServer) -> None:
    parts = urlsplit(live_server.url)
    assert parts.hostname and parts.port
    answer = bytearray()
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:

        def read() -> None:
            # Read while sending: the answer comes before the client has finished.
            try:
                while chunk := sock.recv(65536):
                    answer.extend(chunk)
            except OSError:
                pass

        reader = threading.Thread(target=read)
        reader.start()
        sock.sendall(
            b"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        piece = b"x" * 65536
        sent = 0
        try:
            for _ in range(160):  # would be 10 MB
                sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                sent += len(piece)
        except OSError:
            pass  # the server closed the connection after its answer: expected
        reader.join(timeout=20)
    head = bytes(answer).split(b"\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 413"), bytes(answer[:300])
    assert b'"error":"too_large"' in answer
    assert sent < 10 * MB  # the server did not take the whole body
