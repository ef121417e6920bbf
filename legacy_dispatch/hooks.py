app_name = "legacy_dispatch"
app_title = "Legacy Dispatch"
app_publisher = "legacy_dispatch contributors"
app_description = "Turns the legacy helpdesk's open field tickets into Dispatch Jobs"
app_email = "dispatch@example.com"
app_license = "MIT"

before_install = "legacy_dispatch.install.before_install"

# the app's own fields on the site's Dispatch Job
fixtures = [
	{
		"dt": "Custom Field",
		"filters": [["name", "in", ["Dispatch Job-legacy_ticket_id", "Dispatch Job-legacy_synced"]]],
	}
]

# Every minute, enqueue the sync when it is enabled and its period has elapsed
# (the period is a setting, so it changes without a restart). The hook only
# enqueues: cron jobs run on the default queue with a 300 s timeout.
scheduler_events = {"cron": {"* * * * *": ["legacy_dispatch.sync.scheduled"]}}

default_log_clearing_doctypes = {"Sync Log": 30}
