"""A TCP proxy in front of PostgreSQL that a test cuts and restores: a database outage made for real,
for one test's connections only. Shared by the reliability tests (use-case layer) and the browser
tests (a running server). tests/ is on sys.path through its conftest.py, hence `from fault_proxy import`.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from sqlalchemy.engine import make_url


class TcpProxy:
    """A local TCP port forwarded to the database server, to make it unreachable at will.

    `cut()` drops every open connection and refuses new ones (the database restarting, a cable
    pulled); `hang()` accepts connections and answers nothing (a network that swallows packets);
    `restore()` forwards again. Nothing else shares this port, so other tests using the same
    PostgreSQL server are never disturbed.
    """

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.mode = "forward"
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.1)
        self._stop = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, args=(listener, self._stop), daemon=True)
        self._acceptor.start()

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        with listener:
            while not stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                self._serve(client)

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(None)
        self._track(client)
        if self.mode == "hang":
            return  # hold it open, say nothing
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            self._close(client)
            return
        upstream.settimeout(None)
        self._track(upstream)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        self._close(source)
        self._close(sink)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _drop_all(self) -> None:
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            self._close(sock)

    def cut(self) -> None:
        self._stop.set()
        self._acceptor.join()  # the listener is closed when its thread ends
        self._drop_all()

    def hang(self) -> None:
        self.cut()
        self.mode = "hang"
        self._listen()

    def restore(self) -> None:
        self.cut()
        self.mode = "forward"
        self._listen()

    def url(self, base_url: str) -> str:
        """`base_url` (a PostgreSQL URL) going through this proxy."""
        return make_url(base_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
