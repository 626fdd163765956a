"""A local static web server for a web export (``avatar4d view``, and the browser test)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from avatar4d.errors import InputError


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # a line per request would bury the URL


def web_server(folder: Path, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server of ``folder`` bound to host:port (0: any free port), not yet serving."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        raise InputError("--port", f"cannot serve on {host}:{port} ({error.strerror})") from None


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"
