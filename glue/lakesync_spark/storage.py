"""The two storage adapters of etl/storage/local.ts and etl/storage/s3.ts, with the same atomic primitives.

Local: create-if-absent is link(2) of a temporary file (fails when the name exists); compare-and-swap holds the
same `<file>.lock` (O_EXCL) as the TypeScript adapter around the SHA-256 compare and the rename, so both engines can
act on one target. S3: PutObject with If-None-Match: * and If-Match: <etag> (412 when the condition fails).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import time
from dataclasses import dataclass

TMP = ".lakesync-tmp-"
LOCK_STALE_S = 30.0
MULTIPART_MIN = 5 * 1024 * 1024  # S3's smallest multipart part (but the last)
COPY_PART = 1024 ** 3  # UploadPartCopy ranges of at most 1 GiB (S3 allows 5 GiB)


@dataclass
class StoredObject:
    path: str
    size: int
    mtime_ms: float | None = None
    etag: str | None = None


def aws_client(service: str):
    """A boto3 client. boto3 reads the endpoint (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_GLUE...), credentials and
    AWS_DEFAULT_REGION itself; AWS_REGION (what the AWS SDK for JavaScript and the Lambda runtime set) is honoured too."""
    import boto3

    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or None
    return boto3.client(service, region_name=region)


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


class LocalStorage:
    def __init__(self, root: str):
        self.root = root  # as given, like the TypeScript adapter (it appears in the commit record's `source`)
        self.abs = os.path.abspath(root)

    def url(self, path: str) -> str:
        """The location Spark reads and writes."""
        return os.path.join(self.abs, path)

    def name(self, path: str) -> str:
        """How errors name the file: the local path."""
        return os.path.join(self.root, path)

    def list(self, prefix: str = "") -> list[StoredObject]:
        out = []
        base = os.path.join(self.abs, prefix[: prefix.rfind("/") + 1])
        for dirpath, _dirs, files in os.walk(base):
            for f in files:
                if f.startswith(TMP):
                    continue
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, self.abs).replace(os.sep, "/")
                if not rel.startswith(prefix) or not os.path.isfile(full):
                    continue
                try:
                    st = os.stat(full)
                except FileNotFoundError:  # gone since the walk (a compare-and-swap's lock file): not listed
                    continue
                ns = st.st_mtime_ns
                # Node's Stats.mtimeMs: sec * 1e3 + nsec / 1e6, so both engines record the same double.
                out.append(StoredObject(rel, st.st_size, (ns // 1_000_000_000) * 1e3 + (ns % 1_000_000_000) / 1e6))
        out.sort(key=lambda o: o.path)
        return out

    def read(self, path: str) -> bytes:
        with open(os.path.join(self.abs, path), "rb") as f:
            return f.read()

    def read_versioned(self, path: str):
        try:
            b = self.read(path)
        except FileNotFoundError:
            return None
        return b, sha256(b)

    def _temp(self, path: str, data: bytes) -> str:
        full = os.path.join(self.abs, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        tmp = os.path.join(os.path.dirname(full), TMP + secrets.token_hex(6))
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return tmp

    def write(self, path: str, data: bytes) -> None:
        os.replace(self._temp(path, data), os.path.join(self.abs, path))

    def create_exclusive(self, path: str, data: bytes) -> str | None:
        tmp = self._temp(path, data)
        try:
            os.link(tmp, os.path.join(self.abs, path))
            return sha256(data)
        except FileExistsError:
            return None
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def replace_if_match(self, path: str, data: bytes, etag: str) -> str | None:
        full = os.path.join(self.abs, path)
        lock = full + ".lock"
        tmp = self._temp(path, data)
        try:
            self._acquire(lock)
            try:
                cur = self.read_versioned(path)
                if cur is None or cur[1] != etag:
                    return None
                os.replace(tmp, full)
                return sha256(data)
            finally:
                try:
                    os.unlink(lock)
                except OSError:
                    pass
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def _acquire(self, lock: str) -> None:
        attempt = 0
        while True:
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                return
            except FileExistsError:
                try:
                    age = time.time() - os.stat(lock).st_mtime
                except OSError:
                    age = 0
                if age > LOCK_STALE_S:
                    try:
                        os.unlink(lock)
                    except OSError:
                        pass
                else:
                    time.sleep(min(0.05, 2 ** attempt / 1000))
                    attempt += 1

    def move_in(self, staged_url: str, path: str) -> None:
        """Moves a file Spark wrote (a staging location) to `path`."""
        full = os.path.join(self.abs, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        os.replace(staged_url, full)

    def move_in_patched(self, staged_url: str, path: str, patch) -> None:
        """move_in of a Parquet file whose footer is replaced by patch(footer) (parquet_footer.py): the file is cut
        before its footer and the new footer appended in place."""
        from .parquet_footer import footer_trailer, split_file_tail

        with open(staged_url, "r+b") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 8))
            n = split_file_tail(f.read(8))
            start = size - 8 - n
            f.seek(start)
            footer = f.read(n)
            f.seek(start)
            f.truncate()
            f.write(footer_trailer(patch(footer)))
            f.flush()
            os.fsync(f.fileno())
        self.move_in(staged_url, path)

    def staged_parts(self, staged_dir_url: str) -> list[str]:
        if not os.path.isdir(staged_dir_url):
            return []
        return sorted(os.path.join(staged_dir_url, f) for f in os.listdir(staged_dir_url)
                      if f.startswith("part-") and f.endswith(".parquet"))

    def remove_tree(self, url: str) -> None:
        shutil.rmtree(url, ignore_errors=True)


class S3Storage:
    """S3 through boto3 (on Glue). Spark reads and writes s3:// URLs natively there."""

    def __init__(self, url: str, client=None):
        rest = url[len("s3://"):]
        bucket, _, prefix = rest.partition("/")
        self.bucket = bucket
        self.prefix = (prefix.rstrip("/") + "/") if prefix.strip("/") else ""
        self.root = f"s3://{bucket}/{self.prefix.rstrip('/')}".rstrip("/") if self.prefix else f"s3://{bucket}"
        self.s3 = client if client is not None else aws_client("s3")

    def url(self, path: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{path}"

    def name(self, path: str) -> str:
        return self.url(path)

    def list(self, prefix: str = "") -> list[StoredObject]:
        out = []
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for o in page.get("Contents", []):
                rel = o["Key"][len(self.prefix):]
                if rel == "" or rel.endswith("/"):
                    continue
                out.append(StoredObject(rel, o["Size"], o["LastModified"].timestamp() * 1000.0, o.get("ETag")))
        out.sort(key=lambda o: o.path)
        return out

    def read(self, path: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=self.prefix + path)["Body"].read()

    def read_versioned(self, path: str):
        try:
            res = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + path)
        except self.s3.exceptions.NoSuchKey:
            return None
        return res["Body"].read(), res["ETag"]

    def write(self, path: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self.prefix + path, Body=data)

    def _conditional(self, path: str, data: bytes, **cond) -> str | None:
        from botocore.exceptions import ClientError

        try:
            return self.s3.put_object(Bucket=self.bucket, Key=self.prefix + path, Body=data, **cond)["ETag"]
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (412, 409, 404):
                return None
            raise

    def create_exclusive(self, path: str, data: bytes) -> str | None:
        return self._conditional(path, data, IfNoneMatch="*")

    def replace_if_match(self, path: str, data: bytes, etag: str) -> str | None:
        return self._conditional(path, data, IfMatch=etag)

    def move_in(self, staged_url: str, path: str) -> None:
        key = staged_url[len(f"s3://{self.bucket}/"):]
        self.s3.copy_object(Bucket=self.bucket, Key=self.prefix + path, CopySource={"Bucket": self.bucket, "Key": key})
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def move_in_patched(self, staged_url: str, path: str, patch) -> None:
        """move_in of a Parquet file whose footer is replaced by patch(footer) (parquet_footer.py). The data before
        the footer is copied inside S3 (UploadPartCopy) when it is large enough for a multipart part; a small file
        is read and written whole."""
        from .parquet_footer import footer_trailer, split_file_tail

        key = staged_url[len(f"s3://{self.bucket}/"):]
        size = self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"]

        def get(first: int, last: int) -> bytes:
            return self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={first}-{last}")["Body"].read()

        n = split_file_tail(get(max(0, size - 8), size - 1))
        start = size - 8 - n
        trailer = footer_trailer(patch(get(start, start + n - 1)))
        final = self.prefix + path
        if start < MULTIPART_MIN:
            self.s3.put_object(Bucket=self.bucket, Key=final, Body=get(0, start - 1) + trailer)
        else:
            # Parts of at most COPY_PART bytes, all but the last (the footer) at least MULTIPART_MIN.
            count = -(-start // COPY_PART)
            step = -(-start // count)
            up = self.s3.create_multipart_upload(Bucket=self.bucket, Key=final)["UploadId"]
            try:
                parts = []
                for i, first in enumerate(range(0, start, step)):
                    last = min(start, first + step) - 1
                    r = self.s3.upload_part_copy(Bucket=self.bucket, Key=final, UploadId=up, PartNumber=i + 1,
                                                 CopySource={"Bucket": self.bucket, "Key": key},
                                                 CopySourceRange=f"bytes={first}-{last}")
                    parts.append({"PartNumber": i + 1, "ETag": r["CopyPartResult"]["ETag"]})
                r = self.s3.upload_part(Bucket=self.bucket, Key=final, UploadId=up, PartNumber=len(parts) + 1,
                                        Body=trailer)
                parts.append({"PartNumber": len(parts) + 1, "ETag": r["ETag"]})
                self.s3.complete_multipart_upload(Bucket=self.bucket, Key=final, UploadId=up,
                                                  MultipartUpload={"Parts": parts})
            except BaseException:
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=final, UploadId=up)
                raise
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def staged_parts(self, staged_dir_url: str) -> list[str]:
        prefix = staged_dir_url[len(f"s3://{self.bucket}/"):].rstrip("/") + "/"
        res = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return sorted(f"s3://{self.bucket}/{o['Key']}" for o in res.get("Contents", [])
                      if o["Key"].rsplit("/", 1)[-1].startswith("part-") and o["Key"].endswith(".parquet"))

    def remove_tree(self, url: str) -> None:
        prefix = url[len(f"s3://{self.bucket}/"):].rstrip("/") + "/"
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                self.s3.delete_object(Bucket=self.bucket, Key=o["Key"])


def open_storage(location: str):
    return S3Storage(location) if location.startswith("s3://") else LocalStorage(location)
