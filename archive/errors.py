"""Errors of the archive layer; all are :class:`crypto.errors.RhizomeError`."""

from __future__ import annotations

from crypto.errors import RhizomeError


class ArchiveError(RhizomeError):
    """The archive refused an operation; the message says which and why."""


class InvalidLesson(ArchiveError):
    """A lesson's content breaks a rule: the message names the file or record and the field.

    Fix that field and add the lesson again; nothing was stored.
    """

    code = "invalid_lesson"

    def __init__(self, where: str, field: str | None, problem: str) -> None:
        self.where = where
        self.field = field
        self.problem = problem
        location = f"{where}: field '{field}'" if field else where
        super().__init__(f"{location}: {problem}")


class UnknownRecord(ArchiveError):
    """No record has this id (or id prefix) here. ``rhizome lesson list`` shows the ids."""

    http_status = 404
    code = "not_found"


class InvalidRecordId(ArchiveError):
    """Not a record id: ids are hex, and a prefix needs at least four characters."""

    code = "invalid_id"


class AmbiguousRecordId(ArchiveError):
    """Several records start with this prefix; type more of the id."""

    code = "ambiguous_id"


class DatabaseError(ArchiveError):
    """The database file is damaged, locked for too long or from a newer Rhizome.

    Restore the home from a backup, or upgrade Rhizome if the schema is newer.
    """

    http_status = 503
    code = "database_error"


class StorageFull(ArchiveError):
    """The disk (or the database's file system) is full: nothing of this change was stored.

    Free some space on the disk that holds the node home (``df -h`` shows it), then try
    again. What was stored before stays intact; a peer is told to retry later.
    """

    http_status = 507
    code = "storage_full"


class PurgeNotDurable(ArchiveError):
    """A withdrawn record is gone from the archive, but its old bytes could not be scrubbed
    from the disk yet (another process held the database, or the disk is full).

    The node finishes the scrub by itself: at its next start, or within a minute while it
    serves; no receipt says "purged" before that. Free disk space if the disk is full.
    """

    http_status = 503
    code = "purge_pending"
