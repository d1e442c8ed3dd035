"""pytest plugin (entry point ``pytest11``): the ``ses_emulator`` fixture."""
