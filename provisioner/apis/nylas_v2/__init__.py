"""Everything about the Nylas v2 Scheduler API (Smart Integration), in one folder.

- `model`: the page and its config as pydantic models (the wire format);
- `spec`: what the server fills in and ignores, and normalization for diffing;
- `client`: the only code that speaks v2 HTTP;
- `emulator/`: the v2 API as Starlette routes over SQLite (booking page and editor included).

This package never imports the engine (load, plan, apply, state, cli, workflows).
"""
