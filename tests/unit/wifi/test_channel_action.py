"""The switch_channel planner on radios of each band: it scores and moves within the radio's own band."""

from __future__ import annotations

from edge_agent.remediation.settings import ChannelPolicy
from edge_agent.wifi.channel_action import ChannelPlanner
from edge_agent.wifi.channel_scoring import ChannelSurvey, Neighbour
from edge_agent.wifi.channel_switch import SwitchResult
from edge_agent.wifi.channels import Band, Channel


class BandRadio:
    """A radio that speaks Channels: on `current`, with surveys and neighbours of several bands around it."""

    def __init__(self, current: Channel, width: int, surveys: list[ChannelSurvey], neighbours=()):
        self.current, self.width = current, width
        self.surveys, self.neighbours = surveys, list(neighbours)
        self.switched_to: list[object] = []

    def current_channel(self, interface):
        return self.current

    def current_width(self, interface):
        return self.width

    def channel_surveys(self, interface):
        return self.surveys

    def known_neighbours(self, interface):
        return self.neighbours

    def switch_channel(self, interface, channel):
        self.switched_to.append(channel)
        before, self.current = self.current, channel
        return SwitchResult("switched", before.number, channel.number, "announced and finished", 1, 1, channel.band)


def busy(band: Band, numbers, share: float) -> list[ChannelSurvey]:
    return [ChannelSurvey(n, 1000, int(1000 * share), band=band) for n in numbers]


def test_a_6_ghz_radio_moves_to_a_quiet_preferred_channel_of_6_ghz():
    # 2.4 GHz channel 1 is quiet too, and a 6 GHz channel 1 neighbour is loud: neither may pull the AP
    surveys = [*busy(Band.GHZ_6, range(1, 234, 4), 0.1), *busy(Band.GHZ_6, (37, 53), 0.8),
               *busy(Band.GHZ_2_4, (1, 6, 11), 0.0)]
    radio = BandRadio(Channel(Band.GHZ_6, 37), 20, surveys, [Neighbour(5, -40.0, Band.GHZ_6)])
    result = ChannelPlanner(radio, ChannelPolicy(min_dwell_s=0), lambda: 0.0).move("wlan2")
    assert result.ok
    [target] = radio.switched_to
    assert target.band is Band.GHZ_6 and target.is_preferred and target.number not in (5, 37, 53)
    assert result.data["band"] == "6GHz" and all(s["band"] == "6GHz" for s in result.data["scores"])


def test_an_80_mhz_5_ghz_radio_scores_whole_blocks_and_lands_on_one_that_holds_80_mhz():
    surveys = [*busy(Band.GHZ_5, (36, 40, 48), 0.05), *busy(Band.GHZ_5, (44,), 0.9),
               *busy(Band.GHZ_5, (149, 153, 157, 161), 0.1), *busy(Band.GHZ_5, (165, 169, 177), 0.0),
               *busy(Band.GHZ_5, (173,), 0.5)]
    radio = BandRadio(Channel(Band.GHZ_5, 36), 80, surveys)
    ChannelPlanner(radio, ChannelPolicy(min_dwell_s=0), lambda: 0.0).move("wlan1")
    # 165 itself is the quietest channel, but its 80 MHz block (165-177) holds the busy 173
    assert radio.switched_to == [Channel(Band.GHZ_5, 149)]


def test_rollback_goes_back_to_the_number_in_the_radios_own_band():
    radio = BandRadio(Channel(Band.GHZ_6, 53), 20, [])
    ChannelPlanner(radio, ChannelPolicy(), lambda: 0.0).move_back("wlan2", 37)
    assert radio.switched_to == [Channel(Band.GHZ_6, 37)]


def test_a_radio_that_reports_bare_numbers_still_gets_numbers():
    class NumberRadio(BandRadio):
        def current_channel(self, interface):
            return 6

        def switch_channel(self, interface, channel):
            self.switched_to.append(channel)
            return SwitchResult("switched", 6, channel, "ok", 1, 1)

    radio = NumberRadio(Channel(Band.GHZ_2_4, 6), 20, [*busy(Band.GHZ_2_4, (1, 11), 0.05),
                                                      *busy(Band.GHZ_2_4, (6,), 0.9)])
    ChannelPlanner(radio, ChannelPolicy(min_dwell_s=0), lambda: 0.0).move("wlan0")
    assert radio.switched_to == [1]
