"""Verification of AWS Signature Version 4 (``AWS4-HMAC-SHA256``), pure: no I/O, no clock.

The emulator checks signatures only when started with ``--auth verify``; by default any
signature is accepted (ses-spec §1.1). `verify_request` takes everything it needs as values —
method, raw path, raw query string, headers, body bytes, the known credentials and ``now`` —
and either returns the `Principal` that signed, or raises `emulator.ses.errors.SesError` with
both wire forms (v1 XML code, v2 JSON code), so the protocol layer can report it.

The canonical request follows the AWS SigV4 reference ("Create a canonical request",
https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) the way botocore
builds it (``botocore/auth.py``, ``SigV4Auth``), because that is what every client we test
against signs:

* canonical URI: the path *as sent on the wire* (already percent-encoded by the client),
  dot-segments and duplicate slashes removed, then URI-encoded once more keeping ``/`` and
  ``~`` — non-S3 services double-encode, so ``%40`` is signed as ``%2540``;
* canonical query: every ``key=value`` pair decoded, re-encoded with only ``A-Z a-z 0-9 - _ .
  ~`` left bare, sorted by key then value; ``X-Amz-Signature`` left out for presigned URLs;
* canonical headers: the names listed in ``SignedHeaders``, lower-cased, values trimmed with
  runs of spaces collapsed, repeated headers joined by ``,``;
* payload hash: SHA-256 of the body (SES never uses ``UNSIGNED-PAYLOAD``; if a client sends an
  ``X-Amz-Content-SHA256`` header it is used, as botocore does, after checking it is the body's
  hash or the literal ``UNSIGNED-PAYLOAD``).

Errors (codes and texts), v1 (XML) / v2 (JSON):

* no ``Authorization`` and no ``X-Amz-Signature``: ``MissingAuthenticationToken`` 403 in both
  ([D] AWS Common Errors; the text is what STS/IAM send [O]);
* malformed header or credential: ``IncompleteSignature`` 403 in both ([D] Common Errors);
* unknown access key: ``InvalidClientTokenId`` 403 / ``UnrecognizedClientException`` 403
  ([O] django-ses issue 283: v1 GetSendQuota and v2 GetAccount with a bad key);
* wrong signature: ``SignatureDoesNotMatch`` 403 / ``InvalidSignatureException`` 403 (text [O]);
* clock skew over 5 minutes: ``RequestExpired`` 400 / ``InvalidSignatureException`` 403
  ([D] 5 minutes, IAM "Signing AWS API requests"; [O] "Signature expired: … - 5 min.)");
* presigned URL past ``X-Amz-Expires``: ``RequestExpired`` 400 / ``InvalidSignatureException``
  403 ([D] Common Errors ``RequestExpired``).
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

from emulator.config import Settings, SettingsError
from emulator.ses.errors import SesError, Wire

__all__ = [
    "MAX_CLOCK_SKEW_SECONDS",
    "MAX_PRESIGN_EXPIRES_SECONDS",
    "Principal",
    "SigningRequest",
    "canonical_query_string",
    "canonical_request",
    "canonical_uri",
    "check_control_token",
    "constant_time_equal",
    "credentials_of",
    "derive_signing_key",
    "incomplete_signature",
    "invalid_client_token_id",
    "load_credentials_file",
    "missing_authentication_token",
    "request_expired",
    "signature_does_not_match",
    "string_to_sign",
    "verify_request",
]

ALGORITHM = "AWS4-HMAC-SHA256"
# "In most cases, a request must reach AWS within five minutes of the time stamp in the
# request" — IAM User Guide, "Signing AWS API requests" (reference_aws-signing.html).
MAX_CLOCK_SKEW_SECONDS = 300.0
# A presigned URL's X-Amz-Expires may be at most 7 days (604800 s) — AWS SigV4 query
# authentication ("Authenticating Requests: Using Query Parameters").
MAX_PRESIGN_EXPIRES_SECONDS = 604_800
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
# Characters SigV4 leaves unencoded in a query component (RFC 3986 unreserved).
_UNRESERVED = "-_.~"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningRequest:
    """The parts of an HTTP request that SigV4 covers, as received.

    ``path`` is the raw, still percent-encoded path without the query (aiohttp:
    ``request.raw_path`` up to ``?``); ``query`` the raw query string without ``?``;
    ``headers`` every header as (name, value) pairs, repeats kept.
    """

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    @classmethod
    def received(
        cls, method: str, raw_path: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> SigningRequest:
        """The request as a server received it: ``raw_path`` with its query (aiohttp's
        ``request.raw_path``), ``body`` as sent (before any ``Content-Encoding`` is undone:
        the payload hash covers the bytes on the wire)."""
        path, _, query = raw_path.partition("?")
        return cls(method=method, path=path or "/", query=query, headers=tuple(headers), body=body)

    def __post_init__(self) -> None:
        if not self.method:
            raise ValueError("method: must not be empty")
        if "?" in self.path:
            raise ValueError(f"path: must not contain the query string (got {self.path!r})")

    def header_values(self, name: str) -> list[str]:
        """All values of header ``name`` (case-insensitive), in the order received."""
        lname = name.lower()
        return [value for key, value in self.headers if key.lower() == lname]

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who signed a verified request, from its credential scope."""

    access_key: str
    date: str  # yyyymmdd from the scope
    region: str
    service: str
    security_token: str | None
    presigned: bool


# --- errors -------------------------------------------------------------------------------


def missing_authentication_token() -> SesError:
    """No signature at all."""
    text = "Request is missing Authentication Token"
    return SesError(
        text,
        v1=Wire("MissingAuthenticationToken", 403),
        v2=Wire("MissingAuthenticationToken", 403),
    )


def incomplete_signature(detail: str) -> SesError:
    """A signature is present but cannot be parsed (``detail`` says which part)."""
    return SesError(
        detail, v1=Wire("IncompleteSignature", 403), v2=Wire("IncompleteSignature", 403)
    )


def invalid_client_token_id() -> SesError:
    """The access key is not one the emulator was started with."""
    text = "The security token included in the request is invalid."
    return SesError(
        text, v1=Wire("InvalidClientTokenId", 403), v2=Wire("UnrecognizedClientException", 403)
    )


def signature_does_not_match() -> SesError:
    """The signature is well-formed but not the one the secret key produces."""
    text = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )
    return SesError(
        text, v1=Wire("SignatureDoesNotMatch", 403), v2=Wire("InvalidSignatureException", 403)
    )


def request_expired(message: str) -> SesError:
    """Signed too long ago (or in the future), or a presigned URL past its expiry."""
    return SesError(
        message, v1=Wire("RequestExpired", 400), v2=Wire("InvalidSignatureException", 403)
    )


# --- canonical form -----------------------------------------------------------------------


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 §5.2.4, plus the collapsing of empty segments AWS requires.
    if not path:
        return "/"
    out: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
        else:
            out.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and out else ""
    return first + "/".join(out) + last


def canonical_uri(raw_path: str) -> str:
    """The canonical URI of a non-S3 request: the wire path normalized, then encoded again."""
    return quote(_remove_dot_segments(raw_path), safe="/~")


def canonical_query_string(raw_query: str, *, exclude: Iterable[str] = ()) -> str:
    """Decoded, re-encoded (unreserved characters bare) and sorted ``key=value`` pairs."""
    skip = set(exclude)
    pairs: list[tuple[str, str]] = []
    for item in raw_query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        key = unquote(key)
        if key in skip:
            continue
        pairs.append((quote(key, safe=_UNRESERVED), quote(unquote(value), safe=_UNRESERVED)))
    pairs.sort()
    return "&".join(f"{key}={value}" for key, value in pairs)


def _trim(value: str) -> str:
    # "Trimall": strip and collapse runs of whitespace to one space.
    return " ".join(value.split())


def canonical_request(
    request: SigningRequest,
    *,
    signed_headers: list[str],
    payload_hash: str,
    exclude_query: Iterable[str] = (),
) -> str:
    """The SigV4 canonical request for ``request`` over ``signed_headers`` (lower-case)."""
    lines = [
        request.method.upper(),
        canonical_uri(request.path),
        canonical_query_string(request.query, exclude=exclude_query),
    ]
    header_lines = []
    for name in signed_headers:
        values = request.header_values(name)
        header_lines.append(f"{name}:{','.join(_trim(v) for v in values)}")
    lines.append("\n".join(header_lines) + "\n")
    lines.append(";".join(signed_headers))
    lines.append(payload_hash)
    return "\n".join(lines)


def string_to_sign(*, amz_date: str, scope: str, canonical: str) -> str:
    """``AWS4-HMAC-SHA256``, the timestamp, the scope and the canonical request's hash."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def derive_signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")."""
    k_date = _hmac(f"AWS4{secret}".encode(), date)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, "aws4_request")


def constant_time_equal(a: str, b: str) -> bool:
    """Compare two secrets without leaking where they differ through timing."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


# --- parsing the signature ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Parsed:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    amz_date: str
    expires: int | None  # presigned only
    security_token: str | None
    presigned: bool


def _shown(value: str, limit: int = 200) -> str:
    """``value`` safe to quote in an error: undecodable bytes escaped, length bounded.

    aiohttp hands over undecodable header bytes as lone surrogates, which cannot be encoded
    into the UTF-8 response; echoing them raw would turn a 403 into a 500.
    """
    text = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[:limit] + "…"


def _parse_credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise incomplete_signature(
            f"Credential should be scoped to a valid region, service and terminated by "
            f"'aws4_request' (got '{_shown(credential)}')."
        )
    access_key, date, region, service, _ = parts
    if not re.fullmatch(r"\d{8}", date):
        raise incomplete_signature(
            f"Credential scope date must be yyyyMMdd (got '{_shown(date)}')."
        )
    return access_key, date, region, service


def _parse_signed_headers(value: str) -> list[str]:
    names = [name.strip().lower() for name in value.split(";")]
    if not value or any(not name for name in names):
        raise incomplete_signature(f"SignedHeaders is empty or malformed (got '{_shown(value)}').")
    return names


def _parse_header_auth(request: SigningRequest, header: str) -> _Parsed:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise incomplete_signature(
            f"Unsupported Authorization algorithm '{_shown(algorithm)}'; "
            f"only {ALGORITHM} is accepted."
        )
    fields: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            fields[key] = value
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in fields]
    if missing:
        raise incomplete_signature(
            f"Authorization header requires {', '.join(repr(m) for m in missing)} "
            f"parameter(s). Authorization={_shown(header)}"
        )
    access_key, date, region, service = _parse_credential(fields["Credential"])
    amz_date = request.header("x-amz-date")
    if amz_date is None:
        raise incomplete_signature(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    return _Parsed(
        access_key=access_key,
        date=date,
        region=region,
        service=service,
        signed_headers=_parse_signed_headers(fields["SignedHeaders"]),
        signature=fields["Signature"],
        amz_date=amz_date.strip(),
        expires=None,
        security_token=request.header("x-amz-security-token"),
        presigned=False,
    )


def _query_params(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in raw_query.split("&"):
        key, _, value = item.partition("=")
        params.setdefault(unquote(key), unquote(value))
    return params


def _parse_query_auth(params: Mapping[str, str]) -> _Parsed:
    missing = [
        k
        for k in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
        if k not in params
    ]
    if missing:
        raise incomplete_signature(
            f"AWS query-string parameters must include {', '.join(repr(m) for m in missing)}."
        )
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise incomplete_signature(
            f"X-Amz-Algorithm must be {ALGORITHM} "
            f"(got '{_shown(params.get('X-Amz-Algorithm', ''))}')."
        )
    expires_text = params.get("X-Amz-Expires", str(MAX_PRESIGN_EXPIRES_SECONDS))
    if not expires_text.isdigit() or not 0 < int(expires_text) <= MAX_PRESIGN_EXPIRES_SECONDS:
        raise incomplete_signature(
            f"X-Amz-Expires must be a whole number of seconds from 1 to "
            f"{MAX_PRESIGN_EXPIRES_SECONDS} (got '{_shown(expires_text)}')."
        )
    access_key, date, region, service = _parse_credential(params["X-Amz-Credential"])
    return _Parsed(
        access_key=access_key,
        date=date,
        region=region,
        service=service,
        signed_headers=_parse_signed_headers(params["X-Amz-SignedHeaders"]),
        signature=params["X-Amz-Signature"],
        amz_date=params["X-Amz-Date"],
        expires=int(expires_text),
        security_token=params.get("X-Amz-Security-Token"),
        presigned=True,
    )


def _parse_amz_date(value: str) -> float:
    try:
        return datetime.strptime(value, _AMZ_DATE).replace(tzinfo=UTC).timestamp()
    except ValueError as exc:
        raise incomplete_signature(
            f"Date must be in ISO-8601 'basic format' yyyyMMdd'T'HHmmss'Z' (got '{_shown(value)}')."
        ) from exc


def _fmt(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(_AMZ_DATE)


def _check_time(parsed: _Parsed, now: float, max_skew: float) -> None:
    signed_at = _parse_amz_date(parsed.amz_date)
    if parsed.amz_date[:8] != parsed.date:
        raise signature_does_not_match()
    if parsed.expires is not None:
        if now > signed_at + parsed.expires:
            raise request_expired("Request has expired.")
        if signed_at > now + max_skew:
            raise request_expired(_not_yet_current(signed_at, now, max_skew))
        return
    if signed_at < now - max_skew:
        minutes = int(max_skew // 60)
        raise request_expired(
            f"Signature expired: {_fmt(signed_at)} is now earlier than "
            f"{_fmt(now - max_skew)} ({_fmt(now)} - {minutes} min.)"
        )
    if signed_at > now + max_skew:
        raise request_expired(_not_yet_current(signed_at, now, max_skew))


def _not_yet_current(signed_at: float, now: float, max_skew: float) -> str:
    minutes = int(max_skew // 60)
    return (
        f"Signature not yet current: {_fmt(signed_at)} is still later than "
        f"{_fmt(now + max_skew)} ({_fmt(now)} + {minutes} min.)"
    )


def _payload_hash(request: SigningRequest) -> str:
    actual = hashlib.sha256(request.body).hexdigest()
    declared = request.header("x-amz-content-sha256")
    if declared is None:
        return actual
    declared = declared.strip()
    if declared != UNSIGNED_PAYLOAD and not constant_time_equal(declared, actual):
        # The client claims a body other than the one that arrived.
        raise signature_does_not_match()
    return declared


# --- the entry points ---------------------------------------------------------------------


def verify_request(
    request: SigningRequest,
    *,
    credentials: Mapping[str, str],
    now: float,
    max_skew: float = MAX_CLOCK_SKEW_SECONDS,
) -> Principal:
    """Verify the SigV4 signature of ``request``; return who signed it or raise `SesError`.

    ``credentials`` maps access key id → secret access key. ``now`` is epoch seconds.
    Checks run in the order AWS reports them: presence, shape, access key, time, signature.

    Example: ``verify_request(req, credentials={"AKIDEXAMPLE": "secret"}, now=time.time())``
    returns ``Principal(access_key="AKIDEXAMPLE", region="us-east-1", ...)``.
    """
    header = request.header("authorization")
    params = _query_params(request.query) if "X-Amz-" in request.query else {}
    if header is not None:
        parsed = _parse_header_auth(request, header)
    elif "X-Amz-Signature" in params or "X-Amz-Credential" in params:
        parsed = _parse_query_auth(params)
    else:
        raise missing_authentication_token()

    secret = credentials.get(parsed.access_key)
    if secret is None:
        raise invalid_client_token_id()
    _check_time(parsed, now, max_skew)
    if "host" not in parsed.signed_headers:
        # SigV4 requires Host to be signed (IAM "Create a canonical request").
        raise signature_does_not_match()
    if not _HEX64.match(parsed.signature):
        raise signature_does_not_match()

    if parsed.presigned:
        payload = (
            request.header("x-amz-content-sha256") or hashlib.sha256(request.body).hexdigest()
        ).strip()
    else:
        payload = _payload_hash(request)
    canonical = canonical_request(
        request,
        signed_headers=parsed.signed_headers,
        payload_hash=payload,
        exclude_query=("X-Amz-Signature",) if parsed.presigned else (),
    )
    scope = f"{parsed.date}/{parsed.region}/{parsed.service}/aws4_request"
    to_sign = string_to_sign(amz_date=parsed.amz_date, scope=scope, canonical=canonical)
    key = derive_signing_key(secret, parsed.date, parsed.region, parsed.service)
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not constant_time_equal(expected, parsed.signature):
        raise signature_does_not_match()
    return Principal(
        access_key=parsed.access_key,
        date=parsed.date,
        region=parsed.region,
        service=parsed.service,
        security_token=parsed.security_token,
        presigned=parsed.presigned,
    )


def check_control_token(headers: Iterable[tuple[str, str]], token: str | None) -> bool:
    """Whether a control-API request carries ``token``.

    Accepted forms: ``Authorization: Bearer <token>`` or ``X-Emulator-Token: <token>``.
    ``token`` None means the control API is open, so every request passes.
    """
    if token is None:
        return True
    for name, value in headers:
        lname = name.lower()
        if lname == "x-emulator-token" and constant_time_equal(value.strip(), token):
            return True
        if lname == "authorization":
            scheme, _, candidate = value.strip().partition(" ")
            if scheme.lower() == "bearer" and constant_time_equal(candidate.strip(), token):
                return True
    return False


def credentials_of(settings: Settings) -> dict[str, str]:
    """Access key → secret for ``--auth verify``: ``Settings.credentials``, then those of
    ``Settings.credentials_file`` (`load_credentials_file`; `SettingsError` if unreadable)."""
    credentials = dict(settings.credentials)
    if settings.credentials_file is not None:
        credentials.update(load_credentials_file(settings.credentials_file))
    return credentials


def load_credentials_file(path: str) -> dict[str, str]:
    """Access key → secret from ``path``: ``KEY:SECRET`` lines, or an AWS credentials file.

    The AWS form is the INI file the CLI writes (``aws_access_key_id`` /
    ``aws_secret_access_key`` in each profile). Blank lines and ``#`` comments are skipped.
    Raises `SettingsError` naming the file when it cannot be read or holds no credential.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError("credentials_file", f"{path}: cannot read ({exc})") from exc
    found: dict[str, str] = {}
    if "aws_access_key_id" in text:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text, source=path)
        except configparser.Error as exc:
            raise SettingsError("credentials_file", f"{path}: not an AWS credentials file") from exc
        for section in parser.sections():
            key = parser[section].get("aws_access_key_id", "").strip()
            secret = parser[section].get("aws_secret_access_key", "").strip()
            if key and secret:
                found[key] = secret
    else:
        for number, raw_line in enumerate(text.splitlines(), start=1):
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, secret = line.partition(":")
            if not sep or not key.strip() or not secret.strip():
                raise SettingsError(
                    "credentials_file", f"{path} line {number}: expected KEY:SECRET"
                )
            found[key.strip()] = secret.strip()
    if not found:
        raise SettingsError("credentials_file", f"{path}: holds no credentials")
    return found
