"""A local Amazon SES emulator: SES v1 (Query/XML) and v2 (REST-JSON) on one aiohttp server.

Start it with ``python -m emulator``; embed it with `emulator.app.build_app`.
"""

__all__: list[str] = []
