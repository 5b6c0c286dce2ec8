"""What a person should do about each issue type: user-facing text kept apart from detection logic.

Templates are filled from the finding's subject and evidence; a missing value shows as '?'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GUIDANCE: dict[str, str] = {
    "wifi_interference": (
        "Channel {channel} on {subject} is busy {busy_ratio:.0%} of the time (limit {limit:.0%}), mostly with traffic "
        "that is not ours. Move the access point to a quieter channel, or keep microwaves, baby monitors and "
        "other 2.4 GHz transmitters away from the gateway."
    ),
    "wifi_high_noise": (
        "The noise floor on {subject} is {noise_dbm} dBm (limit {limit} dBm). Look for a nearby source of "
        "radio noise (USB 3 hubs, power supplies, other transmitters) and move it away from the gateway."
    ),
    "gateway_packet_loss": (
        "{loss_pct}% of probes to the gateway are lost (limit {limit}%). Check the cable between the "
        "gateway and the modem, and reseat both ends."
    ),
    "gateway_high_latency": (
        "The gateway answers in {rtt_ms} ms (limit {limit} ms). A saturated uplink or a failing modem "
        "is the usual cause; check for large uploads and restart the modem if it persists."
    ),
    "wifi_radio_down": (
        "The Wi-Fi radio {subject} cannot be read ({error}): clients may have no Wi-Fi at all. Restart the "
        "access point service (hostapd); if that does not help, restart the gateway."
    ),
    "wifi_weak_station": (
        "Device {subject} hears the gateway at only {signal_dbm} dBm on {band_ghz} GHz (limit {limit} dBm): it "
        "will be slow and drop out. Move the gateway out of cabinets and away from walls and metal, closer to "
        "where the device is used; on 5 GHz a device this far may do better on 2.4 GHz, or add a mesh point."
    ),
    "wifi_high_retries": (
        "Device {subject} has to resend {retry_ratio:.0%} of its packets (limit {limit:.0%}) on {band_ghz} GHz: "
        "the link is noisy or crowded. Check for interference near the device or the gateway, and consider "
        "another channel."
    ),
    "gateway_unreachable": (
        "The gateway at {subject} stopped answering ({received} of {sent} probes answered). Check that the "
        "modem/router is powered, then the cable from the modem to the gateway; restart the modem if its "
        "lights show no link."
    ),
    "gateway_high_jitter": (
        "The gateway's answer times vary by {jitter_ms} ms (limit {limit} ms): calls and games will stutter. "
        "Look for a saturated uplink (large uploads, backups) or a failing cable."
    ),
    "gateway_latency_rising": (
        "The gateway answers in {recent_rtt_ms} ms where it normally takes {baseline_rtt_ms} ms: the line is "
        "degrading before it fails. Check for a saturated uplink or a loose cable before customers notice."
    ),
    "gateway_loss_rising": (
        "{recent_loss_pct}% of gateway probes are lost, against a normal {baseline_loss_pct}%: the link is "
        "degrading. Reseat the cable between gateway and modem and check the modem's line statistics."
    ),
    "gateway_mac_changed": (
        "The gateway {subject} now answers from {mac}, but it was {known_mac}. If the router was replaced, "
        "nothing is wrong (the new one is accepted after {adopt_after} rounds); otherwise a device on the "
        "network may be impersonating the router: check what is plugged in."
    ),
    "address_conflict": (
        "Another device ({macs}) answers for this gateway's own address {subject} on {interface}: two devices "
        "share one address, and traffic meant for this one goes astray. Find the device with that MAC (the "
        "router's client list, or unplug devices one by one) and give it another address; check for a static "
        "address set inside the DHCP range."
    ),
    "ip_conflict": (
        "Two devices answer for the gateway's address {subject} at once ({macs}; the gateway is known as "
        "{known_mac}): an address conflict or an ARP spoofer, and traffic may go to the wrong one. Find the "
        "device with the other MAC (the router's client list, or unplug devices one by one) and give it "
        "another address or remove it."
    ),
    "uplink_down": (
        "No connection can be opened to {subject} ({error}). The internet connection or the service is down; "
        "check the modem's internet light and the provider's status page."
    ),
    "uplink_unreliable": (
        "Connections to {subject} fail on and off ({failed} of the last {attempts}), while the gateway answers: "
        "packets are lost beyond it, on the provider's line or in a queue kept full by a large transfer. Check the "
        "modem's line statistics and whether something saturates the uplink; ask the provider if it persists."
    ),
    "uplink_slow": (
        "Connecting to {subject} takes {connect_ms} ms (limit {limit} ms). The uplink is congested or the "
        "provider has trouble; check for large transfers on the network."
    ),
    "dhcp_rogue_server": (
        "A second DHCP server answers on {subject}: {rogue_offers} (the network's own: {own}). Devices that take "
        "its offer get a wrong address, gateway or DNS server and lose the Internet, or have their traffic sent "
        "through that device. "
        "Find it by its MAC ({rogue_macs}: the router's client list, or the switch's port table) and turn its "
        "DHCP server off: a second router plugged in LAN port to LAN port goes on its WAN port or into access "
        "point (bridge) mode; a Raspberry Pi, NAS or Pi-hole running dnsmasq gets DHCP disabled. Then restart "
        "the devices that got addresses from it. Nothing is changed automatically."
    ),
    "dhcp_failure": (
        "DHCP on {subject} is failing ({reason}): this device loses its address when its lease runs out, and new "
        "devices get none. Restart the router's DHCP service or the router itself; if the lease is the "
        "problem while the server answers, restart this device's DHCP client."
    ),
    "pmtu_blackhole": (
        "Full-size {family} packets ({local_mtu} bytes) to {subject} vanish without an error while {largest_ok} "
        "bytes get through: a path MTU black hole. Pings and small requests work, but downloads, TLS and large "
        "messages stall. Set the WAN interface's MTU to the size that passes (1492 on PPPoE lines, lower over a "
        "tunnel or VPN; IPv6 tunnels often 1480 or 1280), or turn on TCP MSS clamping on the router for {family} "
        "(clamp to the path MTU); ask the provider, or whoever runs the firewall on the path, to stop filtering "
        "{missing_error}."
    ),
    "probe_failed": (
        "The agent cannot run its {subject} probe ({error}). Connectivity is not being watched: grant the "
        "agent CAP_NET_RAW (see the systemd unit) or fix the network configuration it names."
    ),
    "dns_failure": (
        "The DNS resolver {subject} does not answer ({rcode}). Web pages will not open even though the line "
        "is up. Restart the gateway's DNS service or switch to the provider's secondary resolver."
    ),
    "dns_upstream_failing": (
        "The DNS resolver {subject} is up but answers SERVFAIL for {name}: it cannot get answers from the servers "
        "it asks in turn (the provider's resolvers, or the name's own servers). Restarting the local DNS "
        "service does not fix that. Check the line beyond the gateway and the upstream resolvers it forwards "
        "to; switch to another upstream resolver, or report it to the provider if it persists."
    ),
    "dns_name_missing": (
        "The DNS resolver {subject} says {name} does not exist ({rcode}), though it is a name that must resolve. "
        "A filter on the resolver (block list, parental control) may hide it, or the upstream resolver lost it. "
        "Check the resolver's block lists and the agent's dns_query setting; switch to another upstream "
        "resolver if it persists. Restarting the local DNS service will not bring the name back."
    ),
    "dns_resolver_lies": (
        "The DNS resolver {subject} answers {name} with {answers}, which is wrong: {reason}. Devices are sent to "
        "the wrong place: an ad or malware filter (Pi-hole, parental control), a captive portal, or a hijacked "
        "router. Check the router's DNS settings and filter lists; if nobody set one up, reset the router's DNS "
        "settings to the provider's and change its admin password."
    ),
    "dns_slow": (
        "The DNS resolver {subject} takes {latency_ms} ms to answer (limit {limit} ms). Pages will feel slow "
        "to start; check the uplink and the resolver's load."
    ),
    "high_cpu": (
        "The gateway's CPU is {cpu_percent}% busy (limit {limit}%). Find the process using it with "
        "`top`; a stuck process may need a restart."
    ),
    "high_memory": (
        "The gateway is using {memory_percent}% of its memory (limit {limit}%). A process may be leaking; "
        "restart the agent or the gateway if it keeps growing."
    ),
    "disk_full": (
        "The file system at {subject} is {disk_percent}% full (limit {limit}%). Remove old logs or captures; "
        "a full disk stops services from saving state."
    ),
    "storage_failing": (
        "The agent cannot write to its state directory {subject} ({storage_error}). It keeps running: events "
        "wait in memory ({held_events} now, {dropped_events} lost) and go straight to the cloud while it is "
        "reachable; telemetry is being dropped. Free space on that disk (old logs, captures); if the file "
        "system is read-only or reports I/O errors, the SD card is failing: replace it."
    ),
    "reporting_degraded": (
        "Reports from this gateway to {subject} are not getting through well: {reporting_reasons}. Nothing is "
        "lost: the agent keeps every event and sends again what was not confirmed. If the uplink is otherwise "
        "fine, suspect the path to the broker: a firewall or proxy cutting long connections, an MTU black hole "
        "(small packets pass, large ones vanish), or a broker refusing this device. Check the broker's log for "
        "this device's client id."
    ),
    "high_temperature": (
        "The gateway is at {temperature_c} °C (limit {limit} °C). Make sure it stands in open air, not in "
        "a cabinet, and that its vents are not blocked."
    ),
    "process_down": (
        "The process {subject} is not running. Restart its service; if it keeps stopping, read its log."
    ),
    "interface_errors": (
        "Interface {subject} sees {errors_per_s} errors/s and {drops_per_s} drops/s. Check the cable and "
        "the port on the other end; replace the cable if errors persist."
    ),
    # The on-device models (window classifier, gateway camera, operators' own camera models).
    "ml_interference": (
        "The connectivity model ({model} {model_version}, score {score:.0%}) sees the pattern of radio "
        "interference over the last minutes: the channel busy and noisy, devices resending. Look for a new "
        "transmitter near the gateway (microwave, baby monitor, video sender) and consider another channel."
    ),
    "ml_weak_signal": (
        "The connectivity model ({model} {model_version}, score {score:.0%}) sees a device with a weak, slow link "
        "to the gateway. Move the gateway out of cabinets and away from walls and metal, or add a mesh point "
        "near where the device is used."
    ),
    "ml_uplink_degradation": (
        "The connectivity model ({model} {model_version}, score {score:.0%}) sees the line beyond the gateway "
        "degrading: round trips growing and probes lost while Wi-Fi is fine. Check the modem's line status and "
        "the cable to the modem; call the provider if it persists."
    ),
    "ml_dns_trouble": (
        "The connectivity model ({model} {model_version}, score {score:.0%}) sees name lookups failing or slow "
        "while the line itself answers. Restart the gateway's DNS service or switch to the provider's resolver."
    ),
    "gateway_led_red": (
        "The camera ({source}) shows a red status LED on the gateway ({model} {model_version}, score "
        "{score:.0%}). Look up that LED in the gateway's manual; a red internet LED usually means no line "
        "sync or no login: check the cable to the wall socket and the modem."
    ),
    "gateway_leds_off": (
        "The camera ({source}) shows every LED on the gateway dark ({model} {model_version}, score "
        "{score:.0%}): it may have no power. Check the power supply, the socket and the power switch."
    ),
    "gateway_cable_unplugged": (
        "The camera ({source}) shows the gateway's network cable out of its port ({model} {model_version}, "
        "score {score:.0%}). Plug it back in until it clicks."
    ),
    "gateway_obstructed": (
        "The camera ({source}) cannot see the gateway: something stands in front of it ({model} "
        "{model_version}, score {score:.0%}). Clear the space around the gateway; objects in front of it also "
        "weaken its Wi-Fi."
    ),
    "camera_unavailable": (
        "The camera {subject} gives no frames ({error}), so the gateway's set-up is not being watched. Check "
        "that the camera is connected and not used by another program, then restart the agent."
    ),
    "camera_covered": (
        "Camera {source} shows nothing: {flat_fraction:.0%} of the picture has no detail at all (limit "
        "{limit_flat_fraction:.0%}). Something is over or right against the lens (a hand, a box, a cloth, a "
        "sticker): clear it, and make sure the camera still faces the gateway."
    ),
    "camera_out_of_focus": (
        "Camera {source} is out of focus (blur {blur:.2f}, limit {limit_blur:.2f}). Wipe the lens (dust, "
        "grease, condensation) and check its focus ring; it must show the gateway's LEDs sharply."
    ),
    "camera_too_dark": (
        "Camera {source} sees almost nothing (mean brightness {luma_mean:.0f} of 255, limit {limit_dark_luma:.0f}). "
        "Either the room is dark, or something dark covers the lens (a cap, a hand): turn on a light near the "
        "gateway or uncover the lens. The gateway's LEDs cannot be read in the dark."
    ),
    "camera_overexposed": (
        "Camera {source} is blinded by light: {clipped_fraction:.0%} of the picture is pure white (limit "
        "{limit_clipped_fraction:.0%}). Turn it away from a window or lamp, or shade the gateway from direct sun."
    ),
    "camera_frozen": (
        "Camera {source} sends the very same picture again and again ({identical_frames} identical frames in a "
        "row): the camera or its driver has hung. Unplug and replug the camera, or restart the agent."
    ),
    "camera_moved": (
        "Camera {source} no longer points where it did: the view has shifted by {shift_fraction:.0%} of its width "
        "since the agent started. Point it at the gateway again. If it was moved on purpose, restart the agent so "
        "that it learns the new view."
    ),
    "camera_colour_cast": (
        "Camera {source} sees everything tinted ({cast_channel} channel {cast_ratio:.2f} times the weakest, limit "
        "{limit_cast_ratio:.2f}). A pink or magenta tint in daylight means its infrared-cut filter is stuck (a "
        "night-vision camera): power-cycle the camera, or replace it. Otherwise check its white balance and "
        "coloured light falling on the gateway. LED colours cannot be trusted meanwhile."
    ),
    "camera_model_failed": (
        "The camera model {model} {error}. The other camera checks keep running without it. Check that the "
        "model file is the one its [[models.custom]] entry describes (kind, labels, input), replace it, and "
        "restart the agent."
    ),
    "camera_alert": (
        "The camera model {model} sees {label} (score {score:.0%}) in front of the gateway ({source}). Check "
        "what your site's rule for {label} asks for."
    ),
    "line_down": (
        "The watched modem or ONT shows the line down ({rule}; its LEDs: {leds}). Check that the fibre or DSL "
        "cable is plugged in firmly at both ends and not bent sharply; power-cycle the device; if the light "
        "stays like this, call the line provider with what its LEDs show."
    ),
    "device_alarm": (
        "The watched device shows an alarm ({rule}; its LEDs: {leds}). Look up what this light means in the "
        "device's manual; power-cycle it once, and call the provider if the alarm comes back."
    ),
    "device_powered_off": (
        "The watched device looks switched off ({rule}; its LEDs: {leds}). Check its power adapter, the socket "
        "and its power switch."
    ),
    "device_link_down": (
        "A link of the watched device is down ({rule}; its LEDs: {leds}). Reseat the cable between it and the "
        "gateway at both ends, or try another cable."
    ),
    "device_state_changed": (
        "The watched device's lights no longer show their usual state ({rule}; its LEDs: {leds}). Check the "
        "device and its cables; if the new state is normal, calibrate the camera's LED profile again."
    ),
    "watched_device_occluded": (
        "The camera ({source}) cannot read the watched device's lights: {why}, for {occluded_s} s. Move whatever "
        "stands in front of the device; if the camera or the device was moved on purpose, calibrate the LED "
        "profile again (edge-agent camera calibrate)."
    ),
}

FALLBACK = "No guidance is written for this issue type yet; report it with the evidence shown."


class _Unknown:
    """Stands for a value the evidence lacks, whatever format spec the template gives it."""

    def __format__(self, spec: str) -> str:
        return "?"


class _Blank(dict):
    def __missing__(self, key: str) -> _Unknown:
        return _Unknown()


def intermittent_note(drops: int, span_s: float) -> str:
    """What to add to an issue's guidance once it is known to come and go."""
    minutes = max(1, round(span_s / 60))
    return (f"It comes and goes ({drops} drops in about {minutes} min): look for a loose or damaged cable, a "
            "port or device that restarts, or a power problem, rather than a configuration fault.")


def guidance_for(issue_type: str, subject: str, evidence: Mapping[str, Any]) -> str:
    template = GUIDANCE.get(issue_type, FALLBACK)
    known = {key: value for key, value in evidence.items() if value is not None}  # unknown reads '?', not 'None'
    return template.format_map(_Blank(known, subject=subject))
