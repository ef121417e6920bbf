"""The legacy reader against the real MariaDB: read-only, streamed, precise about failures."""

import socket
import subprocess
import time
from dataclasses import asdict, replace
from pathlib import Path

import MySQLdb
import pytest

from legacy_dispatch.core import legacy as legacy_module
from legacy_dispatch.core.legacy import Connection, LegacyDB, LegacyError, Secret, text
from legacy_dispatch.core.preflight import main as preflight
from legacy_dispatch.core.sandbox import ThrowawayMariaDB, legacy_ddl

try:  # Frappe's "traceback with variables" (installed by .ci/setup)
	from traceback_with_variables import Format, format_exc
except ImportError:
	format_exc = None

SHARED_DDL = Path(__file__).resolve().parents[4] / "shared" / "legacy" / "gestionclient.sql"


@pytest.mark.skipif(not SHARED_DDL.exists(), reason="shared/ not beside the project")
def test_bundled_ddl_is_the_production_one():
	assert legacy_ddl().read_text() == SHARED_DDL.read_text()


def test_session_is_read_only(legacy):
	legacy.ticket()
	with legacy.open() as source:
		cur = source.db.cursor()
		with pytest.raises(MySQLdb.OperationalError, match="READ ONLY"):
			cur.execute("UPDATE ticket SET subject = 'x'")


def test_selection_is_streamed_in_batches(legacy, monkeypatch):
	monkeypatch.setattr(legacy_module, "BATCH", 7)
	ids = [legacy.ticket() for _ in range(30)]
	with legacy.open() as source:
		tickets = list(source.open_tickets(3301))
		assert [t.id for t in tickets] == ids
		assert set(source.tickets_by_id(ids)) == set(ids)  # 5 IN-queries of at most 7 ids
		assert source.queries == 1 + 1 + 5


def test_values_are_passed_as_parameters(legacy):
	legacy.ticket(subject="l'abonné « test »; DROP TABLE ticket; --")
	with legacy.open() as source:
		[t] = source.open_tickets(3301)
		assert t.subject == "l'abonné « test »; DROP TABLE ticket; --"
		assert source.tickets_by_id(["1"])[1].subject == t.subject


def test_invalid_utf8_does_not_abort_the_read(legacy):
	legacy.sql("ALTER TABLE account MODIFY city VARCHAR(100) CHARACTER SET latin1")
	legacy.sql("ALTER TABLE ticket MODIFY subject VARBINARY(255)")
	legacy.account(9, city="Montr\xe9al")
	legacy.ticket(account_id=9, subject=b"caf\xe9 \xff ok")
	with legacy.open() as source:
		[t] = source.open_tickets(3301)
	assert t.city == "Montréal"
	assert t.subject == "caf\ufffd \ufffd ok"


def test_join_tolerates_missing_account_and_department(legacy):
	legacy.ticket(account_id=404, dept_id=404)
	with legacy.open() as source:
		[t] = source.open_tickets(3301)
	assert (t.address, t.city, t.dept_name) == (None, None, None)


def test_departments_and_version(legacy):
	legacy.dept(2, "Réparation")
	with legacy.open() as source:
		assert source.departments() == [(2, "Réparation")]
		assert "MariaDB" in source.server_version()


@pytest.mark.parametrize(
	"change, reason",
	[
		(dict(password="wrong"), "access denied (wrong user or password) [1045]"),
		(dict(database="nope"), "unknown database [1049]"),
		(dict(unix_socket="/nonexistent/mysqld.sock"), "cannot connect to the server [2002]"),
	],
)
def test_connection_failures_say_why_without_the_password(legacy, server, change, reason):
	cur = server.admin().cursor()
	cur.execute("CREATE USER IF NOT EXISTS bridge IDENTIFIED BY 's3cret!'")
	cur.execute("GRANT SELECT ON *.* TO bridge")
	with pytest.raises(LegacyError) as e:
		with legacy.open(**{"user": "bridge", "password": "s3cret!", **change}):
			pass
	assert reason in str(e.value)
	assert "wrong" not in str(e.value).replace("wrong user", "")
	assert "s3cret" not in str(e.value)


# The password of the leak tests: distinctive, and never bound to a local of a test (a traceback shows those)
LEAK = "Zq9-legacy-pw-5c1e"


def test_the_password_never_prints():
	conn = Connection(user="bridge", password=LEAK)
	assert isinstance(conn.password, Secret) and not isinstance(conn.password, str)
	assert conn.password.reveal() == LEAK
	shown = (repr(conn), str(conn), repr(asdict(conn)), f"{conn.password}", f"{conn.password!r}")
	assert all(LEAK not in shown_as for shown_as in shown)
	assert "password=********" in repr(conn)
	assert repr(conn.password) == str(conn.password) == "********"
	assert repr(Secret()) == str(Secret(None)) == ""
	assert conn.password and not Secret("") and not Connection(password=None).password
	assert conn.password == Secret(LEAK) == LEAK and conn.password != Secret("other")
	assert replace(conn, user="x").password.reveal() == LEAK  # a Secret given stays that Secret
	assert Connection(**conn.__dict__).password.reveal() == LEAK


def shown_values(value, depth=3):
	"""repr of the value and, recursively, of what it holds: dict keys and values, items, attributes."""
	yield repr(value)
	if depth == 0:
		return
	if isinstance(value, dict):
		items = [*value.keys(), *value.values()]
	elif isinstance(value, list | tuple | set | frozenset):
		items = list(value)
	elif hasattr(value, "__dict__") and not isinstance(value, type):
		items = list(vars(value).values())
	else:
		items = []
	for item in items:
		yield from shown_values(item, depth - 1)


def chained(e: BaseException):
	"""The exception and every exception it chains to (__cause__, __context__)."""
	while e is not None:
		yield e
		e = e.__cause__ or e.__context__


def assert_no_frame_shows_the_password(e: BaseException):
	for exc in chained(e):
		tb = exc.__traceback__
		while tb:
			for name, value in tb.tb_frame.f_locals.items():
				for shown in shown_values(value):
					assert LEAK not in shown, (
						f"{tb.tb_frame.f_code.co_name}: local {name!r} shows the password"
					)
			tb = tb.tb_next
		if format_exc:  # as Frappe's Error Log shows it, without hiding any variable
			assert LEAK not in format_exc(exc, fmt=Format(custom_var_printers=[]))
		assert LEAK not in str(exc) and LEAK not in repr(exc)


@pytest.fixture
def leak_test_user(server):
	"""A legacy user whose password is LEAK (created here: the statement holds the password)."""
	db = server.admin()
	db.cursor().execute("CREATE USER IF NOT EXISTS leak_test IDENTIFIED BY %s", (LEAK,))
	db.cursor().execute("GRANT SELECT ON *.* TO leak_test")
	db.close()


def read_a_missing_table(conn: Connection):
	with LegacyDB(conn) as source:
		list(source.rows("SELECT * FROM no_such_table"))


@pytest.mark.parametrize(
	"case, reason",
	[
		("wrong password", r"\[1045\]"),
		("unknown database", r"\[1049\]"),
		("unreachable port", r"cannot connect to the server \[200[23]\]"),
		("failed statement", r"\[1146\]"),
	],
)
def test_no_traceback_of_a_failure_shows_the_password(legacy, leak_test_user, case, reason):
	conn = replace(legacy.conn, user="leak_test", password=LEAK)
	conn = {
		"wrong password": replace(conn, password=LEAK + "-wrong"),
		"unknown database": replace(conn, database="nope"),
		"unreachable port": Connection(host="127.0.0.1", port=1, password=LEAK, connect_timeout=2),
		"failed statement": conn,
	}[case]
	with pytest.raises(LegacyError, match=reason) as e:
		read_a_missing_table(conn)
	assert_no_frame_shows_the_password(e.value)
	assert e.value.__context__ is None and e.value.__cause__ is None  # MySQLdb's frames hold the password


def test_unreachable_host_fails_within_the_connect_timeout():
	with pytest.raises(LegacyError, match=r"cannot connect to the server \[200[23]\]"):
		with LegacyDB(Connection(host="127.0.0.1", port=1, connect_timeout=2)):
			pass


def test_preflight_on_the_sample(capsys):
	assert preflight(["--sample"]) == 0
	out = capsys.readouterr().out
	assert "LEG-5001     create" in out
	assert "LEG-5008" not in out  # closed
	assert "LEG-5009" not in out  # assigned to someone else
	assert "warning: due_time: unusable value '9h30', no start time" in out
	summary = out.strip().splitlines()[-1]
	assert "errors: 0," in summary
	assert summary.endswith("unmatched_customer: 2, unmatched_accounts: [1003, 1004]")


@pytest.fixture
def silent_port():
	"""A TCP port that accepts connections and never says a word (a hung server)."""
	sock = socket.socket()
	sock.bind(("127.0.0.1", 0))
	sock.listen(8)
	yield sock.getsockname()[1]
	sock.close()


def test_connect_timeout_on_a_hung_server(silent_port):
	started = time.monotonic()
	with pytest.raises(LegacyError, match=r"connection lost or timed out \[2013\]"):
		with LegacyDB(Connection(host="127.0.0.1", port=silent_port, connect_timeout=1)):
			pass
	assert time.monotonic() - started < 5


def test_query_timeout(legacy):
	legacy.ticket()
	legacy.sql("LOCK TABLES ticket WRITE")  # the selection now waits for the lock
	try:
		started = time.monotonic()
		with pytest.raises(LegacyError, match=r"connection lost or timed out \[2013\]"):
			with legacy.open(read_timeout=1) as source:
				list(source.open_tickets(3301))
		assert time.monotonic() - started < 10
	finally:
		legacy.sql("UNLOCK TABLES")


def test_the_server_stops_a_statement_over_the_limit(legacy):
	started = time.monotonic()
	with legacy.open(statement_timeout=1) as source:
		with pytest.raises(
			LegacyError, match=r"statement took longer than the limit \(max_statement_time\) \[1969\]"
		):
			list(source.rows("SELECT SLEEP(5)"))
		assert source.queries == 2  # the read-only session, the SELECT: the limit costs no statement
		assert next(source.rows("SELECT 7")) == (7,)  # the session is still usable
	assert time.monotonic() - started < 4
	with legacy.open() as source:
		assert float(next(source.rows("SELECT @@max_statement_time"))[0]) == 300
	assert Connection().statement_limit() == legacy_module.STATEMENT_TIMEOUT == 300
	assert Connection(read_timeout=60).statement_limit() == 65  # the client's own timeout comes first
	assert Connection(read_timeout=60, statement_timeout=20).statement_limit() == 20


def test_connection_killed_between_two_reads(legacy):
	legacy.ticket()
	with legacy.open() as source:
		assert len(list(source.open_tickets(3301))) == 1
		legacy.sql(f"KILL {source.db.thread_id()}")
		with pytest.raises(LegacyError, match=r"\[(2006|2013)\]"):
			source.tickets_by_id([1])


def test_connection_killed_while_streaming(legacy, monkeypatch):
	monkeypatch.setattr(legacy_module, "BATCH", 100)
	legacy.sql(
		"INSERT INTO ticket (id, dept_id, subject, assign_to, date_create, last_update) "
		"SELECT seq, 1, REPEAT('x', 250), 3301, 1, 1 FROM seq_1_to_20000"
	)
	with legacy.open() as source:
		tickets = source.open_tickets(3301)
		next(tickets)
		legacy.sql(f"KILL {source.db.thread_id()}")
		with pytest.raises(LegacyError, match=r"\[(2006|2013|2026|1927)\]"):
			list(tickets)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
	"""A MariaDB on 127.0.0.1 with a certificate for 127.0.0.1 signed by a test CA."""
	d = tmp_path_factory.mktemp("tls")

	def openssl(*args):
		subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

	openssl(
		"req",
		"-x509",
		"-newkey",
		"rsa:2048",
		"-nodes",
		"-days",
		"2",
		"-subj",
		"/CN=Test CA",
		"-keyout",
		"ca.key",
		"-out",
		"ca.pem",
	)
	openssl(
		"req",
		"-newkey",
		"rsa:2048",
		"-nodes",
		"-subj",
		"/CN=127.0.0.1",
		"-keyout",
		"server.key",
		"-out",
		"server.csr",
	)
	(d / "ext").write_text("subjectAltName=IP:127.0.0.1\n")
	openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out", "server.pem")  # fmt: skip
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		port = s.getsockname()[1]
	args = (f"--port={port}", "--bind-address=127.0.0.1", f"--ssl-ca={d}/ca.pem", f"--ssl-cert={d}/server.pem", f"--ssl-key={d}/server.key")  # fmt: skip
	with ThrowawayMariaDB(*args) as server:
		server.create_database("gestionclient")
		cur = server.admin().cursor()
		cur.execute("CREATE USER bridge@'%' IDENTIFIED BY 'pw' REQUIRE SSL")
		cur.execute("GRANT SELECT ON gestionclient.* TO bridge@'%'")
		yield Connection(host="127.0.0.1", port=port, user="bridge", password="pw", tls_ca=str(d / "ca.pem"))


def cipher(conn: Connection) -> str:
	with LegacyDB(conn) as source:
		return text(next(source.rows("SHOW STATUS LIKE 'Ssl_cipher'"))[1])


def test_tls_verified_against_the_ca(tls_server):
	assert cipher(replace(tls_server, tls=True)).startswith("TLS")


def test_tls_refuses_a_certificate_from_another_ca(tls_server):
	with pytest.raises(LegacyError, match=r"TLS error \[2026\]"):
		cipher(replace(tls_server, tls=True, tls_ca="/etc/ssl/certs/ca-certificates.crt"))


def test_tls_encrypt_only_without_verification(tls_server):
	assert cipher(replace(tls_server, tls=True, tls_ca=None, tls_verify=False)).startswith("TLS")


def test_server_requiring_tls_refuses_a_plain_connection(tls_server):
	with pytest.raises(LegacyError, match=r"\[1045\]"):
		cipher(tls_server)


def test_accounts_for_the_unmatched_report(legacy):
	legacy.account(5, first_name="Marie", last_name="Tremblay", address1="12 rue Principale", city="Laval")
	legacy.account(6, first_name="Luc", last_name="Roy", company="Fromagerie Roy", city="Mirabel")
	with legacy.open() as source:
		assert source.accounts([5, 6, 7]) == {
			5: ("Marie Tremblay", "12 rue Principale", "Laval"),
			6: ("Fromagerie Roy", None, "Mirabel"),
		}
		assert source.accounts([]) == {}


def test_the_grants_in_the_readme_are_enough(legacy, server):
	readme = Path(__file__).resolve().parents[3] / "README.md"
	grants = [g for g in readme.read_text().splitlines() if g.startswith("GRANT SELECT ON gestionclient.")]
	assert len(grants) == 3
	cur = server.admin().cursor()
	cur.execute("CREATE USER IF NOT EXISTS gc_bridge IDENTIFIED BY 'pw'")
	for grant in grants:
		cur.execute(
			grant.replace("gestionclient.", f"`{legacy.conn.database}`.").replace(
				"'erp_bridge'@'erp-server-address'", "gc_bridge"
			)
		)
	legacy.dept(1, "Installation")
	legacy.account(5, first_name="Marie", city="Laval")
	legacy.ticket(account_id=5, dept_id=1)
	with legacy.open(user="gc_bridge", password="pw") as source:
		[t] = source.open_tickets(3301)
		assert (t.city, t.dept_name) == ("Laval", "Installation")
		assert source.tickets_by_id([t.id])[t.id].status == "open"
		assert source.departments() == [(1, "Installation")]
		assert source.accounts([5])[5][0] == "Marie"
