#!/usr/bin/env python3
"""An S3 stand-in for tests that checks every request's AWS Signature Version 4 with botocore, AWS's own signer.

Path-style requests (`/<bucket>/<key>`), objects in memory. The operations of the S3 API reference
(https://docs.aws.amazon.com/AmazonS3/latest/API/) that a copy tool needs:
  HeadObject        HEAD   /bucket/key
  GetObject         GET    /bucket/key
  PutObject         PUT    /bucket/key
  DeleteObject      DELETE /bucket/key
  CreateMultipartUpload    POST /bucket/key?uploads            → <InitiateMultipartUploadResult><UploadId>
  UploadPart               PUT  /bucket/key?partNumber=N&uploadId=ID → ETag header
  CompleteMultipartUpload  POST /bucket/key?uploadId=ID       (<CompleteMultipartUpload><Part>... in order, every
                                                              part but the last at least 5 MiB: EntityTooSmall)
  AbortMultipartUpload     DELETE /bucket/key?uploadId=ID
Errors are S3's XML <Error><Code>…</Code>: NoSuchBucket, NoSuchKey, NoSuchUpload, InvalidPart, InvalidPartOrder,
EntityTooSmall, MissingContentLength, and for authentication AccessDenied, InvalidAccessKeyId,
AuthorizationHeaderMalformed, RequestTimeTooSkewed (15 minutes), XAmzContentSHA256Mismatch and
SignatureDoesNotMatch (with the CanonicalRequest and StringToSign the server expected, as S3 answers).

Verification: the server rebuilds the request from what it received — the method, the path canonicalised the way
S3/MinIO do (decoded, then every byte but the unreserved characters and "/" percent-encoded), the query parameters,
and exactly the headers the client listed in SignedHeaders — and has botocore.auth.S3SigV4Auth compute the canonical
request, string to sign and signature at the client's x-amz-date. Unsigned x-amz-* headers are refused, and the
body must hash to x-amz-content-sha256.

Test hooks (no signature; a bucket name cannot start with "_"):
  GET  /_test/state                       objects (size, sha256, etag), open uploads, the request log
  GET  /_test/object?bucket=B&key=K       an object's bytes
  POST /_test/seed?bucket=B&key=K         store the body as an object
  POST /_test/fail?method=M&key=K&status=S&count=N   answer the next N matching requests with S (after the
                                          signature check), e.g. 500 InternalError or 503 SlowDown

Usage: s3-sigv4-server.py --bucket B [--bucket B2] --access-key AK --secret-key SK [--region R] [--port P]
Prints {"port": P} on stdout once listening.
"""
import argparse
import datetime
import hashlib
import hmac
import json
import sys
import threading
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as err:  # the tests must fail, not skip, without the signer
    print(
        f"s3-sigv4-server: cannot import botocore ({err}); install the Debian package python3-botocore "
        "(apt-get install python3-botocore, or bash scripts/install-system-deps.sh)",
        file=sys.stderr,
        flush=True,
    )
    sys.exit(3)

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_SKEW = datetime.timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


class S3Error(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def canonical_path(raw_path):
    """S3's canonical URI: the decoded path, each byte URI-encoded except unreserved characters and "/"."""
    return urllib.parse.quote(urllib.parse.unquote(raw_path, errors="strict"), safe="/~")


def query_pairs(raw_query):
    """Query parameters, percent-decoded (not form-decoded: "+" stays "+"), blank values kept."""
    pairs = []
    for item in raw_query.split("&") if raw_query else []:
        name, _, value = item.partition("=")
        pairs.append((urllib.parse.unquote(name), urllib.parse.unquote(value)))
    return pairs


def _xml(root_tag, fields):
    root = ET.Element(root_tag, xmlns=S3_NS)
    for name, value in fields:
        ET.SubElement(root, name).text = value
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def error_xml(err, resource, request_id):
    root = ET.Element("Error")
    for name, value in [("Code", err.code), ("Message", err.message), *err.extra.items()]:
        ET.SubElement(root, name).text = str(value)
    ET.SubElement(root, "Resource").text = resource
    ET.SubElement(root, "RequestId").text = request_id
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class Store:
    def __init__(self, buckets, access_key, secret_key, region):
        self.buckets = set(buckets)
        self.access_key, self.secret_key, self.region = access_key, secret_key, region
        self.objects = {}  # (bucket, key) -> (bytes, etag)
        self.uploads = {}  # upload id -> {"bucket", "key", "parts": {n: (bytes, etag)}}
        self.requests = []
        self.faults = []
        self.lock = threading.Lock()

    def verify(self, handler, body):
        """SigV4 as S3 checks it; raises S3Error. Returns the access key."""
        headers = handler.headers
        auth = headers.get("Authorization")
        if not auth:
            raise S3Error(403, "AccessDenied", "Access Denied")
        algorithm, _, rest = auth.partition(" ")
        if algorithm != "AWS4-HMAC-SHA256":
            raise S3Error(400, "InvalidArgument", f"Unsupported Authorization Type: {algorithm}")
        fields = {}
        for item in rest.split(","):
            name, _, value = item.strip().partition("=")
            fields[name] = value
        if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
            raise S3Error(400, "AuthorizationHeaderMalformed", f"The authorization header is malformed: {auth}")
        scope = fields["Credential"].split("/")
        if len(scope) != 5 or scope[3] != "s3" or scope[4] != "aws4_request":
            raise S3Error(400, "AuthorizationHeaderMalformed", f"Invalid credential scope {fields['Credential']}")
        access_key, day, region = scope[0], scope[1], scope[2]
        if access_key != self.access_key:
            raise S3Error(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                AWSAccessKeyId=access_key,
            )
        if region != self.region:
            raise S3Error(
                400, "AuthorizationHeaderMalformed", f"the region '{region}' is wrong; expecting '{self.region}'"
            )
        amz_date = headers.get("X-Amz-Date")
        if not amz_date:
            raise S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
        if day != amz_date[:8]:
            raise S3Error(400, "AuthorizationHeaderMalformed", f"the date {day} differs from x-amz-date {amz_date}")
        if abs(datetime.datetime.now(datetime.timezone.utc) - when) > MAX_SKEW:
            raise S3Error(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                RequestTime=amz_date,
            )
        content_sha = headers.get("X-Amz-Content-SHA256")
        if not content_sha:
            raise S3Error(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
        if content_sha != UNSIGNED_PAYLOAD and content_sha != hashlib.sha256(body).hexdigest():
            raise S3Error(
                400,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ClientComputedContentSHA256=content_sha,
                S3ComputedContentSHA256=hashlib.sha256(body).hexdigest(),
            )
        signed = [h for h in fields["SignedHeaders"].split(";") if h]
        if "host" not in signed:
            raise S3Error(400, "AuthorizationHeaderMalformed", "SignedHeaders must include host")
        unsigned = sorted({n.lower() for n in headers.keys() if n.lower().startswith("x-amz-")} - set(signed))
        if unsigned:
            raise S3Error(
                403, "AccessDenied", f"There were headers present in the request which were not signed: {unsigned}"
            )
        raw_path, _, raw_query = handler.path.partition("?")
        request = AWSRequest(
            method=handler.command,
            url=f"http://{headers.get('Host', '')}{canonical_path(raw_path)}",
            headers={},
            params=query_pairs(raw_query),
        )
        for name in signed:
            values = headers.get_all(name) or []
            if not values:
                raise S3Error(403, "AccessDenied", f"Signed header {name} is not in the request")
            for value in values:
                request.headers[name] = value
        request.context["timestamp"] = amz_date
        signer = S3SigV4Auth(Credentials(self.access_key, self.secret_key), "s3", self.region)
        canonical = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical)
        expected = signer.signature(string_to_sign, request)
        if not hmac.compare_digest(expected, fields["Signature"]):
            raise S3Error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.",
                AWSAccessKeyId=access_key,
                StringToSign=string_to_sign,
                SignatureProvided=fields["Signature"],
                CanonicalRequest=canonical,
            )
        return access_key


def etag_of(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


class Handler(BaseHTTPRequestHandler):
    store: Store = None  # set by main
    server_version = "s3-sigv4-stand-in"

    def log_message(self, fmt, *args):  # quiet; the request log is in /_test/state
        pass

    def _send(self, status, body=b"", headers=None, content_type="application/xml"):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body or self.command != "HEAD":
            self.send_header("Content-Type", content_type)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _body(self):
        length = self.headers.get("Content-Length")
        if length is None:
            if self.command in ("PUT", "POST"):
                raise S3Error(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
            return b""
        return self.rfile.read(int(length))

    def _handle(self):
        request_id = uuid.uuid4().hex[:16].upper()
        raw_path, _, raw_query = self.path.partition("?")
        if raw_path.startswith("/_test/"):
            return self._test_hook(raw_path, dict(query_pairs(raw_query)))
        path = urllib.parse.unquote(raw_path)
        bucket, _, key = path.lstrip("/").partition("/")
        query = dict(query_pairs(raw_query))
        entry = {"method": self.command, "bucket": bucket, "key": key, "query": query}
        try:
            body = self._body()
            self.store.verify(self, body)
            with self.store.lock:
                for fault in self.store.faults:
                    if fault["count"] > 0 and fault["method"] == self.command and fault["key"] in key:
                        fault["count"] -= 1
                        code = "SlowDown" if fault["status"] == 503 else "InternalError"
                        raise S3Error(fault["status"], code, "Injected failure")
            status, resp_body, headers = self._operation(bucket, key, query, body)
            entry.update(status=status)
            with self.store.lock:
                self.store.requests.append(entry)
            self._send(status, resp_body, headers)
        except S3Error as err:
            entry.update(status=err.status, code=err.code)
            with self.store.lock:
                self.store.requests.append(entry)
            self._send(err.status, b"" if self.command == "HEAD" else error_xml(err, raw_path, request_id))

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _handle

    def _operation(self, bucket, key, query, body):
        store = self.store
        if bucket not in store.buckets:
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist", BucketName=bucket)
        if not key:
            raise S3Error(501, "NotImplemented", "Bucket operations are not implemented by this stand-in")
        method = self.command
        with store.lock:
            if method == "POST" and "uploads" in query:
                upload_id = uuid.uuid4().hex
                store.uploads[upload_id] = {"bucket": bucket, "key": key, "parts": {}}
                return 200, _xml(
                    "InitiateMultipartUploadResult", [("Bucket", bucket), ("Key", key), ("UploadId", upload_id)]
                ), {}
            if "uploadId" in query:
                upload = store.uploads.get(query["uploadId"])
                if not upload or upload["bucket"] != bucket or upload["key"] != key:
                    raise S3Error(
                        404, "NoSuchUpload", "The specified upload does not exist.", UploadId=query["uploadId"]
                    )
                if method == "PUT" and "partNumber" in query:
                    number = int(query["partNumber"])
                    if not 1 <= number <= 10000:
                        raise S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000")
                    upload["parts"][number] = (body, etag_of(body))
                    return 200, b"", {"ETag": etag_of(body)}
                if method == "POST":
                    return self._complete(bucket, key, query["uploadId"], upload, body)
                if method == "DELETE":
                    del store.uploads[query["uploadId"]]
                    return 204, b"", {}
                raise S3Error(400, "InvalidRequest", f"{method} with uploadId is not an S3 operation")
            if method == "PUT":
                store.objects[(bucket, key)] = (body, etag_of(body))
                return 200, b"", {"ETag": etag_of(body)}
            if method in ("GET", "HEAD"):
                if (bucket, key) not in store.objects:
                    raise S3Error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
                data, etag = store.objects[(bucket, key)]
                headers = {"ETag": etag, "Content-Length": str(len(data))}
                return 200, data if method == "GET" else b"", headers
            if method == "DELETE":
                store.objects.pop((bucket, key), None)
                return 204, b"", {}
        raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")

    def _complete(self, bucket, key, upload_id, upload, body):
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed")

        def local(tag):
            return tag.rsplit("}", 1)[-1]

        if local(root.tag) != "CompleteMultipartUpload":
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed")
        listed = []
        for part in root:
            fields = {local(child.tag): (child.text or "") for child in part}
            listed.append((int(fields.get("PartNumber", "0")), fields.get("ETag", "")))
        if not listed:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed")
        numbers = [n for n, _ in listed]
        if numbers != sorted(set(numbers)):
            raise S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order.")
        data, digests = b"", b""
        for index, (number, etag) in enumerate(listed):
            stored = upload["parts"].get(number)
            if not stored or stored[1].strip('"') != etag.strip('"'):
                raise S3Error(400, "InvalidPart", "One or more of the specified parts could not be found.")
            if index < len(listed) - 1 and len(stored[0]) < MIN_PART_SIZE:
                raise S3Error(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
            data += stored[0]
            digests += hashlib.md5(stored[0]).digest()
        etag = f'"{hashlib.md5(digests).hexdigest()}-{len(listed)}"'
        self.store.objects[(bucket, key)] = (data, etag)
        del self.store.uploads[upload_id]
        host = self.headers.get("Host", "")
        return 200, _xml(
            "CompleteMultipartUploadResult",
            [("Location", f"http://{host}/{bucket}/{key}"), ("Bucket", bucket), ("Key", key), ("ETag", etag)],
        ), {}

    def _test_hook(self, path, query):
        store = self.store
        body = self._body() if self.headers.get("Content-Length") else b""
        with store.lock:
            if path == "/_test/state":
                state = {
                    "objects": {
                        f"{b}/{k}": {"size": len(d), "sha256": hashlib.sha256(d).hexdigest(), "etag": e}
                        for (b, k), (d, e) in store.objects.items()
                    },
                    "uploads": [{"bucket": u["bucket"], "key": u["key"]} for u in store.uploads.values()],
                    "requests": store.requests,
                }
                return self._send(200, json.dumps(state).encode(), content_type="application/json")
            if path == "/_test/object":
                found = store.objects.get((query.get("bucket"), query.get("key")))
                if not found:
                    return self._send(404, b"no such object", content_type="text/plain")
                return self._send(200, found[0], content_type="application/octet-stream")
            if path == "/_test/seed" and self.command == "POST":
                store.objects[(query["bucket"], query["key"])] = (body, etag_of(body))
                return self._send(204)
            if path == "/_test/fail" and self.command == "POST":
                store.faults.append(
                    {
                        "method": query["method"],
                        "key": query.get("key", ""),
                        "status": int(query.get("status", "500")),
                        "count": int(query.get("count", "1")),
                    }
                )
                return self._send(204)
        return self._send(404, b"unknown test hook", content_type="text/plain")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", action="append", required=True)
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    Handler.store = Store(args.bucket, args.access_key, args.secret_key, args.region)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
