"""A TCP forwarder between the agent and a real broker that can turn into a black hole or cut connections.

A black hole swallows what the client sends while the connection stays up, as a path-MTU black hole or a
stateful firewall that lost its entry does: the client's writes succeed and nothing arrives.
"""

from __future__ import annotations

import selectors
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.blackhole = threading.Event()
        self.swallowed_bytes = 0
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._clients: set[socket.socket] = set()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.listener, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._cut = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._thread.start()

    def cut(self) -> None:
        """Close every connection now (both ends see a reset or EOF)."""
        self._cut.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in list(self._pairs) + [self.listener]:
            sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._cut.is_set():
                self._cut.clear()
                for sock in list(self._pairs):
                    self._drop(sock)
            for key, _ in self._selector.select(timeout=0.05):
                sock = key.fileobj
                if sock is self.listener:
                    self._accept()
                elif sock in self._pairs:
                    self._pump(sock)

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.target, timeout=2)
        except OSError:
            return
        for sock in (client, server):
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ)
        self._pairs[client], self._pairs[server] = server, client
        self._clients.add(client)

    def _pump(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop(sock)
            return
        if sock in self._clients and self.blackhole.is_set():
            self.swallowed_bytes += len(data)
            return
        try:
            self._pairs[sock].sendall(data)
        except OSError:
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        peer = self._pairs.pop(sock, None)
        for end in (sock, peer):
            if end is None:
                continue
            self._pairs.pop(end, None)
            self._clients.discard(end)
            try:
                self._selector.unregister(end)
            except (KeyError, ValueError):
                pass
            end.close()
