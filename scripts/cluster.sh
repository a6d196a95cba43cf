#!/usr/bin/env bash
# A scale-out Outpost on one machine, for trying the topology of the README's
# "Scale-out" section: PostgreSQL, versitygw (S3) with a bucket, the platform
# emulators, one `outpost serve --workers 0` (API and UI) and N `outpost worker`
# processes, all sharing one generated secret key.
#
#   scripts/cluster.sh up [WORKERS]   start (default 2 workers); prints the URL and API key
#   scripts/cluster.sh status         what runs, from the pid file
#   scripts/cluster.sh env            the variables every node was given (source it)
#   scripts/cluster.sh down           stop exactly what `up` started
#
# State, logs and the pid file live in $OUTPOST_CLUSTER_DIR (default ./.cluster).
# Ports: OUTPOST_CLUSTER_PORT (API, 8080), _PG_PORT (55432), _S3_PORT (7070),
# _SANDBOX_PORT (9900).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
dir="${OUTPOST_CLUSTER_DIR:-$root/.cluster}"
api_port="${OUTPOST_CLUSTER_PORT:-8080}"
pg_port="${OUTPOST_CLUSTER_PG_PORT:-55432}"
s3_port="${OUTPOST_CLUSTER_S3_PORT:-7070}"
sb_port="${OUTPOST_CLUSTER_SANDBOX_PORT:-9900}"
pids="$dir/pids"
bin="$root/bin/outpost"

say() { printf 'cluster: %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

# started NAME PID records a process this script owns.
started() { printf '%s %s\n' "$1" "$2" >>"$pids"; }

# wait_port PORT NAME LOG waits for a listener on 127.0.0.1:PORT.
wait_port() {
	for _ in $(seq 1 300); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	die "$2 did not listen on 127.0.0.1:$1 within 30 s; its log: $3"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_bin() {
	local d
	d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
	[ -n "$d" ] || d="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
	[ -x "$d/initdb" ] || die "PostgreSQL is not installed: run scripts/install-deps.sh (or apt-get install postgresql)"
	echo "$d"
}

# as_pg is the prefix that runs a PostgreSQL binary as the postgres OS user
# when we are root (postgres refuses to run as root). setpriv execs, so a
# background job's $! is the server itself.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups); fi

versitygw_bin() {
	command -v versitygw 2>/dev/null && return
	[ -x "$root/.bin/versitygw" ] || scripts/versitygw.sh >&2
	echo "$root/.bin/versitygw"
}

up() {
	local workers="${1:-2}"
	[ -f "$pids" ] && die "already up (pid file $pids): run scripts/cluster.sh down first"
	for p in "$api_port" "$pg_port" "$s3_port" "$sb_port"; do
		port_free "$p" || die "port $p is taken: set OUTPOST_CLUSTER_PORT / _PG_PORT / _S3_PORT / _SANDBOX_PORT"
	done
	scripts/install-deps.sh
	say "building $bin"
	go build -o "$bin" ./cmd/outpost
	mkdir -p "$dir/logs"
	: >"$pids"

	# One key for the whole cluster: every node must hold the same one.
	local key apikey
	key="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
	apikey="opk_$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
	printf '%s\n' "$key" >"$dir/secret.key"
	chmod 600 "$dir/secret.key"

	# PostgreSQL, with the database created first (Outpost migrates it,
	# it does not create it).
	local pgb
	pgb="$(pg_bin)"
	mkdir -p "$dir/pg"
	if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir/pg"; fi
	if [ ! -f "$dir/pg/data/PG_VERSION" ]; then
		"${as_pg[@]}" "$pgb/initdb" -D "$dir/pg/data" -U outpost --auth=trust -E UTF8 >"$dir/logs/initdb.log" 2>&1 ||
			die "initdb failed: $dir/logs/initdb.log"
	fi
	"${as_pg[@]}" "$pgb/postgres" -D "$dir/pg/data" -p "$pg_port" -c listen_addresses=127.0.0.1 \
		-c unix_socket_directories="$dir/pg" >"$dir/logs/postgres.log" 2>&1 &
	started postgres $!
	wait_port "$pg_port" PostgreSQL "$dir/logs/postgres.log"
	"$pgb/psql" -h 127.0.0.1 -p "$pg_port" -U outpost -d postgres -qAtc \
		"SELECT 1 FROM pg_database WHERE datname='outpost'" | grep -q 1 ||
		"$pgb/createdb" -h 127.0.0.1 -p "$pg_port" -U outpost outpost

	# versitygw, with the bucket made first (Outpost does not create it).
	local gw
	gw="$(versitygw_bin)"
	mkdir -p "$dir/s3/outpost"
	ROOT_ACCESS_KEY=outpost-cluster ROOT_SECRET_KEY=outpost-cluster-secret-key \
		"$gw" --port "127.0.0.1:$s3_port" posix "$dir/s3" >"$dir/logs/versitygw.log" 2>&1 &
	started versitygw $!
	wait_port "$s3_port" versitygw "$dir/logs/versitygw.log"

	# The emulators, and the platform settings that point every node at them.
	"$bin" sandbox --addr "127.0.0.1:$sb_port" >"$dir/logs/sandbox.log" 2>&1 &
	started sandbox $!
	wait_port "$sb_port" "outpost sandbox" "$dir/logs/sandbox.log"
	local platform_env
	platform_env="$(grep -o 'OUTPOST_[A-Z]*_\(CLIENT_ID\|CLIENT_SECRET\|BASE_URL\)=[^ ]*' "$dir/logs/sandbox.log" | sort -u)"
	[ -n "$platform_env" ] || die "outpost sandbox printed no platform settings: $dir/logs/sandbox.log"

	# What every node gets: the same database, bucket, key and platforms.
	{
		echo "export OUTPOST_DATABASE_URL='postgres://outpost@127.0.0.1:$pg_port/outpost?sslmode=disable'"
		echo "export OUTPOST_BLOB_URL='s3://outpost?endpoint=http://127.0.0.1:$s3_port&region=us-east-1&use_path_style=true'"
		echo "export AWS_ACCESS_KEY_ID=outpost-cluster AWS_SECRET_ACCESS_KEY=outpost-cluster-secret-key AWS_REGION=us-east-1"
		echo "export OUTPOST_SECRET_KEY_FILE='$dir/secret.key'"
		echo "export OUTPOST_PUBLIC_URL='http://127.0.0.1:$api_port'"
		echo "$platform_env" | sed 's/^/export /'
	} >"$dir/env"
	chmod 600 "$dir/env"
	# shellcheck disable=SC1091
	( set -a; . "$dir/env"; "$bin" migrate ) >"$dir/logs/migrate.log" 2>&1 ||
		die "outpost migrate failed: $dir/logs/migrate.log"

	( set -a; . "$dir/env"
	  OUTPOST_BOOTSTRAP_API_KEY="$apikey" exec "$bin" serve --workers 0 --listen "127.0.0.1:$api_port" --data-dir "$dir/api" \
		) >"$dir/logs/api.log" 2>&1 &
	started api $!
	wait_port "$api_port" "outpost serve" "$dir/logs/api.log"

	for i in $(seq 1 "$workers"); do
		( set -a; . "$dir/env"; exec "$bin" worker --data-dir "$dir/worker-$i" ) >"$dir/logs/worker-$i.log" 2>&1 &
		started "worker-$i" $!
	done
	printf '%s\n' "$apikey" >"$dir/api.key"
	chmod 600 "$dir/api.key"

	say "up: PostgreSQL :$pg_port, versitygw :$s3_port (bucket outpost), emulators :$sb_port, API :$api_port, $workers worker(s)"
	echo
	echo "  Outpost:    http://127.0.0.1:$api_port"
	grep -o 'create the admin account: .*' "$dir/logs/api.log" | sed 's/^/  /' || true
	echo "  API key:    $apikey   (also in $dir/api.key)"
	echo "  try:        curl -H 'Authorization: Bearer $apikey' http://127.0.0.1:$api_port/api/v1/presets"
	echo "  node env:   source $dir/env   (what every node was started with)"
	echo "  logs:       $dir/logs/"
	echo "  stop:       scripts/cluster.sh down"
}

status() {
	[ -f "$pids" ] || { say "not up"; return 0; }
	while read -r name pid; do
		if kill -0 "$pid" 2>/dev/null; then say "$name (pid $pid) running"; else say "$name (pid $pid) not running"; fi
	done <"$pids"
}

down() {
	[ -f "$pids" ] || { say "not up (no $pids)"; return 0; }
	# Outpost processes first, then what they use; reverse start order.
	tac "$pids" | while read -r name pid; do
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			say "$name (pid $pid) did not stop in 15 s: killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		say "stopped $name (pid $pid)"
	done
	rm -f "$pids"
	say "down (data kept in $dir; remove it for a fresh start)"
}

case "${1:-}" in
up) shift; up "$@" ;;
down) down ;;
status) status ;;
env) cat "$dir/env" ;;
*) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
