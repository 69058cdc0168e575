#!/usr/bin/env bash
# Builds the Custos container image (deploy/Containerfile, FROM scratch) from
# a binary built on this host, and by default tries it out: secrets, schema,
# a server on the starter manifest, /readyz, the HEALTHCHECK, the sizes; then
# removes everything it made.
#
#   scripts/container.sh [test]   build, run, wait for /readyz, print sizes, clean up
#   scripts/container.sh build    build and keep the images (IMAGE, IMAGE-minimal)
#
# Environment:
#   IMAGE    image name (default localhost/custos:dev, for a test localhost/custos:test-PID;
#            the minimal target gets -minimal appended)
#   PORT     host port the test publishes (default 18080, loopback only)
#   ENGINE   podman or buildah for the build (default: podman if present)
#   KEEP=1   test: keep the images afterwards
#
# Needs Go, and podman (or buildah to build only). As root on Debian the
# missing packages are installed with apt-get: podman, busybox-static (the
# healthcheck probe), ca-certificates. No image is pulled from any registry.
set -euo pipefail

mode=${1:-test}
case $mode in
test | build) ;;
*)
	echo "usage: $0 [test|build]" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
# A test builds under a tag of its own, so that it never replaces (and then
# removes) an image someone built before.
if [ "$mode" = test ]; then
	image=${IMAGE:-localhost/custos:test-$$}
else
	image=${IMAGE:-localhost/custos:dev}
fi
minimal=${image}-minimal
port=${PORT:-18080}
uid=10001

log() { printf '== %s\n' "$*" >&2; }
die() {
	printf 'container.sh: %s\n' "$*" >&2
	exit 1
}

# apt_install PKG...: install Debian packages when running as root.
apt_install() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		die "missing $*: install them (Debian: apt-get install -y $*)"
	fi
	log "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "$@" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

command -v go >/dev/null || die "go is needed to build the binary"

# The engine. podman builds and runs; buildah can build only.
engine=${ENGINE:-}
if [ -z "$engine" ]; then
	if command -v podman >/dev/null; then
		engine=podman
	elif [ "$mode" = build ] && command -v buildah >/dev/null; then
		engine=buildah
	else
		apt_install podman
		engine=podman
	fi
fi
command -v "$engine" >/dev/null || apt_install "$engine"
[ "$mode" = build ] || command -v podman >/dev/null || apt_install podman

# podman as root on a host without systemd (a container, a small VM) needs
# cgroupfs and a file event log; with systemd the defaults are right.
podman=(podman)
if [ ! -d /run/systemd/system ]; then
	podman+=(--cgroup-manager cgroupfs --events-backend file)
fi

# is_static FILE: FILE is a statically linked executable.
is_static() {
	local out
	out=$(LC_ALL=C ldd "$1" 2>&1 || true)
	[ -x "$1" ] && [[ $out == *"not a dynamic executable"* ]]
}

# The healthcheck probe: a statically linked busybox, run as wget.
busybox=/bin/busybox
is_static $busybox || apt_install busybox-static
is_static $busybox || die "$busybox is not statically linked (install busybox-static)"
cacerts=/etc/ssl/certs/ca-certificates.crt
[ -s $cacerts ] || apt_install ca-certificates

stage=$(mktemp -d)
ctr=custos-test-$$
vol=custos-test-$$
made_images=0
cleanup() {
	status=$?
	if [ "$mode" = test ]; then
		"${podman[@]}" rm -f -t 20 "$ctr" >/dev/null 2>&1 || true
		"${podman[@]}" volume rm -f "$vol" >/dev/null 2>&1 || true
		if [ "$made_images" = 1 ] && [ "${KEEP:-}" != 1 ]; then
			"${podman[@]}" rmi -f "$image" "$minimal" >/dev/null 2>&1 || true
		fi
	fi
	rm -rf "$stage"
	exit $status
}
trap cleanup EXIT

log "building the static binary"
(cd "$root" && CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags='-s -w' -o "$stage/custos" ./cmd/custos)
is_static "$stage/custos" || die "the binary is not static"

log "laying out the build context in $stage"
cp $cacerts "$stage/ca-certificates.crt"
cp $busybox "$stage/busybox"
mkdir -p "$stage/rootfs/etc" "$stage/rootfs/tmp" "$stage/data" "$stage/doc"
chmod 1777 "$stage/rootfs/tmp"
chmod 0755 "$stage/rootfs" "$stage/rootfs/etc"
echo "custos:x:$uid:$uid:Custos:/data:/sbin/nologin" >"$stage/rootfs/etc/passwd"
echo "custos:x:$uid:" >"$stage/rootfs/etc/group"
chmod 0644 "$stage/rootfs/etc/passwd" "$stage/rootfs/etc/group"

# Licence texts: the project's, the holiday data's, and those of Go and of
# every module compiled into the binary (with their NOTICE files, which
# Apache-2.0 modules ask to be passed on).
cp "$root/LICENSE" "$stage/doc/LICENSE"
[ -f "$root/NOTICE" ] && cp "$root/NOTICE" "$stage/doc/NOTICE"
cp "$root/internal/calendar/data/LICENSE" "$stage/doc/LICENSE.holiday-cn"
modcache=$(go env GOMODCACHE)
{
	echo "Licences of the software compiled into /usr/local/bin/custos."
	echo
	echo "==== Go (the standard library and runtime), $(go env GOVERSION)"
	cat "$(go env GOROOT)/LICENSE"
	go version -m "$stage/custos" | awk '$1 == "dep" {print $2, $3}' | while read -r path version; do
		# The module cache escapes capital letters as !lower.
		dir="$modcache/$(printf '%s' "$path" | sed -e 's/[A-Z]/!\L&/g')@$version"
		echo
		echo "==== $path $version"
		found=0
		for f in "$dir"/LICENSE* "$dir"/LICENCE* "$dir"/COPYING* "$dir"/NOTICE*; do
			[ -f "$f" ] || continue
			found=1
			echo "---- $(basename "$f")"
			cat "$f"
		done
		[ $found = 1 ] || echo "(no licence file found in $dir)"
	done
} >"$stage/doc/THIRD_PARTY_LICENSES"
if grep -q '^(no licence file found' "$stage/doc/THIRD_PARTY_LICENSES"; then
	grep -B1 '^(no licence file found' "$stage/doc/THIRD_PARTY_LICENSES" >&2
	die "a module's licence is missing from the module cache (go mod download, then run again)"
fi

rev=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
labels=(--label "org.opencontainers.image.revision=$rev" --label "org.opencontainers.image.created=$created")

log "building $minimal and $image with $engine"
if [ "$engine" = buildah ]; then
	build=(buildah build)
else
	build=("${podman[@]}" build)
fi
# --format docker keeps HEALTHCHECK (OCI has no field for it).
"${build[@]}" --format docker --target custos-minimal "${labels[@]}" -t "$minimal" -f "$root/deploy/Containerfile" "$stage"
"${build[@]}" --format docker --target custos "${labels[@]}" -t "$image" -f "$root/deploy/Containerfile" "$stage"
made_images=1

sizes() {
	for img in "$minimal" "$image"; do
		bytes=$("${podman[@]}" image inspect --format '{{.Size}}' "$img")
		gz=$("${podman[@]}" save --format docker-archive "$img" 2>/dev/null | gzip -c | wc -c)
		printf '%-36s %6.1f MB unpacked, %6.1f MB as a gzipped archive\n' "$img" \
			"$(echo "$bytes / 1000000" | bc -l)" "$(echo "$gz / 1000000" | bc -l)"
	done
}
command -v bc >/dev/null || apt_install bc

if [ "$mode" = build ]; then
	sizes
	exit 0
fi

log "trying $image: secrets, schema, server"
command -v curl >/dev/null || apt_install curl
# Options some hosts need, found by trying them in turn on a one-off run:
#  1. none (a usual host);
#  2. the open-files and process limits pinned within the host's hard limits:
#     podman raises them to its own defaults, which a sandbox without
#     CAP_SYS_RESOURCE refuses (crun: setrlimit RLIMIT_NOFILE);
#  3. runc instead of crun, which refuses a host whose cgroup v1 and v2
#     hierarchies are mounted together ("cgroups in hybrid mode not
#     supported").
opts=()
health=()
probe() { "${podman[@]}" run --rm --no-healthcheck "${opts[@]}" --entrypoint /usr/local/bin/custos "$image" --help >/dev/null 2>"$stage/probe.err"; }
if ! probe; then
	sed 's/^/  /' "$stage/probe.err" >&2
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	# podman's own default nproc, when the host allows more: some sandboxes
	# refuse even a limit equal to the hard one.
	[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
	[ "$nofile" = unlimited ] && nofile=1048576
	opts=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
	log "retrying with ${opts[*]}"
	if ! probe; then
		sed 's/^/  /' "$stage/probe.err" >&2
		command -v runc >/dev/null || apt_install runc
		podman+=(--runtime runc)
		log "retrying with --runtime runc ${opts[*]}"
		probe || {
			cat "$stage/probe.err" >&2
			die "the image does not run here"
		}
	fi
fi
# Without systemd podman cannot schedule the HEALTHCHECK's timer; it is
# run by hand below instead.
[ -d /run/systemd/system ] || health+=(--health-interval disable)

run=("${podman[@]}" run --rm --no-healthcheck "${opts[@]}" --read-only -v "$vol:/data" --entrypoint /usr/local/bin/custos)
"${podman[@]}" volume create "$vol" >/dev/null
"${run[@]}" "$image" secrets init /data/secrets
"${run[@]}" "$image" migrate
"${run[@]}" "$image" migrate --status

manifest=(-v "$root/examples/starter/custos.yaml:/etc/custos/custos.yaml:ro")
serve_args=(--manifest /etc/custos/custos.yaml)
# The usual way: the container's own network, the port published on the
# host's loopback. Where the engine cannot set up networking (no bridge or
# iptables in a sandbox), the host's network with the listen address moved.
if "${podman[@]}" run -d --name "$ctr" "${opts[@]}" "${health[@]}" --read-only -v "$vol:/data" "${manifest[@]}" \
	-p "127.0.0.1:$port:8080" "$image" "${serve_args[@]}" >/dev/null 2>"$stage/run.err"; then
	network="bridge, -p 127.0.0.1:$port:8080"
else
	sed 's/^/  /' "$stage/run.err" >&2
	log "bridge networking failed; trying --network host"
	"${podman[@]}" rm -f "$ctr" >/dev/null 2>&1 || true
	# The image's probe asks port 8080; on the host's network it moves too.
	"${podman[@]}" run -d --name "$ctr" "${opts[@]}" "${health[@]}" --read-only -v "$vol:/data" "${manifest[@]}" \
		--network host -e "CUSTOS_ADDR=127.0.0.1:$port" \
		--health-cmd "[\"/usr/local/bin/wget\",\"-q\",\"-O\",\"/dev/null\",\"http://127.0.0.1:$port/readyz\"]" \
		"$image" "${serve_args[@]}" >/dev/null
	network="host, CUSTOS_ADDR=127.0.0.1:$port"
fi
echo "engine:         ${podman[*]} run ${opts[*]} ${health[*]}"

url=http://127.0.0.1:$port
code=000
for _ in $(seq 1 100); do
	code=$(curl -s -o "$stage/readyz" -w '%{http_code}' "$url/readyz" || true)
	[ "$code" = 200 ] && break
	if [ "$("${podman[@]}" inspect --format '{{.State.Running}}' "$ctr")" != true ]; then
		"${podman[@]}" logs "$ctr" >&2 || true
		die "the server stopped"
	fi
	sleep 0.2
done
"${podman[@]}" logs "$ctr" 2>&1 | sed 's/^/  log: /' | head -20 >&2
[ "$code" = 200 ] || die "/readyz answered $code"

pid=$("${podman[@]}" inspect --format '{{.State.Pid}}' "$ctr")
echo "network:        $network"
echo "GET /readyz:    $code $(cat "$stage/readyz")"
echo "GET /healthz:   $(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")"
echo "GET /metrics:   $(curl -s -o /dev/null -w '%{http_code}' "$url/metrics"), $(curl -s "$url/metrics" | grep -c '^custos_') custos_* samples"
echo "server uid:gid: $(ps -o uid=,gid= -p "$pid" | awk '{print $1 ":" $2}') (host view of the container's process)"
if "${podman[@]}" healthcheck run "$ctr" >/dev/null 2>"$stage/hc.err"; then
	echo "HEALTHCHECK:    healthy"
else
	echo "HEALTHCHECK:    failed: $(cat "$stage/hc.err")"
	exit 1
fi
# The audit chain, checked by a second process on the same SQLite file
# while the server runs.
echo "audit verify:   $("${run[@]}" "$image" audit verify | head -1)"
sizes
