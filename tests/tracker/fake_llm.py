"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests and benchmarks.

Each request takes the next step of the script:
  {"content": "..."}         a normal answer with that text
  {"status": 500}            an HTTP error
  {"delay": 2.0, ...}        wait before answering (to provoke client timeouts)
When the script runs out, the last step repeats. `refuse_formats` lists response_format types
the server answers with HTTP 400 (like servers without structured output).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLM:
    def __init__(self, script: list[dict] | None = None, *, refuse_formats: tuple[str, ...] = ()) -> None:
        self.script = list(script or [])
        self.refuse_formats = set(refuse_formats)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload, delay = owner._answer(body)
                if delay:
                    time.sleep(delay)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> FakeLLM:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def completions(self) -> list[dict]:
        """Requests that reached the scripted part (not refused for their response_format)."""
        return [r for r in self.requests if not r.get("_refused")]

    def _answer(self, body: dict) -> tuple[int, dict, float]:
        with self.lock:
            self.requests.append(body)
            fmt = (body.get("response_format") or {}).get("type")
            if fmt in self.refuse_formats:
                body["_refused"] = True
                return 400, {"error": {"message": f"response_format {fmt} is not supported", "type": "invalid_request_error"}}, 0
            step = self.script.pop(0) if len(self.script) > 1 else (self.script[0] if self.script else {"content": "{}"})
        if "status" in step:
            return step["status"], {"error": {"message": "scripted failure", "type": "server_error"}}, step.get("delay", 0)
        content = step["content"] if isinstance(step["content"], str) else json.dumps(step["content"])
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        payload = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "test-model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_chars // 4,
                "completion_tokens": max(1, len(content) // 4),
                "total_tokens": prompt_chars // 4 + max(1, len(content) // 4),
            },
        }
        return 200, payload, step.get("delay", 0)


def answer(price: str | None, *, kind: str = "css", attribute: str | None = None, title: str | None = None) -> dict:
    """A model answer with the given price selector (and optional title selector)."""
    return {
        "price": {"selector": price, "kind": kind, "attribute": attribute} if price else None,
        "currency": None,
        "availability": None,
        "title": ({"selector": title, "kind": "css", "attribute": None} if title else None),
        "image": None,
        "default_currency": "USD",
    }
