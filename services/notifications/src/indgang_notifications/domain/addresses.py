"""Where a webhook may go: https to a public address, nothing inside. Pure.

A subscription's URL is chosen by whoever holds the admin key, and the sender
runs inside the municipality's network, so an URL pointing at loopback, the
internal network or a cloud's metadata service would turn the sender into a
way in (SSRF). Each URL is checked when it is registered and each address it
resolves to is checked again at send time (`adapters.webhooks` then connects to
the very address it checked). Development and tests allow their local receiver
through an allowlist of networks (`WEBHOOK_ALLOWED_NETWORKS`); the metadata
addresses stay refused even then.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The reason a person sees (the log page, the API's last_error and 422s).
ADDRESS_NOT_ALLOWED = "address not allowed"

# Cloud instance metadata (AWS, Azure, GCP, OpenStack, Alibaba, Oracle, AWS ECS):
# never, whatever the allowlist says.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.169.123",
        "100.100.100.200",
        "192.0.0.192",
        "fd00:ec2::254",
        "fd00:ec2::23",
    )
)
# Names of metadata services, refused before any lookup (other names are judged by
# the addresses they resolve to).
METADATA_NAMES = ("metadata.google.internal", "metadata", "instance-data")


def networks(text: str) -> tuple[IPNetwork, ...]:
    """`WEBHOOK_ALLOWED_NETWORKS`: addresses or networks, separated by commas or spaces."""
    return tuple(
        ipaddress.ip_network(part, strict=False) for part in text.replace(",", " ").split()
    )


def address_refused(address: str, allowed: Iterable[IPNetwork] = ()) -> bool:
    """True unless `address` is a public unicast address or in an `allowed` network
    (a metadata address is refused in any case)."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    # An IPv4 address written as IPv6 (::ffff:127.0.0.1, 64:ff9b::…) is judged as IPv4.
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or _nat64(ip)
        if embedded is not None:
            ip = embedded
    if ip in METADATA_ADDRESSES:
        return True
    if any(ip in network for network in allowed if network.version == ip.version):
        return False
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def url_problem(
    url: str, *, allow_plain_http: bool, allowed: Sequence[IPNetwork] = ()
) -> str | None:
    """What is wrong with a webhook URL on its face (scheme, credentials, an internal
    address or metadata name written into it); None if nothing. Names are resolved and checked
    by the caller (at registration) and by the sender (at every send)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a valid URL"
    schemes = ("https", "http") if allow_plain_http else ("https",)
    if parts.scheme not in schemes:
        return "the URL must use https"
    if not parts.hostname:
        return "the URL needs a host"
    if parts.username is not None or parts.password is not None:
        return "the URL must not carry a user name or password"
    if port == 0:
        return "not a valid URL"
    host = parts.hostname.rstrip(".").lower()
    if is_ip_literal(host):
        return ADDRESS_NOT_ALLOWED if address_refused(host, allowed) else None
    return ADDRESS_NOT_ALLOWED if host in METADATA_NAMES else None


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _nat64(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
