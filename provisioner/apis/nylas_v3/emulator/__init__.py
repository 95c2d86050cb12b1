"""The local Nylas v3 Scheduler API, served beside the v2 emulator by the same process.

`V3Api(db, clock, api_key, webhook_sender)` holds its store and Starlette app; `route_by_api`
joins it with the v2 app by path and `V3ErrorShape` gives the shared fault and rate-limit layers'
answers v3's error shape. `provisioner.emulator.Emulator` composes them; the modules:

| module | job |
| --- | --- |
| `app` | the Starlette app, error handlers, the by-path router, the error-shape layer |
| `configurations` | configurations (list, create, get, PUT, delete), sessions, should-redirect |
| `availability` | a configuration's world read from the store; ``GET /v3/scheduling/availability`` |
| `bookings` | create, find, reschedule, confirm/decline, cancel |
| `webhooks` | ``booking.*`` notifications and their delivery |
| `ui_settings`, `calendars` | what Nylas's web components call beyond the spec |
| `controls` | ``/_emulator/v3/`` test controls |
| `context`, `auth`, `wire`, `store` | shared lookups, API-key/session auth, the envelope, SQLite |

The [choice]s are in `provisioner.apis.nylas_v3.choices`.
"""

from provisioner.apis.nylas_v3.emulator.app import V3Api, V3ErrorShape, build_app, is_v3_path, route_by_api

__all__ = ["V3Api", "V3ErrorShape", "build_app", "is_v3_path", "route_by_api"]
