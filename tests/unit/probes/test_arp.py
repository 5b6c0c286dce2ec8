"""ARP frames: the request we send, and which received frames count as this request's answer."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from edge_agent.probes.arp import build_request, collect, drain, mac_bytes, match_reply

OUR_MAC, OUR_IP, GATEWAY = mac_bytes("02:00:00:00:00:02"), "10.9.0.2", "10.9.0.1"
ROUTER, SPOOFER = "02:00:00:00:00:01", "02:00:00:00:00:66"


def reply(sender_mac: str, sender_ip: str = GATEWAY, target_ip: str = OUR_IP, target_mac: bytes = OUR_MAC,
          op: int = 2) -> bytes:
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, mac_bytes(sender_mac), socket.inet_aton(sender_ip),
                       target_mac, socket.inet_aton(target_ip))
    return target_mac + mac_bytes(sender_mac) + b"\x08\x06" + body


def test_the_request_is_a_broadcast_who_has_from_our_address():
    frame = build_request(OUR_MAC, OUR_IP, GATEWAY)
    assert frame[:6] == b"\xff" * 6 and frame[6:12] == OUR_MAC and frame[12:14] == b"\x08\x06"
    op, spa, tpa = struct.unpack_from("!H", frame, 20)[0], frame[28:32], frame[38:42]
    assert (op, socket.inet_ntoa(spa), socket.inet_ntoa(tpa)) == (1, OUR_IP, GATEWAY)


def test_an_is_at_for_the_gateway_addressed_to_us_is_an_answer():
    assert match_reply(reply(ROUTER), GATEWAY, OUR_MAC, OUR_IP) == ROUTER


@pytest.mark.parametrize("frame", [
    reply(ROUTER, sender_ip="10.9.0.7"),                   # an answer about another address
    reply(ROUTER, target_ip="10.9.0.9", target_mac=b"\x02" * 6),  # an answer to another host's question
    reply(ROUTER, op=1),                                    # a request, e.g. our own seen going out
    reply(ROUTER)[:30],                                     # truncated
    b"\x00" * 12 + b"\x08\x00" + b"\x00" * 28,              # not ARP at all
])
def test_frames_that_do_not_answer_this_request_are_ignored(frame):
    assert match_reply(frame, GATEWAY, OUR_MAC, OUR_IP) is None


@pytest.fixture
def pair():
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    left.setblocking(False)
    yield left, right
    left.close()
    right.close()


def test_draining_drops_what_an_earlier_round_left_unread(pair):
    sock, peer = pair
    peer.send(reply(SPOOFER))
    peer.send(reply(ROUTER))
    assert drain(sock) == 2
    peer.send(reply(ROUTER))
    answer = collect(sock, GATEWAY, OUR_MAC, OUR_IP, sent=time.monotonic(), timeout_s=0.2)
    assert answer.macs == (ROUTER,)


def test_two_hosts_answering_one_request_are_both_collected_first_answer_first(pair):
    sock, peer = pair

    for frame in (reply(SPOOFER), reply(ROUTER, sender_ip="10.9.0.7"), reply(ROUTER), reply(SPOOFER)):
        peer.send(frame)
    answer = collect(sock, GATEWAY, OUR_MAC, OUR_IP, sent=time.monotonic(), timeout_s=0.2)
    assert answer.macs == (SPOOFER, ROUTER) and answer.mac == SPOOFER and answer.first_ms is not None


def test_nobody_answering_is_an_empty_answer_after_the_timeout(pair):

    answer = collect(pair[0], GATEWAY, OUR_MAC, OUR_IP, sent=time.monotonic(), timeout_s=0.05)
    assert answer.macs == () and answer.mac is None and answer.first_ms is None
