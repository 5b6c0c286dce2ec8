"""Which channels a radio may move to on a gateway with several radios: its band's own list, the numbers of the
shared list that are channels of its band, or its whole band — never nothing because the list was written for
another band."""

from __future__ import annotations

import pytest

from edge_agent.config import ConfigError, load_config
from edge_agent.remediation.settings import ChannelPolicy
from edge_agent.wifi.channel_action import DEFAULT_CHANNELS, allowed_channels
from edge_agent.wifi.channels import Band


def test_a_shared_list_written_for_2_4_ghz_does_not_freeze_the_5_and_6_ghz_radios():
    policy = ChannelPolicy(allowed_channels=[1, 6, 11])
    assert allowed_channels(policy, Band.GHZ_2_4) == [1, 6, 11]
    assert allowed_channels(policy, Band.GHZ_5) == list(DEFAULT_CHANNELS[Band.GHZ_5])
    assert 1 in allowed_channels(policy, Band.GHZ_6)  # 1 is a 6 GHz channel too: the shared list is ambiguous


def test_a_band_of_its_own_wins_over_the_shared_list():
    policy = ChannelPolicy(allowed_channels=[36, 40, 1, 6], allowed_by_band={"5GHz": [149, 153]})
    assert allowed_channels(policy, Band.GHZ_5) == [149, 153]
    assert allowed_channels(policy, Band.GHZ_2_4) == [1, 6]
    assert allowed_channels(ChannelPolicy(), Band.GHZ_6) == list(DEFAULT_CHANNELS[Band.GHZ_6])


def test_a_number_that_is_no_channel_of_its_band_is_refused_by_name(tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text('[remediation.channel.allowed_by_band]\n"6GHz" = [37, 38]\n')
    with pytest.raises(ConfigError, match=r"6GHz: \[38\] is no channel of that band"):
        load_config(config)
    config.write_text('[remediation.channel.allowed_by_band]\n"7GHz" = [1]\n')
    with pytest.raises(ConfigError, match="7GHz"):
        load_config(config)
