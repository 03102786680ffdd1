"""A web app that uses a local package (libs/greeting), installed from requirements.txt."""

import os
from http.server import BaseHTTPRequestHandler, HTTPServer

import greeting


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{greeting.hello('Toolforge')} (greeting {greeting.__version__} from {greeting.__file__})\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Hello).serve_forever()
