"""Attack tests, one file per attack (python-tuf style): what the attacker does, what must hold.

They reuse the real-node fixtures of the integration tests (real homes, real aiohttp servers
on 127.0.0.1, the real pairing and sync paths) and the CLI helpers of the node tests.
"""

from tests.integration.conftest import cluster, slow_link
from tests.node.conftest import _clean_environment, invoke
from tests.wire.relay import relays

__all__ = ["_clean_environment", "cluster", "invoke", "relays", "slow_link"]
