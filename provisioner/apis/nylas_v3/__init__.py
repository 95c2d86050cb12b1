"""Everything about the Nylas v3 Scheduler API, in one folder.

- `model`: the configuration object as pydantic models, exactly as Nylas's OpenAPI file defines it
  (its scalar types in `scalars`);
- `spec`: what the server fills in (defaults, read-only fields) and `normalize` for diffing;
- `slot_settings`: a configuration read as parameters of the shared slot engine (`provisioner.slots`);
- `choices`: every named [choice] where the spec is silent or contradicts itself;
- `emulator/`: the v3 API as Starlette routes over SQLite, served beside the v2 emulator.

This package never imports the engine (load, plan, apply, state, cli, workflows); it uses
`provisioner.slots` and the generic emulator infrastructure in `provisioner.emulator`.
"""
