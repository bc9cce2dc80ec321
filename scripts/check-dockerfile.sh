#!/usr/bin/env bash
# check-dockerfile.sh checks the Dockerfile without a container engine (none
# runs on the project's machines, so `make image` cannot build there). It
# fails, naming the problem, when:
#   - a FROM image has no tag or digest, or uses :latest
#   - the builder's GO_VERSION differs from the go directive in go.mod
#     (the builder runs with GOTOOLCHAIN=local, so it must match)
#   - the final stage is not distroless static, nonroot
#   - USER is missing or root, the ports or the entrypoint differ from the
#     contract, or the build line lost CGO_ENABLED=0, -trimpath or the version stamp
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

df=Dockerfile
problems=()
fail() { problems+=("$1"); }

[ -f "$df" ] || { echo "check-dockerfile: $df not found" >&2; exit 1; }

go_mod_version=$(awk '$1 == "go" { print $2; exit }' go.mod)
go_arg=$(sed -n 's/^ARG GO_VERSION=\(.*\)$/\1/p' "$df" | head -n1)
if [ -z "$go_arg" ]; then
	fail "no 'ARG GO_VERSION=<version>' default"
elif [ "$go_arg" != "$go_mod_version" ]; then
	fail "ARG GO_VERSION=$go_arg but go.mod says go $go_mod_version; make them equal"
fi

mapfile -t images < <(awk 'toupper($1) == "FROM" { print $2 }' "$df")
[ ${#images[@]} -ge 2 ] || fail "expected a multi-stage build (a builder and a final stage)"
for image in "${images[@]}"; do
	resolved=${image//\$\{GO_VERSION\}/$go_arg}
	name=${resolved%@*}
	if [[ $resolved != *@sha256:* && ${name##*/} != *:* ]]; then
		fail "FROM $image has no tag: pin it"
	elif [[ ${name##*/} == *:latest ]]; then
		fail "FROM $image uses :latest: pin a version"
	fi
done
final=${images[-1]:-}
if [[ $final != gcr.io/distroless/static-debian12:nonroot* ]]; then
	fail "final stage is '$final', expected gcr.io/distroless/static-debian12:nonroot"
fi

user=$(awk 'toupper($1) == "USER" { u = $2 } END { print u }' "$df")
case $user in
"") fail "no USER: the image would run as root" ;;
root | root:* | 0 | 0:*) fail "USER $user runs as root" ;;
esac

grep -qx 'EXPOSE 8080 8081 9090' "$df" || fail "expected 'EXPOSE 8080 8081 9090'"
grep -qx 'ENTRYPOINT \["/wsgateway"\]' "$df" || fail "expected 'ENTRYPOINT [\"/wsgateway\"]'"
grep -q 'CGO_ENABLED=0' "$df" || fail "the builder must set CGO_ENABLED=0 (the final image has no libc)"
build_line=$(grep -E '^RUN .*go build' "$df" || true)
[[ $build_line == *-trimpath* ]] || fail "go build line lacks -trimpath"
# shellcheck disable=SC2016 # the literal ${VERSION} of the Dockerfile
[[ $build_line == *'-X main.version=${VERSION}'* ]] || fail "go build line lacks -ldflags '-X main.version=\${VERSION}'"
[[ $build_line == *./service/cmd/wsgateway* ]] || fail "go build line does not build ./service/cmd/wsgateway"

if [ ${#problems[@]} -gt 0 ]; then
	printf 'check-dockerfile: %s\n' "${problems[@]}" >&2
	exit 1
fi
echo "Dockerfile ok: ${images[*]} (GO_VERSION=$go_arg), USER $user"
