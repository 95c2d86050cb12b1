"""API packages: one per Scheduler API; the engine reaches them through an interface."""
