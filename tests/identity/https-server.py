#!/usr/bin/python3
"""A small HTTPS identity-provider stand-in for the JWKS tests.

usage: https-server.py CERT KEY DOCROOT PORTFILE LOGFILE

Serves DOCROOT on 127.0.0.1 (port chosen by the kernel, written to PORTFILE
once listening), appends each request path to LOGFILE, exits on SIGTERM.
"""
import functools
import http.server
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
