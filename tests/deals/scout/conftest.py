"""A local deal source server: feeds and listing pages the tests change between scans."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, str]] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if self.path not in server.routes:
                    self.send_response(404)
                    self.end_headers()
                    return
                content_type, body = server.routes[self.path]
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body: str, content_type: str = "text/html; charset=utf-8") -> str:
        self.routes[path] = (content_type, body)
        return self.url + path

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server(settings):
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    server = FeedServer()
    yield server
    server.stop()
