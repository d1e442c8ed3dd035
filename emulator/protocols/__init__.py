"""The wire edge of the emulator: SES's two protocols, driven by botocore's service models.

* `models` — loads and compiles the ``ses`` and ``sesv2`` models once;
* `query` — SES v1 (AWS Query: form fields in, XML out);
* `restjson` — SES v2 (REST-JSON: routes, JSON in and out, the route-drift table);
* `validate` — the model constraints botocore leaves to the server, in Coral's wording;
* `auth` — the account and region a request belongs to, from its SigV4 credential;
* `wire` — the protocol-neutral response value the HTTP layer sends.

Nothing here knows SES's rules (that is `emulator.ses`) or aiohttp (that is `emulator.app`).
"""

__all__: list[str] = []
