"""From a v2 Scheduling Page to a v3 configuration page file: pure data in, data out.

- `rules`: the mapping's named [choice]s (where ``nylas-v3-scheduler.md``'s table is silent), the
  host-variable naming rule, and the typed `Loss` a conversion reports;
- `paths`: where each v2 field goes (the table as data) and `rewrite_ignore_path` for
  ``lifecycle.ignore_changes``;
- `mapping`: `convert_page`, one v2 page (its validated wire config and its access-token references)
  to one v3 page document and its losses; `problems`, what the v3 model would still refuse in it.

This package imports the two API packages (to read their models) and `provisioner.slots` (what v2
meant by a left-out field), never the engine: the engine's loader feeds it (`provisioner.convert`).
"""
