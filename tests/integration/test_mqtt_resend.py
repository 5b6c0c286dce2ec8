"""After a broken connection the publisher sends each pending message once more, from the outbox: not once more
per broken connection (paho keeps its own copies of unacknowledged publishes and would send them too), and never
an older session's presence after the new session's."""

from __future__ import annotations

import json
import time
from pathlib import Path

from agent_process import wait_for
from mqtt_recorder import Recorder
from tcp_proxy import TcpProxy
from test_reporting_path import make_publisher

BROKEN_CONNECTIONS = 3


class SessionsThatSwallow(TcpProxy):
    """While `blackhole` is set, each new connection's first write (its CONNECT) still passes, so the broker
    accepts the session, and everything the client publishes on it vanishes: a path-MTU black hole, which lets
    small packets through and loses large ones. A connection swallows for as long as it lives: clearing the
    blackhole heals only the connections that come after (a write slipping through in the moment between the
    clear and the cut would be a true duplicate of the test's making)."""

    def __init__(self, target_host: str, target_port: int):
        self._greeted: set = set()
        self._swallowing: set = set()
        super().__init__(target_host, target_port)

    def _accept(self) -> None:
        known = set(self._clients)
        super()._accept()
        if self.blackhole.is_set():
            self._swallowing |= self._clients - known

    def _pump(self, sock) -> None:
        if sock in self._clients and sock not in self._greeted:
            self._greeted.add(sock)
            data = sock.recv(65536)
            if data:
                self._pairs[sock].sendall(data)
                return
        if sock in self._clients and self.blackhole.is_set():
            self._swallowing.add(sock)
        if sock in self._swallowing and sock in self._clients:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._swallowing.discard(sock)
                self._drop(sock)
            else:
                self.swallowed_bytes += len(data)
            return
        super()._pump(sock)


def test_an_event_left_unacknowledged_by_broken_connections_arrives_once(mosquitto, short_tmp: Path):
    proxy = SessionsThatSwallow(mosquitto.host, mosquitto.port)
    publisher, sink, envelopes = make_publisher(short_tmp, proxy.port, "resend-gw")
    fleet = Recorder(mosquitto.host, mosquitto.port, "edge/v1/resend-gw/#", "resend-fleet")
    publisher.start()
    try:
        wait_for(publisher.connected.is_set, timeout_s=10, what="the publisher to connect")
        proxy.blackhole.set()  # what the publisher writes from now on vanishes, as in a path-MTU black hole
        sink.publish("event/issue", envelopes.wrap("edge.issue/1", {"n": 1}, time.time(), 0.0), True)
        for broken in range(1, BROKEN_CONNECTIONS + 1):
            wait_for(lambda n=broken: proxy.swallowed_bytes > 0 and publisher.written >= n, timeout_s=10,
                     what="the event written into a connection that swallows it")
            proxy.cut()
            wait_for(lambda n=broken: publisher.connects > n, timeout_s=10, what="the next connection")
        proxy.blackhole.clear()
        proxy.cut()  # the connection that works again: everything pending goes now
        wait_for(lambda: publisher.connects > BROKEN_CONNECTIONS + 1, timeout_s=10, what="a working connection")
        wait_for(lambda: publisher.outbox.stats().queued_events == 0, timeout_s=10, what="the event acknowledged")
        time.sleep(1)  # any further copy would be on its way by now
        events = [body for topic, body, _ in fleet.received if topic.endswith("/event/issue")]
        assert len(events) == 1, f"the event arrived {len(events)} times"
        statuses = [json.loads(payload)["session"] for topic, _, payload in fleet.received
                    if topic.endswith("/status") and json.loads(payload)["state"] == "online"]
        assert statuses[-1] == max(statuses), f"online sessions in arrival order: {statuses}"
    finally:
        publisher.close()
        fleet.close()
        proxy.close()
