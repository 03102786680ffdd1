"""A web app with the standard library only: http.server on $PORT."""

import json
import os
import sqlite3
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        db = sqlite3.connect(":memory:")
        (answer,) = db.execute("select 6 * 7").fetchone()
        body = json.dumps(
            {
                "app": "python-app",
                "python": sys.version.split()[0],
                "prefix": sys.prefix,
                "sqlite": sqlite3.sqlite_version,
                "openssl": ssl.OPENSSL_VERSION,
                "answer": answer,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    print(f"python-app listening on {port}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", port), Hello).serve_forever()
