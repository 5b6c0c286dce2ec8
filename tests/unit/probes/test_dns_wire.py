"""The DNS codec against an independent implementation (scapy, a test dependency) and hostile replies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.dns import DNS, DNSQR, DNSRR

from edge_agent.probes.dns_wire import TYPE_A, TYPE_AAAA, encode_query, parse_reply


def test_a_query_is_what_scapy_reads():
    query = DNS(encode_query(4711, "probe.example.com", TYPE_AAAA))
    assert (query.id, query.rd, query.qr, query.qdcount) == (4711, 1, 0, 1)
    assert (query.qd[0].qname, query.qd[0].qtype, query.qd[0].qclass) == (b"probe.example.com.", 28, 1)
    assert bytes(DNS(id=4711, rd=1, qd=DNSQR(qname="probe.example.com", qtype="AAAA"))) == \
        encode_query(4711, "probe.example.com.", TYPE_AAAA)


def test_answers_with_compressed_names_give_their_addresses_by_type():
    reply = DNS(id=9, qr=1, rd=1, ra=1, qd=DNSQR(qname="a.test", qtype="A"),
                an=[DNSRR(rrname="a.test", type="CNAME", rdata="b.test"), DNSRR(rrname="b.test", type="A",
                    rdata="192.0.2.7"), DNSRR(rrname="b.test", type="AAAA", rdata="2001:db8::1")])
    parsed = parse_reply(bytes(reply))
    assert (parsed.id, parsed.rcode) == (9, 0)
    assert parsed.addresses(TYPE_A) == ["192.0.2.7"] and parsed.addresses(TYPE_AAAA) == ["2001:db8::1"]


def test_the_rcode_of_a_refusal_is_read():
    parsed = parse_reply(bytes(DNS(id=1, qr=1, rcode=5, qd=DNSQR(qname="x.test"))))
    assert parsed.rcode == 5 and parsed.answers == ()


@pytest.mark.parametrize("data", [
    b"", b"\x00\x01", bytes(DNS(id=1, qr=0, qd=DNSQR(qname="x.test"))),  # a query
    bytes(DNS(id=1, qr=1, qd=DNSQR(qname="x.test"), an=DNSRR(rrname="x.test", rdata="1.2.3.4")))[:-3],  # cut
    b"\x00\x01\x80\x00\x00\x01\x00\x00\x00\x00\x00\x00\x40",  # an unknown label type
])
def test_malformed_replies_are_refused_with_value_error(data):
    with pytest.raises(ValueError):
        parse_reply(data)


def test_an_a_record_of_the_wrong_length_gives_no_address():
    reply = bytearray(bytes(DNS(id=1, qr=1, an=DNSRR(rrname="x.test", type="A", rdata="1.2.3.4"))))
    parsed = parse_reply(bytes(reply[:-6]) + b"\x00\x03\x01\x02\x03")  # rdlength 3
    assert parsed.addresses(TYPE_A) == []


@given(st.binary(max_size=300))
def test_the_parser_refuses_any_garbage_with_value_error_only(data):
    try:
        parse_reply(data)
    except ValueError:
        pass


@pytest.mark.parametrize("name", ["a" * 64 + ".test", ".".join(["a" * 63] * 5), "a..b"])
def test_names_dns_cannot_carry_are_refused(name):
    with pytest.raises(ValueError):
        encode_query(1, name, TYPE_A)
