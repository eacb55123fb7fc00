"""Schemathesis hook: signs every request to /api/v1/ with ONLIVESITE-HMAC-SHA256 (signing.md),
and sends the nscale dialect's requests (/api/v1/organizations/…) with a bearer token instead.

Loaded by `.ci/schemathesis.sh` through SCHEMATHESIS_HOOKS. Signing happens at the last
moment, on the `requests.PreparedRequest` about to be sent, so the signature covers exactly the
method, path, query and body bytes that go on the wire, whatever Schemathesis generated. Each
request carries a random `x-onlive-site-nonce` among its signed headers, so two identical writes
in one second are not refused as replays.

The nscale requests carry USERGROUPS_BEARER_TOKEN (fetched by the CI script from the token
endpoint), and three in four of them name the key's own organization, USERGROUPS_ORGANIZATION_ID,
in place of the generated one: a generated UUID is never the key's organization, so without this
every such request would stop at the 403 and never reach the handlers. Which ones is decided by
a hash of the URL, so a run stays reproducible under its seed.

The credentials come from USERGROUPS_ACCESS_KEY_ID and USERGROUPS_SECRET_ACCESS_KEY. The
algorithm is the contract's `sign.py`, copied rather than imported (this tree must not depend on
the contract folder's layout). `python3 signing_hook.py VECTORS.json` checks the copy against
every worked case of the contract's vectors; the CI script runs that before Schemathesis.
"""
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import sys
import urllib.parse
import uuid

SIGNED_PREFIX = "/api/v1/"
NSCALE_PREFIX = "/api/v1/organizations/"
UNRESERVED = re.compile(rb"[A-Za-z0-9\-_.~]")


def encode(raw: bytes) -> str:
    return "".join(chr(b) if UNRESERVED.fullmatch(bytes([b])) else "%%%02X" % b for b in raw)


def canonical_uri(path: str) -> str:
    if not path:
        return "/"
    return "/".join(encode(urllib.parse.unquote_to_bytes(seg)) for seg in path.split("/"))


def form_decode(text: str) -> bytes:
    return urllib.parse.unquote_to_bytes(text.replace("+", " "))


def canonical_query(query: str) -> str:
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((encode(form_decode(name)), encode(form_decode(value))))
    pairs.sort()
    return "&".join(f"{n}={v}" for n, v in pairs)


def fold(value: str) -> str:
    return re.sub(r"[ \t]+", " ", value.strip(" \t"))


def canonical_request(method, path, query, headers, signed, body: bytes) -> str:
    """`headers`: (name, value) pairs in the order sent; `signed`: sorted lowercase names."""
    lines = "".join(
        f"{name}:{','.join(fold(v) for n, v in headers if n.lower() == name)}\n" for name in signed
    )
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            lines,
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )


def signature(secret: str, date: str, canonical: str) -> str:
    to_sign = "\n".join(
        ["ONLIVESITE-HMAC-SHA256", date, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def sign(request, key_id: str, secret: str) -> None:
    """Adds the date, a nonce and the Authorization header to a PreparedRequest, in place."""
    url = urllib.parse.urlsplit(request.url)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    added = {
        "host": url.netloc,
        "x-onlive-site-date": date,
        "x-onlive-site-nonce": str(uuid.uuid4()),
    }
    signed = sorted(added)
    canonical = canonical_request(
        request.method, url.path, url.query, list(added.items()), signed, body
    )
    for name in list(request.headers):
        if name.lower() in added or name.lower() == "authorization":
            del request.headers[name]
    request.headers.update(added)
    request.headers["authorization"] = (
        f"ONLIVESITE Credential:{key_id}, SignedHeaders={';'.join(signed)}, "
        f"Signature={signature(secret, date, canonical)}"
    )


def present_token(request, token: str, organization_id: str) -> None:
    """Sends an nscale request with the bearer token, mostly for the key's own organization."""
    url = urllib.parse.urlsplit(request.url)
    segments = url.path.split("/")
    # ['', 'api', 'v1', 'organizations', '<organizationID>', …]
    if len(segments) > 4 and hashlib.sha256(request.url.encode()).digest()[0] % 4 != 0:
        segments[4] = organization_id
        request.url = urllib.parse.urlunsplit(url._replace(path="/".join(segments)))
    for name in list(request.headers):
        if name.lower() == "authorization":
            del request.headers[name]
    request.headers["authorization"] = f"Bearer {token}"


def install() -> None:
    """Makes every `requests` session sign what it sends under /api/v1/ (or present the token)."""
    import requests

    key_id = os.environ["USERGROUPS_ACCESS_KEY_ID"]
    secret = os.environ["USERGROUPS_SECRET_ACCESS_KEY"]
    token = os.environ.get("USERGROUPS_BEARER_TOKEN")
    organization_id = os.environ.get("USERGROUPS_ORGANIZATION_ID")
    send = requests.Session.send

    def signing_send(self, request, **kwargs):
        path = urllib.parse.urlsplit(request.url).path
        if path.startswith(NSCALE_PREFIX) and token and organization_id:
            present_token(request, token, organization_id)
        elif path.startswith(SIGNED_PREFIX):
            sign(request, key_id, secret)
        return send(self, request, **kwargs)

    requests.Session.send = signing_send


def self_test(vectors_path: str) -> int:
    """Checks the copy against every worked case of the contract's vectors."""
    with open(vectors_path, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    failed = 0
    for case in cases:
        url = urllib.parse.urlsplit(case["target"])
        headers = [tuple(h) for h in case["headers"]]
        signed = case["signed_headers"].split(";")
        date = dict((n.lower(), v) for n, v in headers)["x-onlive-site-date"]
        canonical = canonical_request(
            case["method"], url.path, url.query, headers, signed, case["body"].encode()
        )
        ours = signature(case["secret"], date, canonical)
        if canonical != case["canonical_request"] or ours != case["signature"]:
            failed += 1
            print(f"signing_hook: case {case['name']} differs", file=sys.stderr)
    print(f"signing_hook: {len(cases) - failed} of {len(cases)} vector cases reproduced")
    return 1 if failed or not cases else 0


if __name__ == "__main__":
    sys.exit(self_test(sys.argv[1]))
else:
    install()
