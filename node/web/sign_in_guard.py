"""Growing delays after failed sign-ins, per address and per member name.

Each attempt is a strike against the address it came from and the name it tried, counted
*before* the password is checked (so a burst of parallel guesses cannot all slip in while the
first ones are being checked) and taken back when the password was right. The first
:data:`FREE_FAILURES` cost nothing (people mistype); after that the address and the name
must wait 1 s, 2 s, 4 s, … up to :data:`MAX_DELAY` (15 minutes) before the next try, and a
try during the wait is refused without checking the password at all, so even the right
password waits. A successful sign-in clears the name and the address; an hour without
failures forgets them.

The address is the client's as :func:`node.web.client.client_of` finds it: behind a proxy
listed in ``[server] trusted_proxies``, the visitor's own. Loopback addresses get no
per-address delay: behind a proxy that is not listed every visitor comes from 127.0.0.1, and
one guesser must not lock everyone out. The per-name delay still holds there.

The state lives in memory (bounded: :data:`MAX_ENTRIES` names and addresses, oldest dropped
first). A restart forgets it; only the operator can restart the node, and the first tries
after a restart are again the few free ones, so guessing stays at a few per restart.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
FREE_FAILURES = 3
FIRST_DELAY = 1
MAX_DELAY = 15 * 60
FORGET_AFTER = 3600
MAX_ENTRIES = 10_000


@dataclass
class _Strikes:
    failures: int = 0
    last: float = 0.0
    until: float = 0.0


def delay_after(failures: int) -> float:
    """Seconds to wait after ``failures`` failures in a row."""
    if failures <= FREE_FAILURES:
        return 0.0
    return float(min(FIRST_DELAY * 2 ** (failures - FREE_FAILURES - 1), MAX_DELAY))


class SignInGuard:
    """Who must wait before the next sign-in attempt, and for how long."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._strikes: dict[str, _Strikes] = {}

    def wait(self, address: str, name: str) -> int:
        """Whole seconds before ``name`` may be tried from ``address`` (0: go ahead)."""
        now = self.clock()
        waits = [self._current(key, now).until - now for key in self._keys(address, name)]
        return max(0, int(-(-max(waits) // 1)))  # rounded up: "try in 0 s" would be a lie

    def attempt(self, address: str, name: str) -> None:
        """Count an attempt as failed until :meth:`succeeded` says otherwise."""
        now = self.clock()
        for key in self._keys(address, name):
            strikes = self._current(key, now)
            strikes.failures += 1
            strikes.last = now
            strikes.until = now + delay_after(strikes.failures)
            self._strikes[key] = strikes
        self._bound()

    def succeeded(self, address: str, name: str) -> None:
        for key in self._keys(address, name):
            self._strikes.pop(key, None)

    def _current(self, key: str, now: float) -> _Strikes:
        strikes = self._strikes.get(key)
        if strikes is None or now - strikes.last > FORGET_AFTER:
            return _Strikes()
        return strikes

    @staticmethod
    def _keys(address: str, name: str) -> list[str]:
        keys = [f"name:{name}"]
        if not _is_loopback(address):
            keys.append(f"address:{address}")
        return keys

    def _bound(self) -> None:
        """Keep at most :data:`MAX_ENTRIES`: drop the forgotten, then the oldest."""
        if len(self._strikes) <= MAX_ENTRIES:
            return
        now = self.clock()
        for key in [key for key, s in self._strikes.items() if now - s.last > FORGET_AFTER]:
            del self._strikes[key]
        if len(self._strikes) > MAX_ENTRIES:
            by_age = sorted(self._strikes, key=lambda key: self._strikes[key].last)
            for key in by_age[: len(self._strikes) - MAX_ENTRIES * 9 // 10]:
                del self._strikes[key]


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
