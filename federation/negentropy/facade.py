"""``Negentropy``: one object for either role, shaped like the reference implementations.

Typed code that knows its role (the sync engine) should use ``Initiator`` or ``Responder``
directly; this facade exists for code whose role is decided at run time, like the test
harness, where the first call (``initiate`` or ``reconcile``) fixes the role.
"""

from __future__ import annotations

from federation.negentropy.errors import UsageError
from federation.negentropy.protocol import Initiator, ReconcileResult, Responder
from federation.negentropy.storage import Storage


class Negentropy:
    """``initiate()`` makes this the initiator; a ``reconcile()`` first makes it the responder.

    ``reconcile`` returns a ``ReconcileResult`` (next message or None, have ids, need ids) on
    the initiator and the answer ``bytes`` on the responder.
    """

    def __init__(self, storage: Storage, frame_size_limit: int = 0) -> None:
        self._storage = storage
        self._frame_size_limit = frame_size_limit
        self._role: Initiator | Responder | None = None
        Responder(storage, frame_size_limit)  # validate the limit now, as the reference does

    @property
    def is_initiator(self) -> bool:
        return isinstance(self._role, Initiator)

    def initiate(self) -> bytes:
        if self._role is None:
            self._role = Initiator(self._storage, self._frame_size_limit)
        if not isinstance(self._role, Initiator):
            raise UsageError("this session already answered as the responder")
        return self._role.initiate()

    def reconcile(self, message: bytes) -> ReconcileResult | bytes:
        if self._role is None:
            self._role = Responder(self._storage, self._frame_size_limit)
        return self._role.reconcile(message)
