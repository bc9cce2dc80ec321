#!/usr/bin/env bash
# deps.sh makes sure the machine has what `make test` needs beyond Go:
#   redis-server      the broker tests start their own servers on free ports
#                     (Debian's package also brings redis-cli, via redis-tools,
#                     which builds the test clusters)
#   redis-sentinel    the Sentinel failover tests start their own sentinels
#   gcc, libc6-dev    `go test -race` needs cgo, so a C compiler and libc headers
#   prometheus        the grafana/ tests run promtool (check and unit-test the
#                     alerts) and a real Prometheus server against two nodes.
#                     On a machine that runs systemd, Debian's package also
#                     starts a prometheus service on :9090, the gateway's
#                     default --admin-listen; when this script installed the
#                     package, it stops and disables that service again.
#   haproxy           the load balancer of the capacity tests: loadtest/'s
#                     tests run it with loadtest/haproxy.cfg, as do make
#                     loadtest and make capacity-smoke. Debian's package
#                     enables a haproxy service (its default config listens
#                     nowhere); when this script installed the package, it
#                     stops and disables that service too.
#   chromium          the JavaScript client's browser tests (clients/js/test/
#                     browser/) drive Debian's /usr/bin/chromium through
#                     playwright-core; no browser can be downloaded here
#   nodejs, npm       the JavaScript client's build and tests, only when there
#                     is no `node` at all: the project's machines have Node 20
#                     (with its npm) already, which Debian's packages must not
#                     replace
#   java, maven       the Java client's tests (clients/java) and the JMeter home
#                     (loadtest/jmeter), only when missing: the machines have
#                     Java 17 and Maven 3.8 already
# Each entry is "how to detect it|Debian package". When something is missing
# and we are root, it runs `apt-get update` once and installs every missing
# package with --no-install-recommends; otherwise it stops and names the
# packages. When everything is present it only runs a few `command -v`s.
set -euo pipefail

needs=(
	"command:redis-server|redis-server"
	"command:redis-cli|redis-tools"
	"command:redis-sentinel|redis-sentinel"
	"command:gcc|gcc"
	"file:/usr/include/stdlib.h|libc6-dev"
	"command:promtool|prometheus"
	"command:prometheus|prometheus"
	"command:haproxy|haproxy"
	"command:chromium|chromium"
)
if ! command -v node >/dev/null 2>&1; then
	needs+=("command:node|nodejs" "command:npm|npm")
fi
if ! command -v java >/dev/null 2>&1; then
	needs+=("command:java|openjdk-17-jdk-headless")
fi
if ! command -v mvn >/dev/null 2>&1; then
	needs+=("command:mvn|maven")
fi

present() {
	local probe=$1
	case $probe in
	command:*) command -v "${probe#command:}" >/dev/null 2>&1 ;;
	file:*) [ -e "${probe#file:}" ] ;;
	*) echo "deps.sh: unknown probe '$probe'" >&2; exit 2 ;;
	esac
}

missing=()
for need in "${needs[@]}"; do
	probe=${need%%|*}
	pkg=${need##*|}
	if ! present "$probe" && [[ " ${missing[*]} " != *" $pkg "* ]]; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

install_hint="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "${EUID:-$(id -u)}" -ne 0 ]; then
	echo "deps: missing Debian package(s): ${missing[*]}" >&2
	echo "deps: install them, then rerun make:  sudo $install_hint" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing package(s): ${missing[*]} (Debian names), and apt-get is not available here;" >&2
	echo "deps: install the equivalents with this system's package manager, then rerun make" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -q --no-install-recommends "${missing[@]}"

for need in "${needs[@]}"; do
	if ! present "${need%%|*}"; then
		echo "deps: installed ${need##*|}, but ${need%%|*} is still not there" >&2
		exit 1
	fi
done

# Debian's prometheus package starts a service on :9090, the port `make run`
# uses for --admin-listen. We installed it only for promtool and for tests
# that run their own server, so the service we just caused goes away again.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1 &&
	systemctl is-active --quiet prometheus 2>/dev/null; then
	echo "deps: stopping the prometheus service the package started on :9090 (the tests start their own)" >&2
	systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
if [[ " ${missing[*]} " == *" haproxy "* ]] && command -v systemctl >/dev/null 2>&1 &&
	systemctl is-active --quiet haproxy 2>/dev/null; then
	echo "deps: stopping the haproxy service the package started (the load tests start their own)" >&2
	systemctl disable --now haproxy >/dev/null 2>&1 || true
fi
