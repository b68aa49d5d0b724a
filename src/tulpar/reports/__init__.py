"""Read-only reports for the back office: one set-based statement per report, days counted in
Kazakhstan time (settings.local_timezone)."""
