"""Verified identities (email addresses and domains): the protocol-free core.

SES keeps one set of identities per account and region, shared by the v1 and v2 APIs [D].
Rules implemented here (ses-spec §2.2, §2.5):

- A name containing ``@`` is an email-address identity and keeps its case: address identities
  are **case-sensitive** (verifying ``sender@EXAMPLE.com`` does not verify
  ``sender@example.com``) [D]. Anything else is a domain identity, stored lower-cased [D].
- New identities are ``Success`` at once (``--verification instant``, the default) or
  ``Pending`` until the control API verifies them (``--verification pending``).
- `is_verified` answers "may this address send": an exact ``Success`` address identity, the same
  address without its ``+label`` [D], or a ``Success`` domain identity for the address's domain
  **or any parent domain** [D]; ``--auto-verify`` makes every address verified.

Used by the v1/v2 handlers, by the send policy (`is_verified`) and by the control API
(`verify`, `set_status`, `delete`, `list_identities`).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
from collections.abc import Sequence
from email.utils import parseaddr
from typing import Literal

from emulator._shortcache import short_string_cache
from emulator.config import Settings
from emulator.ses import errors
from emulator.ses.errors import Api
from emulator.ses.state import AccountState, Identity, IdentityStatus
from seskit.rules import MAX_DOMAIN_LABEL_LENGTH, MAX_DOMAIN_LENGTH

__all__ = [
    "IDENTITY_STATUSES",
    "MAX_IDENTITIES",
    "MAX_POLICIES_PER_IDENTITY",
    "IdentityKind",
    "create",
    "delete",
    "delete_policy",
    "find",
    "get",
    "identity_key",
    "is_verified",
    "kind_of",
    "list_identities",
    "put_policy",
    "set_dkim_enabled",
    "set_mail_from",
    "set_status",
    "v2_status",
    "verify",
]

IdentityKind = Literal["EmailAddress", "Domain"]

IDENTITY_STATUSES: tuple[IdentityStatus, ...] = (
    "Pending",
    "Success",
    "Failed",
    "TemporaryFailure",
    "NotStarted",
)

# "Verified identities per Region: 10,000" (SES quotas page) [D] (ses-spec §2.5).
MAX_IDENTITIES = 10_000
# "You can attach up to 20 policies to each identity" (SES sending-authorization guide) [D].
MAX_POLICIES_PER_IDENTITY = 20

_DOMAIN_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?|xn--[a-z0-9-]+")
_DKIM_TOKEN_ALPHABET = string.ascii_lowercase + string.digits


def kind_of(name: str) -> IdentityKind:
    """``EmailAddress`` if the name contains ``@``, else ``Domain``."""
    return "EmailAddress" if "@" in name else "Domain"


def identity_key(name: str) -> str:
    """The key an identity is stored under: domains lower-cased, addresses as given."""
    return name if kind_of(name) == "EmailAddress" else name.lower()


def v2_status(status: str) -> str:
    """v1 ``TemporaryFailure`` → v2 ``TEMPORARY_FAILURE`` (the same enum, spelled for v2 [M])."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", status).upper()


def _check_name(name: str) -> None:
    """Reject names that are neither an address nor a domain (texts inferred)."""
    if kind_of(name) == "EmailAddress":
        local, _, domain = name.rpartition("@")
        if not local or not domain or any(c.isspace() or ord(c) < 32 for c in name):
            raise errors.bad_request(f"Invalid email address <{name}>.")
        return
    domain = name.lower().rstrip(".")
    labels = domain.split(".")
    # DNS limits: a label is at most 63 characters, a name at most 255 [D] (ses-spec §2.2).
    if (
        not domain
        or len(domain) > MAX_DOMAIN_LENGTH
        or any(
            len(label) > MAX_DOMAIN_LABEL_LENGTH or not _DOMAIN_LABEL_RE.fullmatch(label)
            for label in labels
        )
    ):
        raise errors.bad_request(f"Invalid domain name <{name}>.")


def _verification_token() -> str:
    # A domain's TXT-record token: 32 random bytes, base64 (44 characters), as SES shows [O].
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _dkim_tokens() -> list[str]:
    # Easy DKIM: three CNAME tokens of 32 lower-case alphanumerics [O].
    return ["".join(secrets.choice(_DKIM_TOKEN_ALPHABET) for _ in range(32)) for _ in range(3)]


def _initial_status(settings: Settings) -> IdentityStatus:
    return "Pending" if settings.verification == "pending" else "Success"


def verify(
    state: AccountState,
    name: str,
    *,
    now: float,
    status: IdentityStatus | None = None,
    settings: Settings,
) -> Identity:
    """Start (or repeat) verification of an address or domain and return the identity.

    Idempotent: re-verifying keeps the creation time and the domain's tokens. An identity that
    is not yet ``Success`` gets the status the verification mode gives new identities (or
    ``status`` when given, as the control API does).
    """
    _check_name(name)
    key = identity_key(name)
    with state.lock:
        identity = state.identities.get(key)
        if identity is None:
            if len(state.identities) >= MAX_IDENTITIES:
                raise errors.limit_exceeded(
                    f"Maximum number of verified identities ({MAX_IDENTITIES}) reached."
                )
            kind = kind_of(key)
            identity = Identity(
                name=key,
                kind=kind,
                status=status or _initial_status(settings),
                created=now,
            )
            if kind == "Domain":
                identity.token = _verification_token()
                identity.dkim_tokens = _dkim_tokens()
                # v2 CreateEmailIdentity sets up Easy DKIM for a domain at once [D].
                identity.dkim_enabled = True
            state.identities[key] = identity
        elif status is not None:
            identity.status = status
        elif identity.status != "Success":
            identity.status = _initial_status(settings)
        return identity


def create(
    state: AccountState,
    name: str,
    *,
    now: float,
    settings: Settings,
    tags: Sequence[dict[str, str]] = (),
    configuration_set: str | None = None,
    dkim_origin: str = "AWS_SES",
) -> Identity:
    """v2 CreateEmailIdentity: like `verify`, but an existing identity is an error."""
    _check_name(name)
    key = identity_key(name)
    if key in state.identities:
        raise errors.already_exists(f"Email identity {key} already exists.")
    if configuration_set is not None and configuration_set not in state.configuration_sets:
        raise errors.configuration_set_does_not_exist(configuration_set)
    identity = verify(state, key, now=now, settings=settings)
    identity.tags = [dict(tag) for tag in tags]
    identity.configuration_set = configuration_set
    identity.dkim_origin = dkim_origin
    return identity


def set_status(state: AccountState, name: str, status: IdentityStatus) -> Identity:
    """Move an identity to ``status`` (control API); unknown → v1/v2 not-found error."""
    if status not in IDENTITY_STATUSES:
        raise errors.bad_request(
            f"Invalid verification status {status}. "
            f"Valid values are: {', '.join(IDENTITY_STATUSES)}."
        )
    identity = find(state, name)
    if identity is None:
        raise errors.identity_does_not_exist(name, "v2")
    identity.status = status
    return identity


def delete(state: AccountState, name: str) -> bool:
    """Forget an identity; True if it existed. SES's DeleteIdentity never fails [M]."""
    with state.lock:
        return state.identities.pop(identity_key(name), None) is not None


def find(state: AccountState, name: str) -> Identity | None:
    """The identity stored under ``name`` (domains matched case-insensitively), or None."""
    return state.identities.get(identity_key(name))


def get(state: AccountState, name: str, *, api: Api) -> Identity:
    """The identity, or SES's error for an identity-scoped call on an unknown one."""
    identity = find(state, name)
    if identity is None:
        raise errors.identity_does_not_exist(name, api)
    return identity


def list_identities(state: AccountState, kind: IdentityKind | None = None) -> list[Identity]:
    """Identities in creation order, optionally of one kind."""
    found = [i for i in state.identities.values() if kind is None or i.kind == kind]
    return sorted(found, key=lambda i: i.created)


def _parse_bare(address: str) -> str:
    return parseaddr(address)[1] or address.strip()


# Reducing ``Name <addr>`` with `parseaddr` costs more than the identity lookups that follow,
# and a send checks the same few addresses (sender, Return-Path, recipients) call after call:
# the pure string → bare-address step is cached, bounded, for strings no longer than an
# address SES accepts (320 characters [D]) plus room for a display name. The lookups are not
# cached, so identity changes apply to the very next send.
_CACHED_ADDRESS_LENGTH = 512
_bare = short_string_cache(_parse_bare, maxsize=8192, max_length=_CACHED_ADDRESS_LENGTH)


def is_verified(state: AccountState, address: str, *, settings: Settings) -> bool:
    """May ``address`` (bare, or ``Name <addr>``) be used as a verified identity?

    SES semantics (ses-spec §2.2): address identities match case-sensitively and cover the
    ``+label`` forms of the address; a domain identity covers its domain and every subdomain,
    case-insensitively; only ``Success`` identities count.
    """
    if settings.auto_verify:
        return True
    bare = _bare(address)
    known = state.identities
    if "@" not in bare:
        domain = bare.lower()
    else:
        local, _, domain = bare.rpartition("@")
        if _verified(known.get(bare)):
            return True
        base_local = local.split("+", 1)[0]
        if base_local != local and _verified(known.get(f"{base_local}@{domain}")):
            return True
        domain = domain.lower()
    labels = domain.split(".")
    return any(_verified(known.get(".".join(labels[i:]))) for i in range(len(labels)) if labels[i])


def _verified(identity: Identity | None) -> bool:
    return identity is not None and identity.status == "Success"


def set_dkim_enabled(identity: Identity, enabled: bool) -> None:
    """v1 SetIdentityDkimEnabled / v2 PutEmailIdentityDkimAttributes."""
    identity.dkim_enabled = enabled


def set_mail_from(identity: Identity, domain: str | None, behavior: str | None) -> None:
    """v1 SetIdentityMailFromDomain / v2 PutEmailIdentityMailFromAttributes.

    ``behavior`` in v1 spelling (``UseDefaultValue`` / ``RejectMessage``). A MAIL FROM domain
    must be a subdomain of the identity's domain [D]; texts inferred.
    """
    if domain:
        own = identity.name.rpartition("@")[2].lower()
        wanted = domain.lower()
        if not wanted.endswith("." + own):
            raise errors.bad_request(
                f"Provided MAIL-FROM domain '{domain}' is not subdomain of "
                f"the domain of the identity '{own}'."
            )
        identity.mail_from_domain = wanted
    else:
        identity.mail_from_domain = None
    identity.mail_from_behavior = behavior or "UseDefaultValue"


def put_policy(
    identity: Identity, name: str, policy: str, *, must_exist: bool, must_not_exist: bool
) -> None:
    """Store a sending-authorization policy after checking it is a JSON object."""
    if must_not_exist and name in identity.policies:
        raise errors.already_exists(f"Policy {name} already exists for {identity.name}.")
    if must_exist and name not in identity.policies:
        raise errors.not_found(
            f"Policy {name} does not exist for {identity.name}.", v1_code="InvalidPolicy"
        )
    try:
        parsed = json.loads(policy)
    except ValueError as exc:
        raise errors.invalid_policy(f"Policy is not valid JSON: {exc}.") from exc
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        raise errors.invalid_policy("Policy must be a JSON object with a Statement.")
    if name not in identity.policies and len(identity.policies) >= MAX_POLICIES_PER_IDENTITY:
        raise errors.limit_exceeded(
            f"Identity {identity.name} already has {MAX_POLICIES_PER_IDENTITY} policies."
        )
    identity.policies[name] = policy


def delete_policy(identity: Identity, name: str, *, must_exist: bool) -> None:
    """Remove a policy; v1 ignores unknown names, v2 reports them (``must_exist``)."""
    if identity.policies.pop(name, None) is None and must_exist:
        raise errors.not_found(
            f"Policy {name} does not exist for {identity.name}.", v1_code="InvalidPolicy"
        )
