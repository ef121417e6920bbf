"""Speed benchmark of the sync. Not part of the installed app, and not a test: it empties
the site's board and logs, and points the settings at its own legacy database, so it
refuses to run on a site whose board holds jobs it did not create.

Run it from a bench's `sites` folder, on a site of its own (MariaDB or PostgreSQL):

	../env/bin/python ../apps/legacy_dispatch/benchmarks/sync_benchmark.py run SITE --sizes 1000,5000,20000,50000
	../env/bin/python ../apps/legacy_dispatch/benchmarks/sync_benchmark.py writeback SITE --size 1000

For each N it seeds a legacy MariaDB (`legacy_bench_<site>`, on the server of the Frappe
tests: LEGACY_TEST_DB_HOST…, default 127.0.0.1:3306 root) with N open field tickets, one
account per 2 tickets; the site gets a Customer per account (1 in 25 left unmatched) and a
Service Location per customer (1 in 10 in another city). Then, each sync run in a fresh
worker process (so its peak memory is its own):

- the bare insert rate: `frappe.get_doc({...}).insert()` of the same N jobs, a commit
  every 200, then deleted: the ceiling for this kind of write;
- the first import (it and the bare inserts alternated FIRST_REPEAT times up to 5,000
  tickets, the median of each), a re-run with nothing changed (the median of REPEAT;
  "written" adds up all of them), a run after 1 % of the tickets changed (ROUNDS rounds,
  each on other tickets, the median): wall time, jobs written (created or modified,
  plus Version documents), queries sent to the site and to the legacy database, growth of
  the worker's peak RSS;
- what a no-change run is held against: merely reading both sides as a run reads them
  (the legacy selection with its rows; the site's legacy jobs with the compared fields,
  loaded by the run's own `sync.load_jobs`), and what the 1 % run is held against: the
  same saves of the changed jobs through the ORM (`get_doc(for_update)`, `save()`), after
  each round's run (the median), undone before the next round;
- before the re-runs and each 1 % run, that the run's plan (in chunks, settled tickets not
  mapped) is the very plan of every ticket planned in full (`sync.plan_now`);
- for the largest N: a first import killed half-way and the run that resumes it, and a
  first import queued on the `long` queue and run by a burst worker.

The reference is a per-ticket REST client doing what the old bridge did, sequentially, on
`rest_tickets` tickets: GET /api/resource/Dispatch Job?filters=[legacy_ticket_id = id],
then POST the job, or PUT the same fields when it exists (a re-run). It talks to `rest_url`,
or to a gunicorn (1 worker, like `bench serve` but without the debugger) started on
127.0.0.1:8017 for the time of the measure.

`profile(size)` prints where a first import spends its time (cProfile).
"""

import cProfile
import io
import json
import os
import pstats
import resource
import signal
import subprocess
import sys
import time

import frappe
from frappe.query_builder.functions import Max
from frappe.utils import add_to_date, now_datetime

from legacy_dispatch import sync
from legacy_dispatch.core import planner
from legacy_dispatch.core.legacy import LegacyDB
from legacy_dispatch.tests.utils import clean_site, fresh_legacy, legacy_server, own_jobs

RESULT = "BENCH-RESULT "
PORT = 8017
CITIES = ("Saint-Jérôme", "Blainville", "Mirabel", "Laval", "Sainte-Thérèse", "Boisbriand")
DEPARTMENTS = ((1, "Installation"), (2, "Réparation"), (3, "Fibre"))
DUE = 1795494600  # 2026-11-23 23:30 in Toronto
TIMES = ("am", "pm", "09:30", "day", None, "14:15")
REPEAT = 7  # reads of both sides and no-change runs, alternated: the median of each
FIRST_REPEAT = 3  # bare inserts and first imports at N <= 5,000 (seconds each, within the machine's swings)
ROUNDS = 3  # 1 %-changed runs, each followed by the saves of the same jobs: the median of each
SAVED = " (bis)"  # what the saves add to a job's subject (`bare_update`, `undo_saves`)


# --- seeding -----------------------------------------------------------------------------


def account_of(i: int) -> int:
	"""Ticket i's legacy account: 2 tickets per account, 1 ticket in 20 internal (0)."""
	return 0 if i % 20 == 0 else 100_000 + (i + 1) // 2


def legacy_db_name() -> str:
	return "legacy_bench_" + frappe.local.site.split(".")[0].replace("-", "_")


def seed_legacy(n: int):
	"""A fresh legacy database with n open field tickets, and the settings pointed at it."""
	legacy = fresh_legacy(legacy_db_name())
	cur = legacy.admin.cursor()
	cur.executemany("INSERT INTO dept (id, name) VALUES (%s, %s)", DEPARTMENTS)
	accounts = sorted({account_of(i) for i in range(1, n + 1)} - {0})
	cur.executemany(
		"INSERT INTO account (id, address1, city, zip) VALUES (%s, %s, %s, %s)",
		[(a, f"{a % 900 + 1} rue Principale", CITIES[a % len(CITIES)], "J7Z 1A1") for a in accounts],
	)
	cur.executemany(
		"INSERT INTO ticket (id, account_id, dept_id, subject, status, priority, assign_to, due_date,"
		" due_time, date_create, last_update) VALUES (%s, %s, %s, %s, 'open', %s, 3301, %s, %s, 1, 1)",
		[
			(i, account_of(i), i % 3 + 1, f"Intervention {i}", i % 3 + 1, DUE + i * 3600, TIMES[i % 6])
			for i in range(1, n + 1)
		],
	)
	return legacy


def seed_site(n: int):
	"""Customers (legacy_account_id) and their Service Locations for n tickets' accounts.

	Kept from one size to the next; written in bulk, they are not what is measured."""
	accounts = sorted({account_of(i) for i in range(1, n + 1)} - {0})
	wanted = {f"BENCH-C{a}": a for a in accounts if a % 25}  # 1 account in 25: no customer
	have = set(frappe.get_all("Customer", filters={"name": ("like", "BENCH-C%")}, pluck="name"))
	new = [(name, a) for name, a in wanted.items() if name not in have]
	now = now_datetime()
	std = (now, now, "Administrator", "Administrator")
	fields = ["creation", "modified", "owner", "modified_by", "name"]
	frappe.db.bulk_insert(
		"Customer", [*fields, "customer_name", "legacy_account_id"], [(*std, c, c, str(a)) for c, a in new]
	)
	frappe.db.bulk_insert(
		"Service Location",
		[*fields, "customer", "address", "city", "postal_code", "latitude", "longitude"],
		[
			(*std, f"BENCH-L{a}", c, f"{a % 900 + 1} rue Principale",
			 CITIES[(a + (a % 10 == 0)) % len(CITIES)], "J7Z 1A1", 45.5 + a % 100 / 1000, -73.9 - a % 100 / 1000)
			for c, a in new
		],
	)  # fmt: skip
	frappe.db.commit()


def refuse_a_site_in_use():
	"""The benchmark truncates the job table: only on a site whose jobs are all its own."""
	foreign = frappe.db.count("Dispatch Job") - len(own_jobs())
	if foreign:
		raise SystemExit(
			f"{frappe.local.site} holds {foreign} Dispatch Jobs the benchmark did not create: "
			"run it on a site of its own."
		)


def clean_board():
	"""No jobs, logs or job versions: each measure starts from an empty board. The job table
	is truncated, not only emptied: PostgreSQL would otherwise keep the dead rows of earlier
	measures in the unique index on legacy_ticket_id, and every insert would pay for them."""
	clean_site()
	frappe.db.delete("Version", {"ref_doctype": "Dispatch Job"})
	frappe.db.commit()  # nosemgrep
	frappe.db.truncate("Dispatch Job")
	frappe.db.commit()  # nosemgrep


def mark(k: int) -> str:
	"""What round k adds to the subject of the tickets it changes, and so of their jobs."""
	return f" (modifié {k})"


def change_one_percent(k: int = 0) -> int:
	"""Change 1 % of the tickets in legacy (subject and last_update), marked with the round k:
	those whose id is k modulo 101, so that internal tickets (no customer, no links to check
	on save) come in their usual share, 1 in 20, and not all together as with 100."""
	db = legacy_server().admin()
	db.select_db(legacy_db_name())
	cur = db.cursor()
	cur.execute(
		"UPDATE ticket SET subject = CONCAT(subject, %s), last_update = last_update + 1 WHERE MOD(id, 101) = %s",
		(mark(k), k),
	)
	db.close()
	return cur.rowcount


# --- one measure in a fresh worker process ----------------------------------------------


def in_worker(kind: str, wait: bool = True, **kwargs):
	"""Run `measure(kind)` in a new Python process on this site; its result dict (or the
	Popen when wait is False)."""
	sites_path = os.path.abspath(frappe.local.sites_path)
	cmd = [
		sys.executable,
		os.path.abspath(__file__),
		"worker",
		frappe.local.site,
		sites_path,
		kind,
		json.dumps(kwargs),
	]
	if not wait:
		return subprocess.Popen(cmd, cwd=sites_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	frappe.db.commit()  # nosemgrep
	p = subprocess.run(cmd, cwd=sites_path, capture_output=True, text=True)
	for line in p.stdout.splitlines():
		if line.startswith(RESULT):
			return json.loads(line[len(RESULT) :])
	raise RuntimeError(f"benchmark worker {kind} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")


def worker_main(site: str, sites_path: str, kind: str, kwargs: str):
	frappe.init(site=site, sites_path=sites_path)
	frappe.connect()
	frappe.set_user("Administrator")
	try:
		print(RESULT + json.dumps(measure(kind, **json.loads(kwargs)), default=str), flush=True)
	finally:
		frappe.destroy()


def measure(kind: str, **kwargs) -> dict:
	"""Time one sync run (or the bare inserts), counting queries and the peak RSS growth."""
	counts = {"site": 0, "legacy": 0}
	real_sql, real_execute = frappe.db.sql, LegacyDB.execute

	def site_sql(*args, **kw):
		counts["site"] += 1
		return real_sql(*args, **kw)

	def legacy_execute(self, *args, **kw):
		counts["legacy"] += 1
		return real_execute(self, *args, **kw)

	if kind == "check":
		return same_plan()
	bare = kind in ("bare", "profile_bare")
	jobs = sync.plan_now() if bare else None  # read before the clock starts
	work = {"read": read_both, "bare_update": bare_update}.get(kind, sync.run)
	warm_up()
	frappe.db.sql, LegacyDB.execute = site_sql, legacy_execute
	rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
	profiler = cProfile.Profile() if kind.startswith("profile") else None
	started = time.perf_counter()
	try:
		with sync.frozen_heap():  # every measure as a run: collections scan only what it allocates
			if bare:
				out = {"created": (profiler.runcall if profiler else call)(bare_insert, jobs)}
			else:
				out = (profiler.runcall if profiler else call)(work, "CLI", **kwargs)
	finally:
		seconds = time.perf_counter() - started
		frappe.db.sql, LegacyDB.execute = real_sql, real_execute
	out.pop("unmatched_accounts", None)
	out.update(
		seconds=seconds,
		site_queries=counts["site"],
		legacy_queries=counts["legacy"],
		rss_growth_mb=(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024,
	)
	if profiler:
		text = io.StringIO()
		stats = pstats.Stats(profiler, stream=text).strip_dirs()
		stats.sort_stats("cumulative").print_stats(45)
		stats.sort_stats("tottime").print_stats(25)
		out["profile"] = text.getvalue()
	return out


def call(fn, *args, **kwargs):
	return fn(*args, **kwargs)


def warm_up():
	"""What a worker that already ran jobs has loaded: the modules a run imports on first
	use (this bench sets PYTHONDONTWRITEBYTECODE, so each import compiles), the doctypes'
	meta, a legacy session. Allocates nothing in proportion to N, so the RSS peak that
	follows is the run's own."""
	with LegacyDB(sync.load_settings()[0]) as legacy:
		legacy.departments()
	frappe.get_all("Dispatch Job", fields=["name"], limit=1)
	frappe.new_doc("Dispatch Job")
	sync.new_log("CLI", None, status="Skipped").insert(ignore_permissions=True)
	frappe.db.rollback()


def bare_insert(decisions) -> int:
	"""The same jobs through the plain ORM insert, a commit every 200 like the sync."""
	for i, d in enumerate(decisions, 1):
		frappe.get_doc({"doctype": "Dispatch Job", **d.changes, "legacy_ticket_id": f"bare-{i}"}).insert()
		if i % sync.COMMIT_EVERY == 0:
			frappe.db.commit()  # nosemgrep
	frappe.db.commit()  # nosemgrep
	return len(decisions)


# --- proposed changes to sync.py, tried by monkeypatching the worker ------------------------

# --- what the site holds --------------------------------------------------------------------


def read_both(_trigger=None) -> dict:
	"""What a run reads, nothing else, fetched as the run fetches it: the legacy selection (a
	session of its own, streamed into Tickets), the active jobs' keys and each chunk's jobs
	with the compared fields (`sync.load_jobs`, as Jobs)."""
	source, config = sync.open_legacy()
	_active, nodes = sync.job_index()
	with source:
		tickets = list(source.open_tickets(config.staff_id))
	jobs = 0
	for start in range(0, len(tickets), planner.CHUNK):
		jobs += len(sync.load_jobs([str(t.id) for t in tickets[start : start + planner.CHUNK]], nodes))
	return {"tickets": len(tickets), "jobs": jobs}


def bare_update(_trigger=None, k: int = 0) -> dict:
	"""The ORM saves of the jobs the round-k 1 % run updated (subject changed), a commit every 200."""
	names = frappe.get_all(
		"Dispatch Job", filters={"subject": ("like", f"%{mark(k)}%")}, pluck="name", order_by="name"
	)
	for i, name in enumerate(names, 1):
		doc = frappe.get_doc("Dispatch Job", name, for_update=True)
		doc.subject += SAVED
		doc.save()
		if i % sync.COMMIT_EVERY == 0:
			frappe.db.commit()  # nosemgrep
	frappe.db.commit()  # nosemgrep
	return {"updated": len(names)}


def undo_saves(k: int) -> None:
	"""Untimed: the jobs `bare_update` saved back as the sync left them (its subject, in
	step), so that the next round's run meets only its own round's changes."""
	frappe.db.sql(
		"update `tabDispatch Job` set `subject` = replace(`subject`, %s, ''), `legacy_in_step` = 1,"
		" `legacy_owned_since` = null where `subject` like %s",
		(SAVED, f"%{mark(k)}%{SAVED}"),
	)
	frappe.db.commit()  # nosemgrep


def same_plan() -> dict:
	"""The run's plan (in chunks, settled tickets not mapped) against every ticket planned in
	full: the same decisions, reasons, changes, warnings and log rows."""
	full = list(map(planner.outcome, sync.plan_now()))
	tickets, gone, config, jobs_for, directory = sync.read_legacy()
	chunks = planner.plan_chunks(tickets, gone, config, jobs_for, directory)
	fast = [d for chunk in chunks for d in chunk]
	return {
		"same": list(map(planner.outcome, fast)) == full,
		"tickets": len(full),
		"not_mapped": sum(d.mapped is None and d.job is not None and d.action == "unchanged" for d in fast),
	}


def checked() -> dict:
	check = in_worker("check")
	if not check["same"]:
		raise SystemExit(f"{frappe.local.site}: the run's plan differs from the full plan: {check}")
	return check


def board() -> tuple:
	frappe.db.commit()  # nosemgrep: see the other processes' commits
	job = frappe.qb.DocType("Dispatch Job")
	return (
		frappe.db.count("Dispatch Job"),
		frappe.qb.from_(job).select(Max(job.modified)).run()[0][0] or "1900-01-01",
		frappe.db.count("Version", {"ref_doctype": "Dispatch Job"}),
	)


def written_since(before: tuple) -> int:
	"""Jobs created or modified, and job Versions added, since `before` = board()."""
	after = board()
	changed = frappe.db.count("Dispatch Job", {"modified": (">", before[1])})
	return changed + after[2] - before[2]


def sync_run(**kw) -> dict:
	before = board()
	out = in_worker("sync", **kw)
	out["written"] = written_since(before)
	return out


# --- the reference: a per-ticket REST client ------------------------------------------------


class RestServer:
	"""The site over HTTP: `url` as given, or a gunicorn started for the time of the measure."""

	def __init__(self, url: str | None):
		self.url, self.process = url, None

	def __enter__(self):
		if not self.url:
			bench = os.path.dirname(os.path.abspath(frappe.local.sites_path))
			self.process = subprocess.Popen(
				[f"{bench}/env/bin/gunicorn", "-b", f"127.0.0.1:{PORT}", "-w", "1", "-t", "120",
				 "frappe.app:application"],
				cwd=os.path.abspath(frappe.local.sites_path),
				stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
			)  # fmt: skip
			self.url = f"http://127.0.0.1:{PORT}"
		return self

	def __exit__(self, *exc):
		if self.process:
			self.process.terminate()
			self.process.wait(30)


def rest_client(url: str, payloads: dict[str, dict]) -> dict:
	"""The old bridge, ticket by ticket: look the job up, then create it or update it."""
	import requests

	user = "Administrator"
	secret = frappe.core.doctype.user.user.generate_keys(user)["api_secret"]
	frappe.db.commit()  # nosemgrep
	key = frappe.db.get_value("User", user, "api_key")
	s = requests.Session()
	s.headers.update({"Authorization": f"token {key}:{secret}", "X-Frappe-Site-Name": frappe.local.site})
	resource_url = f"{url}/api/resource/Dispatch Job"
	deadline = time.monotonic() + 60
	while True:  # the server is up and warm
		try:
			if s.get(f"{url}/api/method/frappe.auth.get_logged_user", timeout=5).ok:
				break
		except requests.ConnectionError:
			pass
		if time.monotonic() > deadline:
			raise RuntimeError(f"no answer from {url}")
		time.sleep(0.3)

	def one_pass() -> dict:
		requests_sent, started = 0, time.perf_counter()
		for ticket_id, fields in payloads.items():
			r = s.get(resource_url, params={"filters": json.dumps([["legacy_ticket_id", "=", ticket_id]])})
			r.raise_for_status()
			found = r.json()["data"]
			if found:
				r = s.put(f"{resource_url}/{found[0]['name']}", json=fields)
			else:
				r = s.post(resource_url, json={**fields, "legacy_ticket_id": ticket_id})
			r.raise_for_status()
			requests_sent += 2
		return {"seconds": time.perf_counter() - started, "requests": requests_sent}

	first = one_pass()
	return {"first": first, "rerun": one_pass()}


def rest_reference(n: int, url: str | None) -> dict:
	"""The REST client against the sync on the same n tickets."""
	seed_site(n)
	seed_legacy(n)
	clean_board()
	payloads = {d.legacy_ticket_id: json.loads(json.dumps(d.changes, default=str)) for d in sync.plan_now()}
	with RestServer(url) as server:
		rest = rest_client(server.url, payloads)
	clean_board()
	first = sync_run()
	return {"n": n, "rest": rest, "sync_first": first, "sync_rerun": sync_run()}


# --- interruption and the long queue ----------------------------------------------------------


def resume_check(n: int) -> dict:
	"""Kill a first import half-way; the next runs must neither redo nor duplicate work."""
	clean_board()
	worker = in_worker("sync", wait=False)
	while frappe.db.count("Dispatch Job") < n // 2 and worker.poll() is None:
		time.sleep(0.2)
		frappe.db.commit()  # nosemgrep
	worker.send_signal(signal.SIGKILL)
	worker.wait()
	kept = board()[0]
	resumed = sync_run()  # at once, as the next scheduler tick would
	waited = resumed["status"] == "Skipped"
	if waited:  # the dead run's lock is not recognised: wait out STALE_AFTER_MINUTES
		frappe.db.set_value(
			"Sync Log",
			{"run_lock": sync.RUN_LOCK},
			"modified",
			add_to_date(now_datetime(), hours=-1),
			update_modified=False,
		)
		resumed = sync_run()
	keys = frappe.get_all(
		"Dispatch Job", filters={"legacy_ticket_id": ("is", "set")}, pluck="legacy_ticket_id"
	)
	return {
		"n": n,
		"kept_after_kill": kept,
		"waited_for_stale_lock": waited,
		"resumed_status": resumed["status"],
		"resumed_created": resumed["created"],
		"resumed_unchanged": resumed["unchanged"],
		"resumed_seconds": resumed["seconds"],
		"jobs": len(keys),
		"duplicates": len(keys) - len(set(keys)),
	}


def queue_check(n: int) -> dict:
	"""A first import queued like the button does, run by a `long` worker: the bench's own
	when one is listening, else one started here in burst mode."""
	from frappe.utils.background_jobs import get_queue
	from rq import Worker

	clean_board()
	job = sync.enqueue("Button")
	frappe.db.commit()  # nosemgrep
	started = time.perf_counter()
	if not Worker.all(queue=get_queue("long")):
		bench = os.path.dirname(os.path.abspath(frappe.local.sites_path))
		subprocess.run(["bench", "worker", "--queue", "long", "--burst"], cwd=bench, capture_output=True)
	log = None
	while time.perf_counter() - started < sync.JOB_TIMEOUT + 60:
		frappe.db.commit()  # nosemgrep
		log = frappe.get_all("Sync Log", fields=["status", "created", "duration", "worker"], limit=1)
		if log and log[0].status != "Running":
			break
		time.sleep(2)
	return {
		"n": n,
		"job": job.id if job else None,
		"timeout": sync.JOB_TIMEOUT,
		"worker_seconds": time.perf_counter() - started,
		**(log[0] if log else {"status": "no log"}),
	}


# --- the benchmark ----------------------------------------------------------------------------


def median(measures: list[dict]) -> dict:
	return sorted(measures, key=lambda r: r["seconds"])[len(measures) // 2]


def one_size(n: int, bare: bool = True) -> dict:
	seed_site(n)
	seed_legacy(n)
	bares, firsts = [], []
	for _ in range(FIRST_REPEAT if n <= 5000 else 1):  # alternated too; the last import stays
		clean_board()
		if bare:
			bares.append(in_worker("bare"))
			clean_board()
		firsts.append(sync_run())
	bare, first = median(bares) if bare else {"created": 0, "seconds": 1}, median(firsts)
	check = checked()
	reads, reruns = [], []
	for _ in range(REPEAT):  # one after the other, so a slower minute weighs on both
		reads.append(in_worker("read"))
		reruns.append(sync_run())
	rerun = {**median(reruns), "written": sum(r["written"] for r in reruns)}
	one_percents, saves = [], []
	for k in range(ROUNDS):  # each on other tickets
		changed = change_one_percent(k)
		checked()
		one_percents.append({**sync_run(), "changed": changed})
		saves.append(in_worker("bare_update", k=k))
		undo_saves(k)
	one_percent, saves = median(one_percents), median(saves)
	return {"n": n, "bare": bare, "first": first, "check": check, "read": median(reads), "rerun": rerun,
		"one_percent": one_percent, "saves": saves}  # fmt: skip


def run(
	sizes="1000,5000,20000",
	rest_tickets=500,
	rest_url=None,
	resume=True,
	queue=True,
	bare=True,
) -> dict:
	"""The whole benchmark on this site; prints the tables and returns the figures.

	`resume`, `queue`, `bare` and `rest_tickets=0` leave parts out."""
	refuse_a_site_in_use()
	sizes = [int(s) for s in str(sizes).split(",") if s.strip()]
	results = {
		"site": frappe.local.site,
		"db_type": frappe.conf.db_type or "mariadb",
		"frappe": frappe.__version__,
	}
	results["sizes"] = [one_size(n, bare) for n in sizes]
	if rest_tickets:
		results["rest"] = rest_reference(int(rest_tickets), rest_url)
	if resume:
		seed_legacy(max(sizes))
		results["resume"] = resume_check(max(sizes))
	if queue:
		results["queue"] = queue_check(max(sizes))
	clean_board()
	print(report(results))
	return results


def writeback_check(n: int = 1000, saves: int = 20) -> dict:
	"""Write-back: n dispatcher saves with the outbox on and off, the n pending write-backs
	sent in one go, then the delay from a save to the legacy row with a `short` worker
	listening (one started here)."""
	from frappe.utils.background_jobs import get_queue
	from rq import Worker

	from legacy_dispatch import writeback
	from legacy_dispatch.tests.utils import grant_writer

	seed_site(n)
	legacy = seed_legacy(n)
	clean_board()
	frappe.db.delete("Legacy Write Back")
	sync.run("CLI")
	grant_writer(legacy)
	jobs = frappe.get_all("Dispatch Job", filters={"legacy_ticket_id": ("is", "set")}, pluck="name")[:n]

	def save_all(day: str) -> float:
		started = time.perf_counter()
		for i, name in enumerate(jobs, 1):
			doc = frappe.get_doc("Dispatch Job", name)
			doc.scheduled_date = day
			doc.save()
			if i % 200 == 0:
				frappe.db.commit()  # nosemgrep
		frappe.db.commit()  # nosemgrep
		return time.perf_counter() - started

	settings = frappe.get_single("Legacy Dispatch Settings")
	out = {"n": len(jobs), "saves_off": save_all("2026-12-01")}
	settings.writeback_schedule = 1
	settings.save()
	frappe.db.commit()  # nosemgrep
	out["saves_on"] = save_all("2026-12-02")
	started, epoch = time.perf_counter(), int(time.time())
	out["sent"] = writeback.send_pending()
	out["send_seconds"] = time.perf_counter() - started
	cur = legacy.sql("SELECT COUNT(*) FROM ticket WHERE last_update >= %s", (epoch,))
	out["rows_written"] = cur.fetchone()[0]

	get_queue("short").empty()  # the jobs the saves above queued: their changes are sent
	worker = subprocess.Popen(
		[sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "worker", "--queue", "short"],
		cwd=os.path.abspath(frappe.local.sites_path),
		stdout=subprocess.DEVNULL,
		stderr=subprocess.DEVNULL,
	)
	try:
		while not Worker.all(queue=get_queue("short")):
			time.sleep(0.2)
		delays = []
		for i, name in enumerate(jobs[:saves]):
			doc = frappe.get_doc("Dispatch Job", name)
			doc.start_time = f"{8 + i % 10:02d}:15:00"
			doc.save()
			frappe.db.commit()  # nosemgrep
			saved = time.perf_counter()
			while (
				legacy.sql("SELECT due_time FROM ticket WHERE id = %s", (doc.legacy_ticket_id,)).fetchone()[0]
				!= doc.start_time[:5]
				and time.perf_counter() - saved < 120
			):
				time.sleep(0.01)
			delays.append(time.perf_counter() - saved)
	finally:
		worker.terminate()
		worker.wait(30)
	delays.sort()
	out.update(delay_median=delays[len(delays) // 2], delay_max=delays[-1], saves=len(delays))
	settings.reload()
	settings.writeback_schedule = 0
	settings.save()
	frappe.db.delete("Legacy Write Back")
	clean_board()
	return out


def profile(size=5000, rerun=False, bare=False):
	"""Where a first import (a no-change run with rerun, the bare inserts with bare) of `size`
	tickets spends its time."""
	refuse_a_site_in_use()
	seed_site(int(size))
	seed_legacy(int(size))
	clean_board()
	if rerun:
		sync_run()
	out = in_worker("profile_bare" if bare else "profile")
	print(out.pop("profile"))
	print(json.dumps(out, indent=1))
	clean_board()


# --- the report --------------------------------------------------------------------------------


def report(r: dict) -> str:
	lines = [
		f"### {r['site']} ({r['db_type']}, Frappe {r['frappe']})",
		"",
		"| N | read both sides s | no-change s | ÷ read | 1 % changed s | no-change + saves s"
		" | saves of the changed jobs s | same plan (not mapped) |",
		"|---:|---:|---:|---:|---:|---:|---:|---:|",
	]
	for s in r["sizes"]:
		read, z, c, saves = s["read"]["seconds"], s["rerun"]["seconds"], s["one_percent"], s["saves"]
		lines.append(
			f"| {s['n']:,} | {read:.3f} | {z:.3f} | {z / read:.2f} | {c['seconds']:.3f}"
			f" | {z + saves['seconds']:.3f} | {saves['seconds']:.3f} ({saves['updated']})"
			f" | {'yes' if s['check']['same'] else 'NO'} ({s['check']['not_mapped']:,} of {s['check']['tickets']:,}) |"
		)
	lines += [
		"",
		"| N | bare insert/s | first import s | jobs/s | % of bare | RSS growth MB"
		" | no-change s | written | site q | legacy q | RSS growth MB"
		" | 1 % changed s | updated | written | site q | legacy q |",
		"|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
	]
	for s in r["sizes"]:
		b, f, z, c = s["bare"], s["first"], s["rerun"], s["one_percent"]
		bare_rate, rate = b["created"] / b["seconds"], f["created"] / f["seconds"]
		lines.append(
			f"| {s['n']:,} | {f'{bare_rate:.0f}' if bare_rate else '-'} | {f['seconds']:.1f} | {rate:.0f}"
			f" | {f'{rate / bare_rate:.1%}' if bare_rate else '-'}"
			f" | {f['rss_growth_mb']:.0f} | {z['seconds']:.2f} | {z['written']} | {z['site_queries']}"
			f" | {z['legacy_queries']} | {z['rss_growth_mb']:.0f} | {c['seconds']:.2f} | {c['updated']}"
			f" | {c['written']} | {c['site_queries']} | {c['legacy_queries']} |"
		)
	if "rest" in r:
		x = r["rest"]
		rest, first, rerun = x["rest"], x["sync_first"], x["sync_rerun"]
		lines += [
			"",
			f"REST client vs sync on {x['n']} tickets:",
			"",
			"| | per-ticket REST client s | sync s | sync faster by |",
			"|---|---:|---:|---:|",
			f"| first import | {rest['first']['seconds']:.1f} | {first['seconds']:.2f}"
			f" | {rest['first']['seconds'] / first['seconds']:.1f}× |",
			f"| no-change re-run | {rest['rerun']['seconds']:.1f} | {rerun['seconds']:.2f}"
			f" | {rest['rerun']['seconds'] / rerun['seconds']:.0f}× |",
		]
	if "resume" in r:
		x = r["resume"]
		lines += [
			"",
			f"Interrupted first import of {x['n']:,}: killed with {x['kept_after_kill']:,} jobs committed;"
			f" the next run ({'after the lock went stale' if x['waited_for_stale_lock'] else 'at once'}):"
			f" {x['resumed_status']}, {x['resumed_created']:,} created, {x['resumed_unchanged']:,} found"
			f" up to date ({x['resumed_seconds']:.1f} s); {x['jobs']:,} jobs, {x['duplicates']} duplicates.",
		]
	if "writeback" in r:
		x = r["writeback"]
		lines += [
			"",
			f"Write-back: {x['n']:,} dispatcher saves {x['saves_off']:.1f} s with write-back off,"
			f" {x['saves_on']:.1f} s on (outbox); the {x['n']:,} pending sent in one go in"
			f" {x['send_seconds']:.1f} s ({x['n'] / x['send_seconds']:.0f}/s, {x['sent']},"
			f" {x['rows_written']:,} rows written); from a save to the legacy row with a `short` worker"
			f" listening: median {x['delay_median']:.2f} s, max {x['delay_max']:.2f} s over {x['saves']} saves.",
		]
	if "queue" in r:
		x = r["queue"]
		lines += [
			"",
			f"First import of {x['n']:,} as one `long` job (timeout {x['timeout']} s): {x['status']},"
			f" {x.get('created')} created, run {x.get('duration') or 0:.0f} s, by worker {x.get('worker')};"
			f" {x['worker_seconds']:.0f} s from queued to done.",
		]
	return "\n".join(lines)


def main(argv: list[str]):
	"""`run SITE [--sizes …] [--rest-tickets N] [--rest-url URL] [--no-resume] [--no-queue]
	[--no-bare]`, `profile SITE [--size N] [--rerun] [--bare]`, from the bench's sites folder."""
	import argparse

	if argv[:1] == ["worker"]:
		return worker_main(*argv[1:])
	parser = argparse.ArgumentParser(prog="sync_benchmark.py")
	parser.add_argument("command", choices=("run", "profile", "writeback"))
	parser.add_argument("site")
	parser.add_argument("--sizes", default="1000,5000,20000")
	parser.add_argument("--rest-tickets", type=int, default=500)
	parser.add_argument("--rest-url")
	parser.add_argument("--size", type=int, default=5000)
	for flag in ("resume", "queue", "bare"):
		parser.add_argument(f"--no-{flag}", dest=flag, action="store_false")
	parser.add_argument("--rerun", action="store_true")
	parser.add_argument("--profile-bare", action="store_true")
	args = parser.parse_args(argv)
	frappe.init(site=args.site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	try:
		if args.command == "profile":
			return profile(args.size, args.rerun, args.profile_bare)
		if args.command == "writeback":
			refuse_a_site_in_use()
			return print(report({"site": args.site, "db_type": frappe.conf.db_type or "mariadb",
				"frappe": frappe.__version__, "sizes": [], "writeback": writeback_check(args.size)}))  # fmt: skip
		run(args.sizes, args.rest_tickets, args.rest_url, args.resume, args.queue, args.bare)
	finally:
		frappe.destroy()


if __name__ == "__main__":
	main(sys.argv[1:])
