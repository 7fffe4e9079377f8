"""APScheduler wiring and the table of named jobs."""
