"""The messages of ``POST /federation/v1/blob``: one chunk of an attachment's bytes.

The asker names the record that attaches the blob (the decision is about that record and
that attachment), the blob's hash and the offset to read from: what it holds already of an
interrupted download. The answer carries at most :data:`CHUNK_BYTES` bytes, the blob's whole
size and the SHA-256 of the chunk. The whole blob is checked against the hash the signed
record names before it is stored (``archive.blobs.BlobStore.finish_partial``).
"""

from __future__ import annotations

from federation.wire import Field, Schema

CHUNK_BYTES = 512 * 1024
MAX_BLOB_OFFSET = 1 << 40
BLOB_REQUEST: Schema = {
    "record": Field(bytes, 32, exact=True),
    "blob": Field(bytes, 32, exact=True),
    "offset": Field(int, MAX_BLOB_OFFSET),
}
BLOB_CHUNK: Schema = {
    "data": Field(bytes, CHUNK_BYTES),
    "size": Field(int, MAX_BLOB_OFFSET),
    "digest": Field(bytes, 32, exact=True),
}
