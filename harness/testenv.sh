#!/usr/bin/env bash
# The machine make test needs, made where it can be: as root, the Debian
# packages the tests use (nftables, bpftrace, docker) are installed and
# dockerd started; for anyone, kubeconform and the Kubernetes API document
# it checks the manifests against are fetched. What cannot be had is said
# here, and the tests that need it skip with the same reason (make test's
# summary lists them). .ci/run uses this too, so that `sudo make test` runs
# CI's suite.
set -uo pipefail
cd "$(dirname "$0")/.."

missing=()
say() { echo "testenv: $*"; }

if [ "$(id -u)" = 0 ]; then
	# nftables: the firewall-drop tests; bpftrace: the benchmark's peer;
	# docker: the container tests (deploy/).
	need=()
	command -v nft >/dev/null || need+=(nftables)
	command -v ip >/dev/null || need+=(iproute2)
	command -v bpftrace >/dev/null || need+=(bpftrace)
	command -v docker >/dev/null || need+=(docker.io)
	if [ ${#need[@]} -gt 0 ]; then
		say "installing ${need[*]}"
		if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }; then
			missing+=("apt-get could not install ${need[*]}")
		fi
	fi
	# There may be no systemd to start it: dockerd runs by hand, without a
	# bridge or iptables rules (the tests use --network=none and host).
	if command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then
		say "starting dockerd (log: /tmp/tcpdrop-dockerd.log)"
		# dockerd outlives this run: it must not keep the run's descriptors
		# (a lock held around the run would stay held while dockerd lives).
		(
			for fd in /proc/self/fd/*; do
				n=${fd##*/}
				[ "$n" -gt 2 ] && eval "exec $n>&-"
			done
			exec nohup dockerd --data-root /var/lib/tcpdrop-docker --exec-root /run/tcpdrop-docker \
				--pidfile /run/tcpdrop-docker.pid --bridge=none --iptables=false --ip6tables=false \
				>/tmp/tcpdrop-dockerd.log 2>&1
		) &
		for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
	fi
	docker info >/dev/null 2>&1 || missing+=("docker info does not answer: the container tests skip")
else
	missing+=("not root: the kernel tests skip and no package is installed (run 'sudo make test')")
	docker info >/dev/null 2>&1 || missing+=("docker info does not answer: the container tests skip")
fi

# deploy/manifests_test.go: kubeconform, and the Kubernetes API's OpenAPI
# document its schemas are made from (the versions that test pins).
gobin="$(go env GOPATH)/bin"
if ! command -v kubeconform >/dev/null && [ ! -x "$gobin/kubeconform" ]; then
	say "installing kubeconform"
	GOBIN="$gobin" go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0 ||
		missing+=("kubeconform could not be installed: the manifest tests skip")
fi
go mod download k8s.io/kubernetes@v1.37.2 ||
	missing+=("the Kubernetes API document could not be downloaded: the manifest tests skip")

for m in "${missing[@]}"; do say "$m"; done
exit 0
