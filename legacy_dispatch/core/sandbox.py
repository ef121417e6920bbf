"""A throwaway MariaDB server on a private socket, for the sample run and the core tests.

It never touches a MariaDB already running on the machine, whatever its configuration:
its own data directory, its own socket, no TCP port, no option files.
"""

import getpass
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import MySQLdb

from .legacy import Connection

SCHEMA = Path(__file__).parent / "sample"


def find(*names: str) -> str:
	for name in names:
		path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/usr/local/mysql/bin")
		if path:
			return path
	raise RuntimeError(
		f"{names[0]} not found: install MariaDB server binaries (Debian: apt-get install mariadb-server)"
	)


class Server:
	"""A MariaDB server the tests (and the sample run) may create databases on."""

	def admin_args(self) -> dict:
		raise NotImplementedError

	def admin(self):
		return MySQLdb.connect(**self.admin_args(), charset="utf8mb4", autocommit=True)

	def connection(self, database: str, **kw) -> Connection:
		a = self.admin_args()
		where = {k: a[k] for k in ("host", "port", "unix_socket") if k in a}
		return Connection(user=a["user"], password=a.get("passwd", ""), database=database, **where, **kw)

	def create_database(self, database: str, *sql_files: Path) -> Connection:
		"""A fresh database loaded from the legacy DDL and any other SQL files."""
		db = self.admin()
		cur = db.cursor()
		cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
		cur.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
		cur.execute(f"USE `{database}`")
		for path in (legacy_ddl(), *sql_files):
			run_script(cur, Path(path).read_text())
		db.close()
		return self.connection(database)


class RunningMariaDB(Server):
	"""A server that is already running, reached over TCP (e.g. the bench's MariaDB)."""

	def __init__(self, host="127.0.0.1", port=3306, user="root", password=""):
		self.args = dict(host=host, port=int(port), user=user, passwd=password)

	def admin_args(self) -> dict:
		return self.args


class ThrowawayMariaDB(Server):
	"""`with ThrowawayMariaDB() as server:` gives `server.connection(database)`."""

	def __init__(self, *server_args: str):
		"""`server_args` are passed to mariadbd; with a --port=... the server also listens on TCP."""
		self.dir = Path(tempfile.mkdtemp(prefix="legacy-mariadb-"))
		self.socket = str(self.dir / "mysqld.sock")
		self.args = server_args or ("--skip-networking",)
		self.process = None

	def __enter__(self) -> "ThrowawayMariaDB":
		data, user = self.dir / "data", getpass.getuser()
		subprocess.run(
			[find("mariadb-install-db", "mysql_install_db"), "--no-defaults", f"--datadir={data}", f"--user={user}",
			 "--auth-root-authentication-method=normal", "--skip-test-db"],
			check=True, capture_output=True,
		)  # fmt: skip
		self.process = subprocess.Popen(
			[find("mariadbd", "mysqld"), "--no-defaults", f"--datadir={data}", f"--socket={self.socket}",
			 f"--pid-file={self.dir / 'mysqld.pid'}", f"--user={user}", "--skip-log-bin",
			 "--innodb-buffer-pool-size=64M", "--character-set-server=utf8mb4",
			 "--collation-server=utf8mb4_unicode_ci", f"--log-error={self.dir / 'error.log'}", *self.args],
			stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
		)  # fmt: skip
		deadline = time.monotonic() + 60
		while True:
			try:
				MySQLdb.connect(unix_socket=self.socket, user="root").close()
				return self
			except MySQLdb.OperationalError:
				if self.process.poll() is not None or time.monotonic() > deadline:
					log = (self.dir / "error.log").read_text(errors="replace")[-2000:]
					self.__exit__()
					raise RuntimeError(f"throwaway MariaDB did not start:\n{log}")
				time.sleep(0.2)

	def admin_args(self) -> dict:
		return dict(unix_socket=self.socket, user="root")

	def __exit__(self, *exc):
		if self.process and self.process.poll() is None:
			self.process.terminate()
			try:
				self.process.wait(30)
			except subprocess.TimeoutExpired:
				self.process.kill()
		shutil.rmtree(self.dir, ignore_errors=True)


def run_script(cursor, script: str):
	"""Run a plain SQL script (statements end with ';' at the end of a line; '--' comments)."""
	lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
	for statement in "\n".join(lines).split(";\n"):
		if statement.strip().rstrip(";"):
			cursor.execute(statement.strip().rstrip(";"))


def legacy_ddl() -> Path:
	"""The production DDL of the legacy tables, bundled with the app."""
	return SCHEMA / "gestionclient.sql"
