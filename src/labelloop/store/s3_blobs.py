"""Blobs in an S3-compatible object store (AWS S3, MinIO, Ceph, SeaweedFS) through boto3.

The same content addressing as the local store (store/blobs.py): the object key of a file is
`<prefix>/ab/cd/<sha256>` (no prefix: `ab/cd/<sha256>`). A file is staged exactly as locally,
streamed to a temporary local file while it is hashed (Pillow and PyAV read that file at import),
and `commit` uploads it with boto3's managed transfer (multipart above 8 MiB, parts in parallel),
so an object appears whole or not at all: S3 makes an upload visible only once it completes. Equal
keys mean equal bytes, so a key that exists is never uploaded again.

Encryption at rest by labelloop (store/crypto.py) works unchanged: the object holds the same
chunked AES-GCM file the local store would write, and a byte range is read by fetching only the
chunks it covers (`DecryptingReader` over `RangeReader`, ranged GetObjects). Server-side
encryption (`LABELLOOP_S3_SSE`: `AES256` or `aws:kms`, with `LABELLOOP_S3_SSE_KMS_KEY_ID`) is
passed to every upload and is the bucket's business, independent of ours.

`local_path` is None: serving streams ranged GetObjects (or, with `LABELLOOP_S3_PRESIGN`, sends the
browser to a short-lived presigned URL), and code that needs a file on disk takes `local_copy`.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

from labelloop.errors import DomainError
from labelloop.store.blobs import PIECE, SpooledBlob, is_sha256, spool, sweep_stale
from labelloop.store.crypto import MAGIC, DecryptingReader, EncryptionError, Keyring, encrypt_stream
from labelloop.store.s3_io import READ_AHEAD, BodyReader, Prefixed, RangeReader, client_error_code, missing

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MULTIPART_THRESHOLD = 8 * 1024 * 1024
SEQUENTIAL_READ_AHEAD = 8 * 1024 * 1024  # what a ranged GetObject fetches when a whole file is read
_TMP = "tmp"


class BlobStoreError(DomainError):
    """The object store cannot be used: a wrong bucket, endpoint or credentials, or boto3 missing."""


class S3BlobStore:
    """Blobs as objects of one bucket under a key prefix; temporary files in `tmp_dir` (local)."""

    def __init__(self, client: S3Client, bucket: str, *, prefix: str = "", tmp_dir: Path,
                 sse: str | None = None, sse_kms_key_id: str | None = None, presign: bool = False,
                 presign_seconds: int = 300, keyring: Keyring | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.tmp_dir = tmp_dir
        self.presign = presign
        self.presign_seconds = presign_seconds
        self.keyring = keyring
        self.allow_plaintext = False  # as LocalBlobStore: only `labelloop encryption enable`
        self.read_ahead = READ_AHEAD
        self.extra_args: dict[str, str] = {}
        if sse:
            self.extra_args["ServerSideEncryption"] = sse
        if sse_kms_key_id:
            self.extra_args["SSEKMSKeyId"] = sse_kms_key_id

    @classmethod
    def connect(cls, *, bucket: str, prefix: str = "", endpoint_url: str | None = None, tmp_dir: Path,
                sse: str | None = None, sse_kms_key_id: str | None = None, presign: bool = False,
                presign_seconds: int = 300) -> S3BlobStore:
        """A store on `bucket`, checked now (HeadBucket): a wrong bucket, endpoint or credentials
        stops the start with a clear error rather than failing the first import. Region and
        credentials come from boto3's usual chain (environment, ~/.aws, instance role)."""
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
        except ImportError:
            raise BlobStoreError("LABELLOOP_BLOB_STORE=s3 needs boto3: pip install 'labelloop[s3]'") from None
        if not bucket:
            raise BlobStoreError("LABELLOOP_BLOB_STORE=s3 needs LABELLOOP_S3_BUCKET")
        # A custom endpoint (MinIO, SeaweedFS, Ceph) is usually addressed by path, not by a
        # bucket subdomain that its DNS does not know.
        config = Config(s3={"addressing_style": "path"} if endpoint_url else {},
                        retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60)
        where = f"bucket {bucket!r}" + (f" at {endpoint_url}" if endpoint_url else "")
        try:
            client = boto3.client("s3", endpoint_url=endpoint_url or None, config=config)
            client.head_bucket(Bucket=bucket)
        except ClientError as e:
            code = client_error_code(e)
            why = {"404": "does not exist", "NoSuchBucket": "does not exist",
                   "403": "refuses these credentials (access denied)"}.get(code, f"answered {code}")
            raise BlobStoreError(f"S3 {where} {why}: check LABELLOOP_S3_BUCKET and the AWS "
                                 "credentials") from None
        except NoCredentialsError:
            raise BlobStoreError(f"S3 {where}: no AWS credentials found (AWS_ACCESS_KEY_ID and "
                                 "AWS_SECRET_ACCESS_KEY, ~/.aws, or an instance role)") from None
        except BotoCoreError as e:
            raise BlobStoreError(f"S3 {where} cannot be reached: {e}") from None
        return cls(client, bucket, prefix=prefix, tmp_dir=tmp_dir, sse=sse, sse_kms_key_id=sse_kms_key_id,
                   presign=presign, presign_seconds=presign_seconds)

    def __repr__(self) -> str:
        return f"S3BlobStore(s3://{self.bucket}/{self.prefix})"

    def _not_found(self, sha256: str) -> FileNotFoundError:
        return FileNotFoundError(f"blob {sha256} is not in s3://{self.bucket}/{self.prefix}")

    def key_of(self, sha256: str) -> str:
        if not is_sha256(sha256):
            raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
        name = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def _tmp(self) -> Path:
        tmp = self.tmp_dir / _TMP
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp

    # --- writing ---------------------------------------------------------------------------

    def stage(self, source: IO[bytes], *, limit: int) -> SpooledBlob:
        return SpooledBlob(self._place, *spool(source, self._tmp(), limit=limit))

    def put(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if self.exists(sha256):
            return sha256
        if self.keyring is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key_of(sha256), Body=data,
                                   **self.extra_args)  # type: ignore[arg-type]
            return sha256
        out = io.BytesIO()
        encrypt_stream(self.keyring, io.BytesIO(data), out)
        self.client.put_object(Bucket=self.bucket, Key=self.key_of(sha256), Body=out.getvalue(),
                               **self.extra_args)  # type: ignore[arg-type]
        return sha256

    def _upload(self, path: Path, sha256: str) -> None:
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD,
                                multipart_chunksize=MULTIPART_THRESHOLD)
        self.client.upload_file(str(path), self.bucket, self.key_of(sha256),
                                ExtraArgs=dict(self.extra_args) or None, Config=config)

    def _place(self, plain: Path, sha256: str) -> None:
        """Upload a staged plaintext file (encrypted first, locally, when there is a key)."""
        if self.exists(sha256):
            return
        if self.keyring is None:
            self._upload(plain, sha256)
            return
        self._upload_encrypted(plain, sha256)

    def _upload_encrypted(self, plain: Path, sha256: str) -> None:
        assert self.keyring is not None
        fd, name = tempfile.mkstemp(dir=self._tmp(), suffix=".enc")
        try:
            with os.fdopen(fd, "w+b") as out, plain.open("rb") as source:
                found, _ = encrypt_stream(self.keyring, source, out)
            if found != sha256:
                raise EncryptionError(f"blob file {sha256} holds other bytes ({found}); not stored")
            self._upload(Path(name), sha256)
        finally:
            Path(name).unlink(missing_ok=True)

    # --- reading ---------------------------------------------------------------------------

    def _head(self, sha256: str) -> dict[str, Any] | None:
        try:
            return cast(dict[str, Any], self.client.head_object(Bucket=self.bucket, Key=self.key_of(sha256)))
        except Exception as e:
            if missing(e):
                return None
            raise

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def _ranges(self, sha256: str, *, prefetch: bool = False, read_ahead: int | None = None) -> RangeReader:
        """A ranged reader of the object. `prefetch`: its first bytes come with the request that
        learns its size (a GET instead of a HEAD), for readers that start at the front (an
        encrypted file's header), one round trip fewer."""
        key, ahead = self.key_of(sha256), read_ahead or self.read_ahead
        if prefetch:
            try:
                got = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{ahead - 1}")
            except Exception as e:
                if missing(e):
                    raise self._not_found(sha256) from None
                if client_error_code(e) != "InvalidRange":  # an empty object has no byte 0
                    raise
            else:
                size = int(str(got.get("ContentRange", "")).rpartition("/")[2] or got["ContentLength"])
                reader = RangeReader(self.client, self.bucket, key, size, read_ahead=ahead)
                reader.keep(0, got["Body"].read())
                return reader
        head = self._head(sha256)
        if head is None:
            raise self._not_found(sha256)
        return RangeReader(self.client, self.bucket, key, int(head["ContentLength"]), read_ahead=ahead)

    def _is_encrypted(self, raw: RangeReader) -> bool:
        raw.seek(0)
        head = raw.read(len(MAGIC))
        raw.seek(0)
        return head == MAGIC

    def open(self, sha256: str) -> BinaryIO:
        if self.keyring is not None:  # read front to back: in larger ranged GETs
            raw = self._ranges(sha256, prefetch=True, read_ahead=SEQUENTIAL_READ_AHEAD)
            if self._is_encrypted(raw):
                return cast(BinaryIO, io.BufferedReader(DecryptingReader(self.keyring, raw, sha256=sha256)))
            if not self.allow_plaintext:
                raise EncryptionError(f"blob {sha256} is not encrypted although a key is configured: "
                                      "finish `labelloop encryption enable`")
            return cast(BinaryIO, io.BufferedReader(raw, READ_AHEAD))
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=self.key_of(sha256))
        except Exception as e:
            if missing(e):
                raise self._not_found(sha256) from None
            raise
        body = got["Body"]
        start = body.read(len(MAGIC))
        if start == MAGIC:
            body.close()
            raise EncryptionError(f"blob {sha256} is encrypted and no key is configured")
        # The bytes already read go back in front of the rest of the stream.
        return cast(BinaryIO, io.BufferedReader(BodyReader(Prefixed(start, body)), PIECE))

    def open_range(self, sha256: str) -> DecryptingReader | RangeReader:
        """What a Range request is served from: an object with `size` and `range(start, end)`,
        decrypting only the chunks a range covers when the file is encrypted by labelloop."""
        if self.keyring is None:
            return self._ranges(sha256)
        return DecryptingReader(self.keyring, self._ranges(sha256, prefetch=True), sha256=sha256)

    def local_path(self, sha256: str) -> Path | None:
        return None

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """A temporary local file with the blob's plaintext (for Pillow, PyAV, OpenCV), removed
        on leaving the block."""
        fd, name = tempfile.mkstemp(dir=self._tmp(), suffix=".copy")
        try:
            with os.fdopen(fd, "wb") as out, self.open(sha256) as source:
                while piece := source.read(PIECE):
                    out.write(piece)
            yield Path(name)
        finally:
            Path(name).unlink(missing_ok=True)

    def presigned_url(self, sha256: str, *, media_type: str, disposition: str) -> str | None:
        """A short-lived GET URL for the browser, or None when presigning is off or the file is
        encrypted by labelloop (the browser could not read the chunks: it is served decrypted)."""
        if not self.presign or self.keyring is not None:
            return None
        return self.client.generate_presigned_url(
            "get_object", ExpiresIn=self.presign_seconds,
            Params={"Bucket": self.bucket, "Key": self.key_of(sha256), "ResponseContentType": media_type,
                    "ResponseContentDisposition": disposition,
                    "ResponseCacheControl": "private, max-age=31536000, immutable"})

    def hashes(self) -> Iterator[str]:
        """Every stored object's hash, in key order (objects not named like blobs left out)."""
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = f"{self.prefix}/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                name = key.rsplit("/", 1)[-1]
                if is_sha256(name) and key == self.key_of(name):
                    yield name

    def key_id_of(self, sha256: str) -> str | None:
        """The id of the key the object is encrypted with, or None for a plaintext object."""
        raw = self._ranges(sha256, prefetch=True, read_ahead=len(MAGIC) + 8)
        head = raw.read(len(MAGIC) + 8)
        return head[len(MAGIC):].hex() if head[: len(MAGIC)] == MAGIC else None

    def encrypt(self, sha256: str) -> bool:
        """Encrypt (or re-encrypt under the current key) one object: read, encrypt locally,
        upload over it (S3 replaces an object atomically). False if it already was current."""
        assert self.keyring is not None
        if self.key_id_of(sha256) == self.keyring.key_id:
            return False
        allowed, self.allow_plaintext = self.allow_plaintext, True
        try:
            with self.local_copy(sha256) as plain:
                self._upload_encrypted(plain, sha256)
        finally:
            self.allow_plaintext = allowed
        return True

    def delete(self, sha256: str) -> bool:
        """Remove one object (erasure, retention); False if it was not there."""
        if not self.exists(sha256):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self.key_of(sha256))
        return True

    def sweep_temporary(self, older_than: float = 0.0) -> int:
        """Remove the local temporary files a stopped process left (an unfinished multipart
        upload is the bucket's to expire: an AbortIncompleteMultipartUpload lifecycle rule)."""
        return sweep_stale(self.tmp_dir / _TMP, older_than)
