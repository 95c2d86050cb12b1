"""From a v2 Scheduling Page to a v3 configuration page file: pure data in, data out.

- `rules`: the mapping's named [choice]s (where ``nylas-v3-scheduler.md``'s table is silent), the
  host-variable naming rule, and the typed `Loss` a conversion reports;
- `mapping`: `convert_page`, one v2 page (its validated wire config and its access-token references)
  to one v3 page document and its losses; `rewrite_ignore_path` for ``lifecycle.ignore_changes``.

This package imports the two API packages (to read their models) and `provisioner.slots` (what v2
meant by a left-out field), never the engine: the engine's loader feeds it (`provisioner.convert`).
"""
