"""Serve the demo clinic page (web/) and tell the widget where the Rasa server is.

Usage: python scripts/serve_web.py --port 8080 --rasa-url http://localhost:5005

/config.js is generated (window.FAQBOT_CONFIG with the Rasa URL), and
/vendor/socket.io.min.js comes from web/vendor/ (copied there by `make web`)
or, if that copy is missing, straight from node_modules/. Nothing is loaded
from another site.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = ROOT / "web"
SOCKET_IO_CLIENT = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"


class WebHandler(SimpleHTTPRequestHandler):
    """Static files plus a generated /config.js; quiet logs (no user data here anyway)."""

    rasa_url = "http://localhost:5005"

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/config.js":
            body = f"window.FAQBOT_CONFIG = {json.dumps({'socketUrl': self.rasa_url})};\n".encode()
            self._send_bytes(body, "application/javascript; charset=utf-8")
            return
        if path == "/vendor/socket.io.min.js" and not (WEB_DIR / "vendor" / "socket.io.min.js").exists():
            if SOCKET_IO_CLIENT.exists():
                self._send_bytes(SOCKET_IO_CLIENT.read_bytes(), "application/javascript; charset=utf-8")
                return
        super().do_GET()

    def _send_bytes(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        # The page runs no inline scripts and loads nothing from other sites.
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'self'; connect-src 'self' {self.rasa_url} "
            f"{self.rasa_url.replace('http', 'ws', 1)}; img-src 'self' data:; style-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        )
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rasa-url", default="http://localhost:5005")
    args = parser.parse_args()
    WebHandler.rasa_url = args.rasa_url.rstrip("/")
    server = ThreadingHTTPServer((args.host, args.port), partial(WebHandler, directory=str(WEB_DIR)))
    print(f"serving {WEB_DIR} on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
