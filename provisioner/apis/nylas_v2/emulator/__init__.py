"""The v2 Scheduler API emulator: routes, store, auth and booking side. Served by `provisioner.emulator`."""
