"""porterd's HTTP/1.1 server: threaded, on unix sockets and TCP with mutual TLS.

waitress cannot hand a connection over to the app, and attach and exec need exactly that
(the Engine API's `Upgrade: tcp`), so porterd serves its falcon app with this small server
built on the standard library (see `wsgi.py` for the HTTP details).
"""

from porterd.server.listeners import (
    Address,
    Listener,
    ListenerError,
    TLSFiles,
    listen,
    parse_address,
)

__all__ = ["Address", "Listener", "ListenerError", "TLSFiles", "listen", "parse_address"]
