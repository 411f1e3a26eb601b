#!/usr/bin/env python3
"""Copies one Hugging Face revision into an S3 bucket, one file at a time.

Run by the model's download Job (components/models/weights.ts) in the model's vLLM image, which carries Python and
huggingface_hub. The S3 side is the standard library only (AWS Signature Version 4, path-style URLs), so it works
with MinIO, ODF/NooBaa and AWS alike.

Environment:
  HF_REPO, HF_REVISION    the repository and the commit to copy
  S3_PREFIX               where the files go in the bucket
  SCRATCH_DIR             local space for the one file in flight
  AWS_S3_ENDPOINT, AWS_S3_BUCKET, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
                          the model's data connection
  HF_TOKEN                optional, for gated repositories

Idempotent and resumable: a file already in the bucket with the same size is skipped, and a marker object written
last (`<prefix>/.maas-complete`) makes a rerun for a complete revision end at once.
"""
import datetime
import hashlib
import hmac
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PART_SIZE = 64 * 1024 * 1024
MARKER = ".maas-complete"


def log(message):
    print(f"{datetime.datetime.now(datetime.timezone.utc).strftime('%H:%M:%S')} {message}", flush=True)


def human(size):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{size} B"
        size /= 1024
    return f"{size} B"


class S3:
    """Just what the copy needs: HEAD, PUT (single and multipart), signed with SigV4."""

    def __init__(self, endpoint, bucket, region, access_key, secret_key):
        self.endpoint = endpoint.rstrip("/")
        self.host = urllib.parse.urlparse(self.endpoint).netloc
        self.bucket = bucket
        self.region = region or "us-east-1"
        self.access_key = access_key
        self.secret_key = secret_key

    def _path(self, key):
        return "/" + urllib.parse.quote(f"{self.bucket}/{key}", safe="/-_.~")

    def _signed(self, method, key, query, payload_hash, extra_headers):
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = now.strftime("%Y%m%d")
        headers = {"host": self.host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
        headers.update({k.lower(): v for k, v in extra_headers.items()})
        canonical_query = "&".join(
            f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(query.items())
        )
        signed = ";".join(sorted(headers))
        canonical = "\n".join(
            [
                method,
                self._path(key),
                canonical_query,
                "".join(f"{k}:{headers[k].strip()}\n" for k in sorted(headers)),
                signed,
                payload_hash,
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        k = f"AWS4{self.secret_key}".encode()
        for part in (day, self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
        )
        url = self.endpoint + self._path(key) + (f"?{canonical_query}" if canonical_query else "")
        return url, headers

    def request(self, method, key, body=b"", query=None, headers=None):
        payload_hash = hashlib.sha256(body).hexdigest()
        for attempt in range(5):
            url, signed = self._signed(method, key, query or {}, payload_hash, headers or {})
            req = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None, method=method)
            for name, value in signed.items():
                if name != "host":
                    req.add_header(name, value)
            try:
                with urllib.request.urlopen(req, timeout=300) as resp:
                    return resp.status, dict(resp.headers), resp.read()
            except urllib.error.HTTPError as err:
                if err.code < 500 or attempt == 4:
                    return err.code, dict(err.headers), err.read()
            except (urllib.error.URLError, OSError) as err:
                if attempt == 4:
                    raise
                log(f"S3 {method} {key}: {err}; retrying")
            time.sleep(2**attempt)
        raise RuntimeError("unreachable")

    def size(self, key):
        status, headers, _ = self.request("HEAD", key)
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"S3 HEAD {key}: HTTP {status}")
        return int(headers.get("Content-Length", headers.get("content-length", "0")))

    def put(self, key, body):
        status, _, text = self.request("PUT", key, body)
        if status != 200:
            raise RuntimeError(f"S3 PUT {key}: HTTP {status}: {text[:300]!r}")

    def upload_file(self, key, path):
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if size <= PART_SIZE:
                self.put(key, f.read())
                return
            status, _, text = self.request("POST", key, query={"uploads": ""})
            if status != 200:
                raise RuntimeError(f"S3 multipart start {key}: HTTP {status}: {text[:300]!r}")
            upload_id = text.decode().split("<UploadId>")[1].split("</UploadId>")[0]
            etags = []
            number = 1
            while True:
                chunk = f.read(PART_SIZE)
                if not chunk:
                    break
                query = {"partNumber": str(number), "uploadId": upload_id}
                status, headers, text = self.request("PUT", key, chunk, query=query)
                if status != 200:
                    raise RuntimeError(f"S3 part {number} of {key}: HTTP {status}: {text[:300]!r}")
                etags.append(headers.get("ETag", headers.get("etag")))
                number += 1
            body = "<CompleteMultipartUpload>" + "".join(
                f"<Part><PartNumber>{i + 1}</PartNumber><ETag>{etag}</ETag></Part>" for i, etag in enumerate(etags)
            ) + "</CompleteMultipartUpload>"
            status, _, text = self.request("POST", key, body.encode(), query={"uploadId": upload_id})
            if status != 200 or b"<Error>" in text:
                raise RuntimeError(f"S3 multipart complete {key}: HTTP {status}: {text[:300]!r}")


def main():
    from huggingface_hub import HfApi, hf_hub_download

    repo, revision, prefix = os.environ["HF_REPO"], os.environ["HF_REVISION"], os.environ["S3_PREFIX"].strip("/")
    scratch = os.environ.get("SCRATCH_DIR", "/tmp/maas-download")
    token = os.environ.get("HF_TOKEN") or None
    s3 = S3(
        os.environ["AWS_S3_ENDPOINT"],
        os.environ["AWS_S3_BUCKET"],
        os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    marker = f"{prefix}/{MARKER}"
    if s3.size(marker) is not None:
        log(f"{repo}@{revision} is already in s3://{s3.bucket}/{prefix}; nothing to do")
        return 0

    info = HfApi().model_info(repo, revision=revision, files_metadata=True, token=token)
    files = sorted((s.rfilename, s.size or 0) for s in info.siblings if not s.rfilename.startswith("."))
    total = sum(size for _, size in files)
    log(f"copying {repo}@{revision}: {len(files)} files, {human(total)} → s3://{s3.bucket}/{prefix}")
    done = 0
    for index, (name, size) in enumerate(files, start=1):
        key = f"{prefix}/{name}"
        if s3.size(key) == size:
            log(f"[{index}/{len(files)}] {name} ({human(size)}) already in the bucket")
        else:
            started = time.time()
            local = hf_hub_download(repo, name, revision=revision, token=token, local_dir=scratch)
            s3.upload_file(key, local)
            os.remove(local)
            log(f"[{index}/{len(files)}] {name} ({human(size)}) copied in {time.time() - started:.0f}s")
        done += size
        log(f"progress: {human(done)} of {human(total)} ({100 * done // max(total, 1)}%)")
    shutil.rmtree(scratch, ignore_errors=True)
    s3.put(marker, json.dumps({"repo": repo, "revision": revision, "files": [n for n, _ in files]}).encode())
    log(f"done: {repo}@{revision} is in s3://{s3.bucket}/{prefix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
