"""Hypothesis strategies for seskit's values: valid by construction, Unicode where SES allows."""

from __future__ import annotations

from hypothesis import strategies as st

from seskit import Address, Attachment, BulkEntry, Email, Header, Tag

_ATOM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=",
    min_size=1,
    max_size=12,
)
_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
_UNICODE_LABEL = st.sampled_from(["bücher", "münchen", "例え", "пример", "ελ"])
# Printable text without line breaks: display names, subjects, file names.
_LINE = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40
)

local_parts = st.lists(_ATOM, min_size=1, max_size=3).map(".".join)
domains = st.tuples(
    st.one_of(_LABEL, _UNICODE_LABEL), _LABEL, st.sampled_from(["com", "example", "de"])
).map(".".join)
addr_specs = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)
display_names = st.one_of(st.none(), _LINE.filter(lambda s: s.strip() == s))
addresses = st.builds(
    lambda email, name: Address(email=email, name=name), addr_specs, display_names
)

_TAG_NAME = st.text(alphabet="abcXYZ019_-", min_size=1, max_size=20)
_TAG_VALUE = st.text(alphabet="abcXYZ019_-.@", min_size=1, max_size=20)
tags = st.lists(st.builds(lambda n, v: Tag(name=n, value=v), _TAG_NAME, _TAG_VALUE), max_size=4)
headers = st.lists(
    st.builds(
        lambda n, v: Header(name=n, value=v),
        st.text(alphabet="XABCabc-019", min_size=1, max_size=20).map(lambda s: f"X-{s}"),
        st.text(
            alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=60
        ),
    ),
    max_size=5,
)
filenames = st.tuples(
    _LINE.filter(lambda s: "/" not in s and "\\" not in s and "." not in s and s == s.strip()),
    st.sampled_from(["pdf", "png", "txt", "csv", "bin"]),
).map(".".join)
attachments = st.lists(
    st.builds(
        lambda name, data: Attachment(filename=name, content=data),
        filenames,
        st.binary(max_size=300),
    ),
    max_size=3,
)
texts = st.one_of(
    st.none(),
    st.text(max_size=200),
    st.text(alphabet="ab \n", max_size=1200),  # long ASCII lines: 7bit or base64 by length
)


@st.composite
def emails(draw: st.DrawFn, *, simple: bool = True) -> Email:
    """Emails with 1-50 recipients; ``simple`` ones have a subject and a body."""
    to = draw(st.lists(addresses, max_size=4))
    cc = draw(st.lists(addresses, max_size=3))
    bcc = draw(st.lists(addresses, min_size=0 if to or cc else 1, max_size=3))
    text, html = draw(texts), draw(texts)
    if simple and text is None and html is None:
        text = ""
    return Email(
        sender=draw(addresses),
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=draw(st.lists(addresses, max_size=2)),
        subject=draw(_LINE) if simple else None,
        text=text if simple else None,
        html=html if simple else None,
        headers=draw(headers),
        attachments=draw(attachments),
        tags=draw(tags),
        configuration_set=draw(st.none() | st.text(alphabet="abc_-1", min_size=1, max_size=64)),
        return_path=draw(st.none() | addresses),
    )


bulk_entries = st.builds(
    lambda to, data, entry_tags: BulkEntry(to=to, replacement_data=data, tags=entry_tags),
    st.lists(addresses, min_size=1, max_size=3),
    st.none()
    | st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=10), max_size=3),
    tags,
)
