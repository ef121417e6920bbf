app_name = "legacy_dispatch"
app_title = "Legacy Dispatch"
app_publisher = "legacy_dispatch contributors"
app_description = "Turns the legacy helpdesk's open field tickets into Dispatch Jobs"
app_email = "dispatch@example.com"
app_license = "MIT"

before_install = "legacy_dispatch.install.before_install"
after_install = "legacy_dispatch.sync.apply_schedule"
before_migrate = "legacy_dispatch.install.prepare_legacy_ticket_id"
after_migrate = ["legacy_dispatch.sync.apply_schedule", "legacy_dispatch.jobs.backfill_in_step"]

# the app's own fields on the site's Dispatch Job
fixtures = [
	# the Sync Log list has room for its counts
	{"dt": "List View Settings", "filters": [["name", "=", "Sync Log"]]},
	{
		"dt": "Custom Field",
		"filters": [
			[
				"name",
				"in",
				[
					"Dispatch Job-legacy_ticket_id",
					"Dispatch Job-legacy_synced",
					"Dispatch Job-legacy_record",
					"Dispatch Job-legacy_in_step",
					"Dispatch Job-legacy_owned_since",
					"Dispatch Job-legacy_digest",
					"Dispatch Technician-legacy_staff_id",
				],
			]
		],
	},
]

# Enqueue the sync when it is enabled and its period has elapsed. The cron below is
# the default period's; saving the settings (and every migrate) points it at the period
# and stops it while the sync is disabled (sync.apply_schedule). The hook only enqueues:
# cron jobs run on the default queue with a 300 s timeout.
scheduler_events = {"cron": {"*/15 * * * *": ["legacy_dispatch.sync.scheduled"]}}

# A renamed or merged Customer / Service Location keeps its jobs in the bridge's hands
doc_events = {
	"Customer": {"after_rename": "legacy_dispatch.sync.relink"},
	"Service Location": {"after_rename": "legacy_dispatch.sync.relink"},
	# who owns a bridge job after a save, its change to the write-back outbox (when turned
	# on), and a deleted job's ticket not imported again
	"Dispatch Job": {
		"on_update": ["legacy_dispatch.jobs.track_owner", "legacy_dispatch.writeback.queue"],
		"on_trash": "legacy_dispatch.jobs.remember_deleted",
	},
}

# the Dispatch Job form's legacy line: in the Desk bundle, since the site's Dispatch Job is
# a custom doctype (Frappe loads no doctype_js for those)
app_include_js = "legacy_dispatch.bundle.js"

# the logs keep the name of a job a dispatcher deletes (no "linked with Sync Log" refusal)
ignore_links_on_delete = ["Sync Log Ticket", "Legacy Write Back"]

# alerts for the Legacy Dispatch Managers as they open the Desk (no scheduler needed)
extend_bootinfo = "legacy_dispatch.health.desk_alerts"

default_log_clearing_doctypes = {"Sync Log": 30, "Legacy Write Back": 30}
