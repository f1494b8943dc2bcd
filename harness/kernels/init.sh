#!/bin/busybox sh
# /init of the test guest (busybox sh, PID 1). Mounts what the tests use,
# loads the modules in /modules/order, runs each test binary of /tests/list
# as root in its package's folder, and powers the guest off. Everything the
# host reads goes to the tests' serial port (/etc/harness-tty names it:
# ttyS1 on amd64, ttyS0 on arm64); lines starting with "@@harness " are this
# script's, the rest is the tests' own output. The kernel's console stays on
# the first port (ttyS0, ttyAMA0).
# busybox's applets as links in /bin (it is built for the guest's
# architecture, so the host cannot list them), all but modprobe: the
# harness's own /sbin/modprobe reports the kernel's requests.
/bin/busybox --install -s /bin
/bin/busybox rm -f /bin/modprobe
export PATH=/bin:/sbin HOME=/root TMPDIR=/tmp LANG=C
export TCPDROP_REQUIRE_BPF=1 TCPDROP_COLLECTOR=/bin/otelcol-tcpdrop TCPDROP_IMAGE=/image/otelcol-tcpdrop.tar
# The guests run under qemu's software emulation (TCG), never KVM here.
export TCPDROP_EMULATED=1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup

tty=/dev/$(cat /etc/harness-tty)
stty -F "$tty" raw -echo 2>/dev/null # no \r added to line ends
exec 3>"$tty"
say() { echo "@@harness $*" >&3; }

say booted "$(uname -r)" "$(uname -m)" uptime="$(cut -d' ' -f1 /proc/uptime)"
hostname guest
ip link set lo up

while read -r m; do
	insmod "/modules/$m" 2>&3 || say module-failed "$m"
done </modules/order
while read -r note; do say module-note "$note"; done </modules/notes

# The kernel turns hooks on and off by rewriting its own code whenever the
# first user of one comes or the last goes; under qemu's multi-threaded
# emulation a vCPU running that code mid-rewrite oopses the guest. So hold
# a user on each hook the tests add and remove all the time: an accept-only
# nftables chain on every IPv4 and IPv6 hook (see harness/kernels/holdhooks),
# and two trace instances, stopped, on the tracepoints the programs attach
# to (with two users already, a third one rewrites nothing).
holdhooks 2>&3 || say hook-not-held "nftables (holdhooks failed)"
for i in 1 2; do
	inst=/sys/kernel/tracing/instances/holdhooks$i
	mkdir -p "$inst" && echo 0 >"$inst/tracing_on" || { say hook-not-held "trace instance $inst"; continue; }
	for ev in skb/kfree_skb sock/inet_sock_set_state tcp/tcp_send_reset tcp/tcp_retransmit_skb tcp/tcp_retransmit_synack; do
		[ -e "$inst/events/$ev/enable" ] && echo 1 >"$inst/events/$ev/enable"
	done
done

# /tests/list: <package> <folder under /src> <binary> <flags...>
while read -r pkg dir bin flags; do
	say run "$pkg"
	t0=$(cut -d' ' -f1 /proc/uptime)
	# shellcheck disable=SC2086 # the flags are meant to split
	(cd "/src/$dir" && "/tests/$bin" $flags) >&3 2>&3
	rc=$?
	echo >&3 # the marker starts a line even after output without a newline
	say exit "$pkg" "$rc" "$t0" "$(cut -d' ' -f1 /proc/uptime)"
done </tests/list

say done
sync
poweroff -f
