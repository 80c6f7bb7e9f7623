#!/usr/bin/python3
"""A small HTTPS identity-provider stand-in for the JWKS tests.

usage: https-server.py CERT KEY DOCROOT PORTFILE LOGFILE

Serves DOCROOT on 127.0.0.1 (port chosen by the kernel, written to PORTFILE
once listening), appends each request path to LOGFILE, exits on SIGTERM.
"""
import functools
import http.server
import json
import os
import signal
import ssl
import sys
import threading
import time


def main():
    cert, key, docroot, portfile, logfile = sys.argv[1:6]

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            with open(logfile, "a") as f:
                f.write(self.path + "\n")
            if self.path.startswith("/stall/"):
                time.sleep(60)  # a provider that accepted and hangs
                return
            super().do_GET()

        def do_POST(self):
            # The device flow's token endpoint while it waits: 400 and an
            # error, with the form echoed so the test sees what was sent.
            n = int(self.headers.get("Content-Length", "0"))
            form = self.rfile.read(n).decode()
            with open(logfile, "a") as f:
                f.write("POST " + self.path + "\n")
            if self.path.startswith("/stall/"):
                time.sleep(60)  # a token endpoint that accepted and hangs
                return
            body = json.dumps({"error": "authorization_pending", "form": form,
                               "type": self.headers.get("Content-Type", "")}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    handler = functools.partial(Handler, directory=docroot)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    parent = os.getppid()

    def orphan_watch():
        # The test that started us may die without stopping us: follow it.
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=orphan_watch, daemon=True).start()
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
