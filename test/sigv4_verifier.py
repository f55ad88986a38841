#!/usr/bin/env python3
"""A stand-in for an AWS_IAM Function URL's front, for tests: a reverse proxy
on 127.0.0.1 that checks each request's SigV4 signature with botocore (the AWS
SDK for Python's own signer, an implementation independent of curl's) and
answers 403 on a mismatch, as AWS does; a request that verifies is passed to
the upstream URL and its answer streamed back as it arrives.

    sigv4_verifier.py --upstream URL --region REGION --service lambda \
        --credentials KEY:SECRET[:TOKEN] [--credentials ...]

Prints `listening on <port>` once it accepts connections, then one line per
request (`verified` or `refused: <why>`). Like AWS, it computes the canonical
query from the parameters as received, decoded and encoded again, sorted by
name: a signer that signs the query in the order it was written fails here
exactly as it fails against AWS.
"""
import argparse
import hmac
import http.client
import re
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r" ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})$"
)
# Not passed upstream: the signature is ours to check, and the connection is per hop.
HOP_HEADERS = {"authorization", "host", "connection", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="URL the verified requests go to (a path prefix)")
    parser.add_argument("--region", required=True)
    parser.add_argument("--service", default="lambda")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--credentials", action="append", default=[], help="KEY:SECRET or KEY:SECRET:TOKEN")
    return parser.parse_args()


def why_refused(handler, args, keys):
    """None when the request's signature verifies, else what is wrong."""
    match = AUTHORIZATION.match(handler.headers.get("authorization", ""))
    if not match:
        return "no SigV4 Authorization header"
    if match["key"] not in keys:
        return f"unknown access key {match['key']}"
    if (match["region"], match["service"]) != (args.region, args.service):
        return f"signed for {match['region']}/{match['service']}, not {args.region}/{args.service}"
    secret, token = keys[match["key"]]
    if token is not None and handler.headers.get("x-amz-security-token") != token:
        return "the session token is missing or wrong"
    timestamp = handler.headers.get("x-amz-date", "")
    if not timestamp.startswith(match["date"]):
        return "x-amz-date does not match the credential scope's date"
    signed = match["signed"].split(";")
    missing = [name for name in signed if handler.headers.get(name) is None]
    if missing:
        return f"signed headers not sent: {', '.join(missing)}"

    split = urllib.parse.urlsplit(handler.path)
    request = AWSRequest(
        method=handler.command,
        url=f"http://{handler.headers['host']}{split.path}",
        headers={name: handler.headers[name] for name in signed},
        # Decoded here and encoded again by botocore, sorted: the canonical query AWS computes.
        params=urllib.parse.parse_qsl(split.query, keep_blank_values=True),
    )
    request.context["timestamp"] = timestamp
    auth = SigV4Auth(Credentials(match["key"], secret, token), args.service, args.region)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        return "signature mismatch; canonical request:\n" + canonical
    return None


def make_handler(args, keys):
    upstream = urllib.parse.urlsplit(args.upstream)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            refused = why_refused(self, args, keys)
            if refused:
                print(f"refused: {self.command} {self.path}: {refused}", flush=True)
                body = b'{"message":"The request signature we calculated does not match the signature you provided."}'
                self.send_response(403)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            print(f"verified: {self.command} {self.path}", flush=True)
            self.forward()

        do_POST = do_GET
        do_OPTIONS = do_GET

        def forward(self):
            connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=900)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            connection.request(self.command, upstream.path.rstrip("/") + self.path, headers=headers)
            answer = connection.getresponse()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("connection", "close")
            self.end_headers()
            # Each piece as it arrives: the stream must stay a stream.
            while chunk := answer.read1(65536):
                self.wfile.write(chunk)
                self.wfile.flush()
            connection.close()

        def log_message(self, *_):
            pass

    return Handler


def main():
    args = parse_args()
    keys = {}
    for entry in args.credentials:
        key, secret, *token = entry.split(":", 2)
        keys[key] = (secret, token[0] if token else None)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args, keys))
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
