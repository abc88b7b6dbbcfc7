"""Clone detection's pure rules: the client's network (trusted proxies only), grouping by
/24 and /48, the keyed hash, and when a flag is raised, decays or is cleared."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from foodtrace.scan import rules
from foodtrace.scan.rules import Thresholds
from foodtrace.trace.codes import CodeKind

T = Thresholds(window_seconds=600, min_networks=6, decay_seconds=7 * 86400)
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
PROXIES = rules.parse_proxies("10.0.0.0/8, 2001:db8:ffff::/48")


def addr(text: str) -> str:
    return str(ipaddress.ip_address(text))


def test_without_a_trusted_proxy_forwarded_for_is_ignored() -> None:
    spoofed = "198.51.100.7, 203.0.113.9"
    assert str(rules.client_address("192.0.2.10", spoofed, ())) == "192.0.2.10"
    assert str(rules.client_address("192.0.2.10", spoofed, PROXIES)) == "192.0.2.10"


def test_a_trusted_proxy_names_the_rightmost_untrusted_hop() -> None:
    # the client wrote "1.1.1.1" itself; our proxies appended what they saw
    xff = "1.1.1.1, 198.51.100.7, 10.1.2.3"
    assert str(rules.client_address("10.9.9.9", xff, PROXIES)) == "198.51.100.7"
    assert str(rules.client_address("10.9.9.9", "198.51.100.7", PROXIES)) == "198.51.100.7"
    # only proxies in the chain: the left-most of them is all we know
    assert str(rules.client_address("10.9.9.9", "10.1.1.1", PROXIES)) == "10.1.1.1"
    # a garbled hop stops the walk at the last address we trust
    assert str(rules.client_address("10.9.9.9", "198.51.100.7, nonsense", PROXIES)) == "10.9.9.9"
    # IPv6 proxies and an IPv4-mapped client address
    assert str(rules.client_address("2001:db8:ffff::1", "::ffff:203.0.113.4", PROXIES)) == (
        "203.0.113.4"
    )
    assert rules.client_address("testclient", None, PROXIES) is None
    assert rules.client_address(None, "198.51.100.7", PROXIES) is None


def test_networks_group_ipv4_by_24_and_ipv6_by_48() -> None:
    def net(text: str) -> str:
        return rules.network_of(ipaddress.ip_address(text)).with_prefixlen

    assert net("203.0.113.4") == net("203.0.113.250") == "203.0.113.0/24"
    assert net("203.0.114.4") != net("203.0.113.4")
    assert net("2001:db8:1:2::1") == net("2001:db8:1:ffff:abcd::9") == "2001:db8:1::/48"
    assert net("2001:db8:2::1") != net("2001:db8:1::1")


def test_network_ids_are_keyed_truncated_hashes() -> None:
    a = rules.client_network_id("203.0.113.4", None, (), KEY)
    assert a == rules.client_network_id("203.0.113.99", None, (), KEY)
    assert a is not None and len(a) == rules.NETWORK_ID_HEX and "203" not in a
    assert a != rules.client_network_id("203.0.113.4", None, (), b"other key")
    assert a != rules.client_network_id("203.0.112.4", None, (), KEY)
    assert rules.client_network_id("not an address", None, (), KEY) is None


def test_bad_proxy_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        rules.parse_proxies("10.0.0.0/8, example.com")
    assert rules.parse_proxies(" ") == ()
    with pytest.raises(ValueError, match="min_networks"):
        Thresholds(window_seconds=60, min_networks=1, decay_seconds=60)


def test_six_networks_within_the_window_flag_a_serial_only() -> None:
    assert rules.assess(CodeKind.SERIAL, 5, T) is None
    reason = rules.assess(CodeKind.SERIAL, 6, T)
    assert reason is not None and "10分钟" in reason and "6个不同网络" in reason
    assert rules.assess(CodeKind.LOT, 500, T) is None
    assert rules.assess(CodeKind.MERCHANT, 500, T) is None
    seen = {f"n{i}": T0 + timedelta(seconds=10 * i) for i in range(6)}
    assert rules.networks_in_window(seen, T0 + timedelta(minutes=1), T) == 6
    # ten minutes later the first ones have left the window
    assert rules.networks_in_window(seen, T0 + timedelta(minutes=10, seconds=15), T) == 4


def test_a_flag_decays_and_can_be_cleared() -> None:
    assert not rules.flag_active(None, None, T0, T)
    assert rules.flag_active(T0, None, T0 + timedelta(days=6), T)
    assert not rules.flag_active(T0, None, T0 + timedelta(days=7), T)  # decayed
    assert not rules.flag_active(T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2), T)
    # flagged again after a clearing: the new flag holds
    assert rules.flag_active(T0 + timedelta(days=1), T0, T0 + timedelta(days=2), T)
