#!/usr/bin/env python3
"""Copies one Hugging Face revision into an S3 bucket, streaming each file from the Hub straight into S3.

Run by the model's download Job (components/models/weights.ts). Standard library only, so any Python 3.8+ image
works and no scratch disk is needed: a file no larger than one part goes up in one PUT, a larger one as a multipart
upload whose parts are read from the Hub one at a time (at most one part in memory).

Hub side: the Hub's public HTTP API, as huggingface_hub calls it (github.com/huggingface/huggingface_hub):
  - src/huggingface_hub/hf_api.py, HfApi.model_info(files_metadata=True):
      GET {endpoint}/api/models/{repo_id}/revision/{quote(revision, safe="")}?blobs=true
      → {"sha": commit, "gated": false|"auto"|"manual", "siblings": [{"rfilename", "size", "blobId",
         "lfs": {"size", "sha256", "pointerSize"}}]}
  - src/huggingface_hub/constants.py: ENDPOINT = $HF_ENDPOINT or https://huggingface.co,
      HUGGINGFACE_CO_URL_TEMPLATE = {endpoint}/{repo_id}/resolve/{revision}/{filename}, header X-Repo-Commit;
  - src/huggingface_hub/file_download.py, hf_hub_url (revision quoted with safe="", filename with quote()) and
      _get_metadata_or_catch_error: a large (LFS/Xet) file redirects to a CDN on another host, and the
      `authorization` header is dropped before following it (the CDN's URL is pre-signed and refuses a second
      credential); a same-host (relative) redirect, e.g. a renamed repository, keeps it;
  - src/huggingface_hub/utils/_headers.py: `authorization: Bearer <token>`;
  - src/huggingface_hub/utils/_http.py, hf_raise_for_status: X-Error-Code GatedRepo (401 without a token, 403 when
      the account is not on the authorized list), RepoNotFound (401 anonymous, 404 authenticated), RevisionNotFound,
      EntryNotFound; X-Error-Message "Invalid credentials in Authorization header" for a bad token; retries on
      408/429/5xx and network errors (http_backoff).
Each file is checked against the Hub's listing: its size, and its content hash (LFS sha256, or the git blob id).

S3 side: AWS Signature Version 4 with path-style URLs, so it works with MinIO, ODF/NooBaa and AWS alike.

Environment:
  HF_REPO, HF_REVISION    the repository and the commit to copy
  S3_PREFIX               where the files go in the bucket
  AWS_S3_ENDPOINT, AWS_S3_BUCKET, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
                          the model's data connection
  HF_TOKEN                optional, for gated or private repositories
  HF_ENDPOINT             optional, the Hub (default https://huggingface.co), e.g. a mirror
  MAAS_TOKEN_HINT         optional, where the token comes from (stack config), for error messages
  MAAS_PART_SIZE          optional, multipart part size in bytes (default 64 MiB, at least S3's 5 MiB)
  MAAS_RETRY_DELAY        optional, first retry delay in seconds (default 2; doubles per attempt)

Idempotent and resumable: a file already in the bucket with the same size is skipped, and a marker object written
last (`<prefix>/.maas-complete`) makes a rerun for a complete revision end at once.

Exit status: 0 done, 2 a permanent error (no access, no such repository/revision: retrying cannot help), 1 other.
"""
import datetime
import hashlib
import hmac
import http.client
import json
import os
import platform
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 64 * MIB
MIN_PART_SIZE = 5 * MIB  # S3: every part but the last is at least 5 MiB
MAX_PARTS = 10000  # S3: at most 10,000 parts per upload
MARKER = ".maas-complete"
ATTEMPTS = 6
RETRY_STATUS = (408, 429, 500, 502, 503, 504)
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError)
DEFAULT_TOKEN_HINT = (
    "set the stack secret `huggingFaceToken` (pulumi config set --secret huggingFaceToken <token>) or point "
    "`models[].huggingFace.tokenSecret` at a Secret whose HF_TOKEN key holds the token"
)
USER_AGENT = f"maas-hf-to-s3/1.0; python/{platform.python_version()}"


def log(message):
    print(f"{datetime.datetime.now(datetime.timezone.utc).strftime('%H:%M:%S')} {message}", flush=True)


def human(size):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{size} B"
        size /= 1024
    return f"{size} B"


def percent(done, total):
    return 100 if total <= 0 else 100 * done // total


class PermanentError(Exception):
    """Retrying cannot help: no access, no such repository, revision or file."""


def retry_delay(attempt, headers=None):
    """Exponential backoff from MAAS_RETRY_DELAY, or the server's Retry-After (seconds) when it sends one."""
    base = float(os.environ.get("MAAS_RETRY_DELAY", "2"))
    after = headers.get("Retry-After") if headers is not None else None
    if after and after.strip().isdigit():
        return min(float(after), 60.0)
    return min(base * 2**attempt, 60.0)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by hand: the Authorization header must not follow one to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _display(url):
    """A URL for logs: without its query (a CDN URL's query is a signature)."""
    return url.split("?", 1)[0]


def _origin(url):
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class Hub:
    """The Hugging Face Hub's HTTP API: what model_info and hf_hub_download call, nothing else."""

    def __init__(self, endpoint, repo, token=None, token_hint=DEFAULT_TOKEN_HINT):
        self.endpoint = (endpoint or "https://huggingface.co").rstrip("/")
        self.repo = repo
        self.token = token or None
        self.token_hint = token_hint or DEFAULT_TOKEN_HINT

    # -- URLs (hf_api.py model_info, constants.py HUGGINGFACE_CO_URL_TEMPLATE, file_download.py hf_hub_url) --
    def info_url(self, revision):
        return f"{self.endpoint}/api/models/{self.repo}/revision/{urllib.parse.quote(revision, safe='')}?blobs=true"

    def resolve_url(self, revision, filename):
        return (
            f"{self.endpoint}/{self.repo}/resolve/{urllib.parse.quote(revision, safe='')}/"
            f"{urllib.parse.quote(filename)}"
        )

    def _headers(self, url, with_token):
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if with_token and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _fail(self, status, headers, body, url):
        """The Hub's error, as a message that says what to do (hf_raise_for_status's cases)."""
        code = headers.get("X-Error-Code", "")
        message = headers.get("X-Error-Message", "")
        try:
            detail = message or json.loads(body or b"{}").get("error", "")
        except ValueError:
            detail = message or (body or b"")[:200].decode(errors="replace")
        if _origin(url) != _origin(self.endpoint):  # the CDN: no Hub error codes, no gating
            return RuntimeError(f"{self.repo}: GET {_display(url)}: HTTP {status}: {(body or b'')[:300]!r}")
        reason = (f", {code}" if code else "") + (f": {detail}" if detail else "")
        where = f"{self.repo} (GET {_display(url)}: HTTP {status}{reason})"
        if status in (401, 403) and message == "Invalid credentials in Authorization header":
            return PermanentError(f"the Hugging Face token is invalid or expired for {where}; {self.token_hint}")
        if code == "GatedRepo" or status in (401, 403) and code != "RepoNotFound":
            if self.token:
                return PermanentError(
                    f"access denied to {where}: the repository is gated or private and the token's account lacks "
                    f"access; accept the repository's terms on {self.endpoint}/{self.repo} with that account, or "
                    f"use another token ({self.token_hint})"
                )
            return PermanentError(
                f"access denied to {where}: the repository is gated or private and no Hugging Face token is "
                f"set; {self.token_hint}"
            )
        if code == "RevisionNotFound":
            return PermanentError(f"revision not found: {where}; the repository has no such commit")
        if code == "EntryNotFound":
            return PermanentError(f"file not found: {where}")
        if code == "RepoNotFound" or status == 404:
            return PermanentError(
                f"repository or revision not found: {where}; check the repository id and revision"
                + ("" if self.token else " (a private repository also needs a token: " + self.token_hint + ")")
            )
        return RuntimeError(f"Hugging Face Hub error for {where}")

    def open(self, url, start=0):
        """GET with retries, following redirects by hand; returns the open response (200, or 206 from `start`) with
        `repo_commit`, the X-Repo-Commit header of the Hub's answer (the redirect's, for a file on the CDN)."""
        for attempt in range(ATTEMPTS):
            current, with_token, commit = url, True, None
            try:
                for _ in range(10):
                    headers = self._headers(current, with_token)
                    if start:
                        headers["Range"] = f"bytes={start}-"
                    try:
                        resp = _OPENER.open(urllib.request.Request(current, headers=headers), timeout=120)
                        resp.repo_commit = resp.headers.get("X-Repo-Commit") or commit
                        return resp
                    except urllib.error.HTTPError as err:
                        if err.code in (301, 302, 303, 307, 308) and err.headers.get("Location"):
                            target = urllib.parse.urljoin(current, err.headers["Location"])
                            commit = err.headers.get("X-Repo-Commit") or commit
                            err.close()
                            # file_download.py: "Remove authorization header when downloading a LFS blob".
                            if _origin(target) != _origin(url):
                                with_token = False
                            current = target
                            continue
                        body = err.read()
                        if err.code in RETRY_STATUS and attempt < ATTEMPTS - 1:
                            delay = retry_delay(attempt, err.headers)
                            log(f"Hub GET {_display(current)}: HTTP {err.code}; retrying in {delay:.1f}s")
                            time.sleep(delay)
                            break
                        raise self._fail(err.code, err.headers, body, current) from None
                else:
                    raise RuntimeError(f"too many redirects from {_display(url)}")
            except (PermanentError, RuntimeError):
                raise
            except NETWORK_ERRORS as err:
                if attempt == ATTEMPTS - 1:
                    raise RuntimeError(f"Hub GET {_display(url)}: {err}") from err
                delay = retry_delay(attempt)
                log(f"Hub GET {_display(url)}: {err}; retrying in {delay:.1f}s")
                time.sleep(delay)
        raise RuntimeError(f"Hub GET {url}: gave up after {ATTEMPTS} attempts")

    def model_info(self, revision):
        """The revision's commit, gating and files (name, size, LFS sha256 or git blob id), as model_info returns."""
        url = self.info_url(revision)
        with self.open(url) as resp:
            info = json.loads(resp.read())
        files = []
        for sibling in info.get("siblings") or []:
            lfs = sibling.get("lfs") or None
            size = lfs["size"] if lfs else sibling.get("size")
            if size is None:
                raise RuntimeError(f"{url}: no size for {sibling.get('rfilename')}: is HF_ENDPOINT a Hugging Face Hub?")
            files.append(
                {
                    "name": sibling["rfilename"],
                    "size": int(size),
                    "sha256": lfs.get("sha256") if lfs else None,
                    "blob_id": None if lfs else sibling.get("blobId"),
                }
            )
        return {"sha": info.get("sha") or revision, "gated": info.get("gated") or False, "files": files}


class FileStream:
    """One Hub file, read in order; a broken connection resumes (Range) from the first byte not yet returned."""

    def __init__(self, hub, commit, name, size):
        self.hub, self.commit, self.name, self.size = hub, commit, name, size
        self.url = hub.resolve_url(commit, name)
        self.offset = 0
        self.resp = None

    def _connect(self):
        resp = self.hub.open(self.url, start=self.offset)
        if resp.repo_commit and resp.repo_commit != self.commit:
            resp.close()
            raise PermanentError(f"{self.url}: the Hub served commit {resp.repo_commit}, not {self.commit}")
        length = resp.headers.get("Content-Length")
        expected = self.size - (self.offset if resp.status == 206 else 0)
        if length is not None and int(length) != expected:
            resp.close()
            raise RuntimeError(f"{self.url}: {length} bytes served, the Hub lists {expected} (of {self.size})")
        if self.offset and resp.status == 200:  # Range ignored: skip what was already read
            skip = self.offset
            while skip:
                chunk = resp.read(min(skip, MIB))
                if not chunk:
                    raise ConnectionError("stream ended while skipping to the resume offset")
                skip -= len(chunk)
        self.resp = resp

    def read(self, n):
        """Exactly n bytes (fewer only at the end of the file), retrying a dropped connection."""
        buf = bytearray()
        for attempt in range(ATTEMPTS):
            try:
                if self.resp is None:
                    self._connect()
                while len(buf) < n:
                    chunk = self.resp.read(min(n - len(buf), 8 * MIB))
                    if not chunk:
                        break
                    buf += chunk
                if len(buf) < n and self.offset + len(buf) < self.size:
                    raise ConnectionError(f"stream ended at byte {self.offset + len(buf)} of {self.size}")
                self.offset += len(buf)
                return bytes(buf)
            except PermanentError:
                raise
            except NETWORK_ERRORS as err:
                self.close()
                buf = bytearray()  # re-read the whole chunk from self.offset
                if attempt == ATTEMPTS - 1:
                    raise RuntimeError(f"{self.url}: {err}") from err
                delay = retry_delay(attempt)
                log(f"{self.name}: {err}; resuming at byte {self.offset} in {delay:.1f}s")
                time.sleep(delay)
        raise RuntimeError("unreachable")

    def close(self):
        if self.resp is not None:
            try:
                self.resp.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self.resp = None


class Checksum:
    """The Hub's content hash of a file: sha256 for LFS files, the git blob id (sha1 of header + content) otherwise."""

    def __init__(self, entry):
        self.expected, self.kind = None, None
        if entry.get("sha256"):
            self.expected, self.kind, self.hash = entry["sha256"], "sha256", hashlib.sha256()
        elif entry.get("blob_id"):
            self.expected, self.kind, self.hash = entry["blob_id"], "git blob id", hashlib.sha1()
            self.hash.update(f"blob {entry['size']}\0".encode())

    def update(self, data):
        if self.expected:
            self.hash.update(data)

    def check(self, name):
        if self.expected and self.hash.hexdigest() != self.expected:
            raise RuntimeError(f"{name}: {self.kind} {self.hash.hexdigest()} does not match the Hub's {self.expected}")


class S3:
    """Just what the copy needs: HEAD, PUT (single and multipart), signed with SigV4 (path-style URLs)."""

    def __init__(self, endpoint, bucket, region, access_key, secret_key):
        parts = urllib.parse.urlsplit(endpoint.rstrip("/"))
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self.root = parts.path.rstrip("/")
        self.bucket = bucket
        self.region = region or "us-east-1"
        self.access_key = access_key
        self.secret_key = secret_key

    def _path(self, key):
        # S3's canonical URI: every byte of the key URI-encoded except unreserved characters, "/" kept.
        return self.root + "/" + urllib.parse.quote(f"{self.bucket}/{key}", safe="/~")

    def _signed(self, method, key, query, payload_hash, extra_headers):
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = now.strftime("%Y%m%d")
        headers = {"host": self.host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
        headers.update({k.lower(): v for k, v in extra_headers.items()})
        canonical_query = "&".join(
            f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
            for k, v in sorted(query.items())
        )
        signed = ";".join(sorted(headers))
        canonical = "\n".join(
            [
                method,
                self._path(key),
                canonical_query,
                "".join(f"{k}:{' '.join(headers[k].split())}\n" for k in sorted(headers)),
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
        url = self.base + self._path(key) + (f"?{canonical_query}" if canonical_query else "")
        return url, headers

    def request(self, method, key, body=b"", query=None, headers=None):
        """One signed request, retried on 5xx and network errors; returns (status, headers, body)."""
        payload_hash = hashlib.sha256(body).hexdigest()
        for attempt in range(ATTEMPTS):
            url, signed = self._signed(method, key, query or {}, payload_hash, headers or {})
            req = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None, method=method)
            for name, value in signed.items():
                if name != "host":
                    req.add_header(name, value)
            try:
                with _OPENER.open(req, timeout=300) as resp:
                    return resp.status, resp.headers, resp.read()
            except urllib.error.HTTPError as err:
                text = err.read()
                if err.code < 500 or attempt == ATTEMPTS - 1:
                    return err.code, err.headers, text
                delay = retry_delay(attempt, err.headers)
                log(f"S3 {method} {key}: HTTP {err.code}; retrying in {delay:.1f}s")
            except NETWORK_ERRORS as err:
                if attempt == ATTEMPTS - 1:
                    raise RuntimeError(f"S3 {method} {key}: {err}") from err
                delay = retry_delay(attempt)
                log(f"S3 {method} {key}: {err}; retrying in {delay:.1f}s")
            time.sleep(delay)
        raise RuntimeError("unreachable")

    def _error(self, what, status, text):
        hint = ""
        if status in (401, 403):
            hint = (
                f" (check the data connection: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, region {self.region}, and the "
                f"keys' access to bucket {self.bucket})"
            )
        return RuntimeError(f"S3 {what}: HTTP {status}{hint}: {text[:400].decode(errors='replace')}")

    def size(self, key):
        status, headers, _ = self.request("HEAD", key)
        if status == 404:
            return None
        if status != 200:
            raise self._error(f"HEAD {key}", status, b"")
        return int(headers.get("Content-Length", "0"))

    def put(self, key, body):
        status, _, text = self.request("PUT", key, body)
        if status != 200:
            raise self._error(f"PUT {key}", status, text)

    def start_multipart(self, key):
        status, _, text = self.request("POST", key, query={"uploads": ""})
        upload_id = _xml_text(text, "UploadId") if status == 200 else None
        if not upload_id:
            raise self._error(f"multipart start {key}", status, text)
        return upload_id

    def put_part(self, key, upload_id, number, chunk):
        query = {"partNumber": str(number), "uploadId": upload_id}
        status, headers, text = self.request("PUT", key, chunk, query=query)
        if status != 200 or not headers.get("ETag"):
            raise self._error(f"part {number} of {key}", status, text)
        return headers["ETag"]

    def complete_multipart(self, key, upload_id, etags):
        root = ET.Element("CompleteMultipartUpload", xmlns="http://s3.amazonaws.com/doc/2006-03-01/")
        for number, etag in enumerate(etags, start=1):
            part = ET.SubElement(root, "Part")
            ET.SubElement(part, "PartNumber").text = str(number)
            ET.SubElement(part, "ETag").text = etag
        body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        status, _, text = self.request("POST", key, body, query={"uploadId": upload_id})
        # S3 may answer 200 and still report an error in the body.
        if status != 200 or _xml_text(text, "Code") is not None:
            raise self._error(f"multipart complete {key}", status, text)

    def abort_multipart(self, key, upload_id):
        try:
            self.request("DELETE", key, query={"uploadId": upload_id})
        except Exception as err:  # noqa: BLE001 - best effort; a lifecycle rule or the next run cleans up
            log(f"S3 abort of {key}: {err}")


def _xml_text(text, tag):
    """The first <tag> of an S3 XML answer (any namespace), or None."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    for element in root.iter():
        if element.tag == tag or element.tag.endswith("}" + tag):
            return element.text or ""
    return None


def part_size():
    size = int(os.environ.get("MAAS_PART_SIZE") or DEFAULT_PART_SIZE)
    if size < MIN_PART_SIZE:
        raise PermanentError(f"MAAS_PART_SIZE={size}: S3 parts are at least {MIN_PART_SIZE} bytes (5 MiB)")
    return size


def copy_file(hub, s3, commit, entry, key, progress):
    """Streams one Hub file into the bucket: one PUT up to one part, else a multipart upload part by part."""
    size, chunk_size = entry["size"], part_size()
    stream = FileStream(hub, commit, entry["name"], size)
    checksum = Checksum(entry)
    try:
        if size <= chunk_size:
            body = stream.read(size)
            if len(body) != size:
                raise RuntimeError(f"{entry['name']}: got {len(body)} bytes, the Hub lists {size}")
            checksum.update(body)
            checksum.check(entry["name"])
            s3.put(key, body)
            return
        chunk_size = max(chunk_size, -(-size // MAX_PARTS))
        upload_id = s3.start_multipart(key)
        try:
            etags = []
            while stream.offset < size:
                chunk = stream.read(min(chunk_size, size - stream.offset))
                if not chunk:
                    raise RuntimeError(f"{entry['name']}: stream ended at byte {stream.offset} of {size}")
                checksum.update(chunk)
                etags.append(s3.put_part(key, upload_id, len(etags) + 1, chunk))
                progress(stream.offset)
            checksum.check(entry["name"])
            s3.complete_multipart(key, upload_id, etags)
        except BaseException:
            s3.abort_multipart(key, upload_id)
            raise
    finally:
        stream.close()


def run(env=None):
    """The whole copy, configured from `env` (default: the process environment). Returns the exit status."""
    env = os.environ if env is None else env
    required = ["HF_REPO", "HF_REVISION", "S3_PREFIX", "AWS_S3_ENDPOINT", "AWS_S3_BUCKET"]
    missing = [k for k in required + ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] if not env.get(k)]
    if missing:
        raise PermanentError(f"missing environment: {', '.join(missing)}")
    repo, revision, prefix = env["HF_REPO"], env["HF_REVISION"], env["S3_PREFIX"].strip("/")
    token = env.get("HF_TOKEN") or None
    hub = Hub(env.get("HF_ENDPOINT") or "https://huggingface.co", repo, token, env.get("MAAS_TOKEN_HINT"))
    s3 = S3(
        env["AWS_S3_ENDPOINT"],
        env["AWS_S3_BUCKET"],
        env.get("AWS_DEFAULT_REGION") or "us-east-1",
        env["AWS_ACCESS_KEY_ID"],
        env["AWS_SECRET_ACCESS_KEY"],
    )
    part_size()  # refuse a bad MAAS_PART_SIZE before any work
    marker = f"{prefix}/{MARKER}"
    if s3.size(marker) is not None:
        log(f"{repo}@{revision} is already in s3://{s3.bucket}/{prefix}; nothing to do")
        return 0

    info = hub.model_info(revision)
    if info["gated"] and not token:
        raise PermanentError(
            f"{repo} is a gated repository (gated: {info['gated']}) and no Hugging Face token is set; {hub.token_hint}"
        )
    files = sorted((f for f in info["files"] if not f["name"].startswith(".")), key=lambda f: f["name"])
    total = sum(f["size"] for f in files)
    log(
        f"copying {repo}@{revision} (commit {info['sha']}) from {hub.endpoint}: {len(files)} files, {human(total)} "
        f"→ s3://{s3.bucket}/{prefix}"
    )
    done = copied = 0
    for index, entry in enumerate(files, start=1):
        name, size = entry["name"], entry["size"]
        key = f"{prefix}/{name}"
        head = f"[{index}/{len(files)}] {name} ({human(size)})"
        if s3.size(key) == size:
            log(f"{head} already in the bucket")
        else:
            started = time.time()
            log(f"{head} copying")

            def progress(offset, head=head, size=size, base=done):
                log(
                    f"{head} {human(offset)} of {human(size)} ({percent(offset, size)}%); "
                    f"total {human(base + offset)} of {human(total)} ({percent(base + offset, total)}%)"
                )

            copy_file(hub, s3, info["sha"], entry, key, progress)
            copied += 1
            log(f"{head} copied in {time.time() - started:.1f}s")
        done += size
        log(f"progress: {index}/{len(files)} files, {human(done)} of {human(total)} ({percent(done, total)}%)")
    record = {"repo": repo, "revision": revision, "commit": info["sha"], "files": [f["name"] for f in files]}
    s3.put(marker, json.dumps(record).encode())
    log(f"done: {repo}@{revision} is in s3://{s3.bucket}/{prefix} ({copied} copied, {len(files) - copied} present)")
    return 0


def main():
    try:
        return run()
    except PermanentError as err:
        print(f"ERROR: {err}", file=sys.stderr, flush=True)
        return 2
    except (RuntimeError, OSError) as err:
        print(f"ERROR: {err}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
