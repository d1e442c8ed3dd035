"""Who is calling: the account and region a request belongs to, from its SigV4 credential.

SES keeps identities, templates and quotas per account *per region* [D]. The emulator reads both
from the credential scope every signed request carries — ``Credential=<key>/<date>/<region>/
ses/aws4_request`` in the ``Authorization`` header, or ``X-Amz-Credential`` in a presigned URL's
query string — so parallel test workers using different access keys never share state.

* A 12-digit access key *is* the account id (a convention LocalStack users know); any other key
  maps to ``Settings.default_account``.
* The region is the scope's; SigV4a scopes (``AWS4-ECDSA-P256-SHA256``, used for multi-region
  endpoints) carry no region, and unsigned requests carry nothing: both use ``Settings.region``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from emulator._shortcache import short_string_cache
from emulator.config import Settings

__all__ = ["Caller", "caller", "credential_scope"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """The partition of emulator state a request reads and writes."""

    access_key: str | None
    account_id: str
    region: str


def _credential(authorization: str | None, raw_query: str) -> str:
    """The ``Credential`` text of a request (``key/date/region/service/aws4_request``), or ""."""
    if authorization:
        start = authorization.find("Credential=")
        if start >= 0:
            return authorization[start + len("Credential=") :].split(",", 1)[0].strip()
        return ""
    if "X-Amz-Credential" in raw_query:
        return dict(parse_qsl(raw_query)).get("X-Amz-Credential", "")
    return ""


def _scope(credential: str) -> tuple[str, str | None]:
    parts = credential.split("/")
    if not parts[0]:
        return "", None
    # SigV4: key/date/region/service/aws4_request; SigV4a: key/date/service/aws4_request.
    region = parts[2] if len(parts) == 5 and parts[2] else None
    return parts[0], region


def credential_scope(authorization: str | None, raw_query: str = "") -> tuple[str, str | None]:
    """``(access_key, region)`` from a credential, or ``("", None)`` when there is none."""
    return _scope(_credential(authorization, raw_query))


def _caller(credential: str, default_account: str, default_region: str) -> Caller:
    key, region = _scope(credential)
    account = key if len(key) == 12 and key.isascii() and key.isdigit() else None
    return Caller(
        access_key=key or None,
        account_id=account or default_account,
        region=region or default_region,
    )


# A client signs every request with the same credential scope (it changes with the date), so
# the `Caller` of a credential text is kept in a bounded cache; texts longer than a real scope
# (a 128-character key, date, region, service, terminator) are worked out without it. The
# same limit applies to the settings' account and region, far shorter in any real setup.
_CALLER_CACHE_SIZE = 1024
_CACHED_CREDENTIAL_LENGTH = 256
_cached_caller = short_string_cache(
    _caller, maxsize=_CALLER_CACHE_SIZE, max_length=_CACHED_CREDENTIAL_LENGTH
)


def caller(headers: Mapping[str, str], raw_query: str, settings: Settings) -> Caller:
    """The `Caller` of a request, given its headers and raw query string."""
    credential = _credential(headers.get("Authorization"), raw_query)
    return _cached_caller(credential, settings.default_account, settings.region)
