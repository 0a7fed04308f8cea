"""How much the class set (and its leaderboard) takes in: limits a new browser (a new cookie) does not reset.

Whoever runs the server may change them with environment variables (docs/class_limits.md
says how the defaults were chosen). A value that is not a positive number is ignored (the
default is used, and the log says so).

    DIGITS_CLASS_PER_BROWSER          drawings one browser may add in all (500)
    DIGITS_CLASS_BROWSER_SECONDS      seconds between two drawings of one browser (1)
    DIGITS_CLASS_PER_ADDRESS_MINUTE   drawings from one client address in a minute (400)
    DIGITS_CLASS_SERVER_MINUTE        drawings the whole server takes in a minute (1000)
    DIGITS_CLASS_MAX_DRAWINGS         drawings in the class set in all (3000)
    DIGITS_CLASS_RUNS_PER_ADDRESS_MINUTE  leaderboard rows from one client address in a minute (60)
    DIGITS_CLASS_RUNS_SERVER_MINUTE   leaderboard rows the whole server takes in a minute (200)

The address and server counts are kept in the class database, so they hold across app
processes (several processes sharing one PostgreSQL database count together).
"""
import hashlib
import ipaddress
import logging
import math
import os
from dataclasses import dataclass

_log = logging.getLogger(__name__)
WINDOW = 60.0            # seconds: the address and server rates are counted per minute


def positive_env(name, default, kind=float):
    """The environment variable `name` as a positive number of `kind`, or `default` if it is
    unset; a value that is not a positive number is ignored (with a warning in the log)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        _log.warning("%s=%r is not a positive number; using %s", name, text, default)
        return default
    return value


ENV = {"per_browser": "DIGITS_CLASS_PER_BROWSER", "browser_seconds": "DIGITS_CLASS_BROWSER_SECONDS",
       "per_address_minute": "DIGITS_CLASS_PER_ADDRESS_MINUTE", "server_minute": "DIGITS_CLASS_SERVER_MINUTE",
       "max_drawings": "DIGITS_CLASS_MAX_DRAWINGS", "runs_per_address_minute": "DIGITS_CLASS_RUNS_PER_ADDRESS_MINUTE",
       "runs_server_minute": "DIGITS_CLASS_RUNS_SERVER_MINUTE"}


@dataclass(frozen=True)
class ClassLimits:
    per_browser: int = 500
    browser_seconds: float = 1.0
    per_address_minute: int = 400
    server_minute: int = 1000
    max_drawings: int = 3_000
    runs_per_address_minute: int = 60
    runs_server_minute: int = 200

    @classmethod
    def from_env(cls):
        d = cls()
        return cls(**{name: positive_env(var, getattr(d, name), type(getattr(d, name))) for name, var in ENV.items()})


def address_key(ip):
    """The client address a try is counted under, as an opaque key: the IPv4 address, or an
    IPv6 address's /64 network (one home or school network: a device can make up any number
    of addresses inside its /64). None (Streamlit's answer for this machine) is one address too.
    Hashed: the database keeps no address in clear (though an IPv4 address's hash can be found
    by trying them all), and its row only until a drawing comes after its minute is long over."""
    where = "this machine"
    if ip:
        try:
            a = ipaddress.ip_address(ip)
        except ValueError:
            where = str(ip)[:100]
        else:
            if a.version == 6 and a.ipv4_mapped:
                a = a.ipv4_mapped
            where = str(a) if a.version == 4 else str(ipaddress.ip_network(f"{a}/64", strict=False))
    return hashlib.sha256(f"digits class address {where}".encode()).hexdigest()[:32]
