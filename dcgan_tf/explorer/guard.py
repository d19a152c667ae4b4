"""Who may talk to the explorer: only its own page, at its own address.

The server has no password, so a web page on another site must not be able
to use it through the visitor's browser. Two attacks are refused before any
route runs:

- DNS rebinding: a site whose name resolves to 127.0.0.1 reaches the port as
  "its own" origin. Its requests carry its name in `Host`, so only a `Host`
  that names the address the server listens on (or the loopback) with its
  port is served.
- Cross-site requests: a page elsewhere may POST a form or a `text/plain`
  body without the browser asking first. Browsers say where a request comes
  from (`Origin`, `Sec-Fetch-Site`): one from another origin is refused, and
  the JSON routes take only `Content-Type: application/json`, which no form
  can send. A top-level navigation to the page itself (a link) stays allowed:
  it only shows the page.
"""

import ipaddress
import re

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARDS = ("", "0.0.0.0", "::")  # listening on every interface
HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$")
JSON_TYPES = ("application/json",)


class Refused(Exception):
    """A request the explorer will not serve: `status` and a sentence."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def split_host(value: str | None, default_port: int = 80):
    """`"[::1]:8765"` -> `("::1", 8765)`; None for anything that is not a
    plain host name or address with an optional port."""
    match = HOST.match((value or "").strip().lower())
    if not match:
        return None
    name, port = match.group(1).strip("[]"), match.group(2)
    port = int(port) if port else default_port
    return (name, port) if 0 < port < 65536 else None


def is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def host_allowed(name: str, listening: str) -> bool:
    """Whether a request's host name is one the server at `listening` has.

    The loopback names and the `--host` given are; when it listens on every
    interface (`0.0.0.0`), any IP address is too (an address names no site,
    so no page can rebind it), but still no other name.
    """
    listening = listening.strip("[]").lower()
    if name in LOOPBACK or name == listening:
        return True
    return listening in WILDCARDS and is_address(name)


def check(method: str, path: str, headers, listening: str, port: int, json_routes):
    """Raises `Refused` for a request the explorer's own page would not send.

    Args:
        method, path: the request's.
        headers: its headers (a mapping, case-insensitive names).
        listening: the host the server listens on (`--host`).
        port: the port it listens on (the port the request came in on).
        json_routes: a predicate: whether a POST to `path` must be JSON.
    """
    host = split_host(headers.get("Host"))
    if host is None or host[1] != port or not host_allowed(host[0], listening):
        raise Refused(
            403,
            f"Refused: Host {headers.get('Host')!r} is not this explorer's address; "
            "open the page at the address the command printed.",
        )
    origin = headers.get("Origin")
    if origin is not None:
        scheme, _, rest = origin.partition("://")
        if scheme.lower() != "http" or split_host(rest) != host:
            raise Refused(
                403, f"Refused: a request from another site ({origin[:100]})."
            )
    site = (headers.get("Sec-Fetch-Site") or "").lower()
    navigation = (
        method in ("GET", "HEAD")
        and path == "/"
        and headers.get("Sec-Fetch-Mode", "").lower() == "navigate"
    )
    if site in ("cross-site", "same-site") and not navigation:
        raise Refused(403, f"Refused: a request from another site ({site}).")
    if method == "POST" and json_routes(path):
        kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind not in JSON_TYPES:
            raise Refused(
                415,
                f"The body must be sent as application/json, not {kind or 'untyped'}.",
            )
