#!/bin/sh
# /init of the initramfs that `cargo xtask run|test` boots (PID 1, busybox ash).
# Behaviour is chosen by the kernel command line:
#   opalite.test=poweroff    print facts for the test harness, then power off
#   opalite.test=shell-echo  shell on the console, for a test that types commands
#   (nothing)                interactive shell on the console (cargo xtask run)
# These need the kexec initramfs (kexec-tools and /boot/vmlinux inside):
#   opalite.test=kexec       kexec -l/-e this same kernel; with opalite.kexec-count=N
#                            (default 1) each kernel kexecs the next until N, then powers off
#   opalite.test=kdump-thread | kdump-core
#                            load a capture kernel (kexec -p), offline PIR 5 (a thread) or
#                            PIRs 4-5 (a core on -smp 4,cores=2,threads=2), crash on PIR 0
#   opalite.test=kdump-capture
#                            (the capture kernel's mode) read /proc/vmcore, power off;
#                            with opalite.hmi=1 first inject an HMI (below)
# These need the HMI-injection firmware (target/opalite-hmi-inject.lid; QEMU never raises
# an HMI, that build makes them on demand: "opalite-hmi-inject CAUSE pir=N" on the console):
#   opalite.test=hmi         offline PIR 5, inject a core-wide timer-facility error on both
#                            cores, check every CPU and the timebase, then a malfunction
#                            alert, whose fatal event ends in Linux's platform-error panic
#                            (boot with panic=-1 to end the run)
#   opalite.test=hmi-causes  (kexec initramfs not needed) op-test's per-core causes, on
#                            every core: 6 timer-facility errors and a recovered core error
#   opalite.test=hmi-kdump   kdump-thread, and the capture kernel gets the HMI while the
#                            crashed kernel's CPUs are parked in OPAL
#   opalite.test=nmi         sysrq-l (backtrace of every CPU), then a panic with no
#                            capture kernel loaded (boot with panic=-1 to end the run)
# This needs the ipmi initramfs (ipmitool and the IPMI modules):
#   opalite.test=ipmi        load ipmi_powernv, then ipmitool mc info, sel time get, and
#                            1,000 requests in one ipmitool while RTC reads and writes run
# These need the kvm initramfs (QEMU, the KVM modules, the guest's kernel and initramfs):
#   opalite.test=pci         list the PCI functions, load nvme/virtio-blk/e1000e, check
#                            both disks' first MiB against the host's md5, write a sector
#                            and read it back uncached, DHCP on eth0, MSI counts growing
#   opalite.pci=1            (kexec, kdump-thread and their capture kernel) run the pci
#                            mode's checks first, in every kernel (the pci-kexec image)
#   opalite.test=kvm         load kvm-hv, then run the KVM guests opalite.kvm=PLAN lists,
#                            one after the other: PLAN is comma-separated IC:MIGRATIONS,
#                            IC xive or xics, e.g. xive:0,xics:0,xive:3 (the third guest
#                            is saved to a file and restored 3 times while it counts)
#   opalite.test=kvm-guest   (the guest's mode) count opalite.ticks=N seconds, power off
# Facts for `cargo xtask bench` (xtask/src/bench/pci.rs), printed before power-off:
#   opalite.opal-trace=1     (pci, poweroff) per OPAL token, the calls the opal_entry and
#                            opal_exit trace events saw and the timebase ticks inside them;
#                            boot with trace_event=powerpc:opal_entry,powerpc:opal_exit
#                            trace_clock=ppc-tb and a trace_buf_size that holds the boot
#   opalite.phb-log=1        (pci, poweroff) the firmware's PHB lines from its msglog

/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts

echo "OPALITE-USERSPACE-OK"

mode=
kexec_count=1
kexec_gen=0
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    opalite.test=*) mode="${arg#opalite.test=}" ;;
    opalite.kexec-count=*) kexec_count="${arg#opalite.kexec-count=}" ;;
    opalite.kexec-gen=*) kexec_gen="${arg#opalite.kexec-gen=}" ;;
    opalite.kvm=*) kvm_plan="${arg#opalite.kvm=}" ;;
    opalite.ticks=*) ticks="${arg#opalite.ticks=}" ;;
    opalite.hmi=*) hmi_in_capture="${arg#opalite.hmi=}" ;;
    opalite.pci=*) pci_too="${arg#opalite.pci=}" ;;
    opalite.opal-trace=*) opal_trace="${arg#opalite.opal-trace=}" ;;
    opalite.phb-log=*) phb_log="${arg#opalite.phb-log=}" ;;
    esac
done

online() { cat /sys/devices/system/cpu/online; }

# Linux's number for the CPU whose PIR (its `physical_id`, the hard SMP id) is $1. The
# kexec/kdump/nmi modes pick CPUs by PIR: Linux numbers CPUs in device-tree order,
# which firmwares need not share (cpu0 is not always PIR 0).
cpu_of_pir() {
    for c in /sys/devices/system/cpu/cpu[0-9]*; do
        if [ "$(cat "$c/physical_id" 2>/dev/null)" = "$1" ]; then
            echo "${c##*/cpu}"
            return 0
        fi
    done
    return 1
}

cpu_map() {
    for c in /sys/devices/system/cpu/cpu[0-9]*; do
        printf ' cpu%s=PIR%s' "${c##*/cpu}" "$(cat "$c/physical_id" 2>/dev/null)"
    done
}

# Put the timebase in the kernel log (see xtask/src/tbprog.rs): it places this kernel's
# printk clock on the timebase, and under icount says when userspace started, for
# `cargo xtask bench`.
[ -x /bin/opalite-tb ] && /bin/opalite-tb

# Writes /tmp/next-initrd.cpio, an initramfs for the next kernel made from this one's
# root (the mount points stay, empty). `without-kernel` leaves /boot/vmlinux out (the
# capture kernel does not kexec again, and its reserved memory is small).
next_initrd() {
    (
        cd / || exit 1
        {
            find . -xdev \( -path ./tmp -o -path ./bin \) -prune -o -print | grep -v '^\.$'
            printf '%s\n' ./tmp ./bin ./bin/busybox ./bin/sh ./dev/console ./dev/null
        } | if [ "$1" = without-kernel ]; then grep -v '^\./boot/vmlinux$'; else cat; fi |
            cpio -o -H newc >/tmp/next-initrd.cpio 2>/tmp/cpio.log
    ) && return 0
    echo "OPALITE-INITRD-FAILED: $(cat /tmp/cpio.log)"
    return 1
}

# Loads this kernel again for generation $1 (same command line) and jumps into it from
# the CPU with PIR 0 (kernel_kexec() moves to the reboot CPU first), so the secondaries
# that return to OPAL are always PIRs 1, 4 and 5 on -smp 4,cores=2,threads=2.
kexec_next() {
    next_initrd || return 1
    args=$(sed -e 's/ *opalite\.kexec-gen=[0-9]*//g' /proc/cmdline)
    kexec -l /boot/vmlinux --initrd=/tmp/next-initrd.cpio \
        --append="$args opalite.kexec-gen=$1" || return 1
    # kexec keeps its own copy; leave the RAM to the next kernel.
    rm -f /tmp/next-initrd.cpio
    echo "OPALITE-KEXEC-LOADED gen=$1 loaded=$(cat /sys/kernel/kexec_loaded)"
    cpu_of_pir 0 > /sys/kernel/reboot/cpu
    kexec -e
}

# --- HMI modes (the HMI-injection firmware) -----------------------------------------

# Each CPU's HMI kick (the firmware's interrupt "opal-hmi-kick-PIR", which brings that CPU
# into OPAL so the injected HMI reaches it) is pinned to that CPU. Prints how many.
hmi_pin_kicks() {
    local n=0 c cpu pir irq
    for c in /sys/devices/system/cpu/cpu[0-9]*; do
        cpu=${c##*/cpu}
        pir=$(cat "$c/physical_id")
        irq=$(grep -E "opal-hmi-kick-$pir\$" /proc/interrupts | cut -d: -f1 | tr -d ' ')
        [ -n "$irq" ] && echo "$cpu" > "/proc/irq/$irq/smp_affinity_list" 2>/dev/null &&
            n=$((n + 1))
    done
    echo "OPALITE-HMI-KICKS pinned=$n"
}

hmi_events() { dmesg | grep -c "$1"; }

# Injects cause $1 on the core of PIR $2 and waits (10 s at most) until Linux has printed
# $3 more lines matching $4. Prints the count.
hmi_inject() {
    local before tries=50
    before=$(hmi_events "$4")
    echo "opalite-hmi-inject $1 pir=$2"
    while [ "$(hmi_events "$4")" -lt $((before + $3)) ] && [ "$tries" -gt 0 ]; do
        sleep 0.2
        tries=$((tries - 1))
    done
    local got=$(($(hmi_events "$4") - before))
    echo "OPALITE-HMI-INJECTED $1 pir=$2 events=$got"
    [ "$got" -ge "$3" ]
}

# Every online CPU runs a command, and its timebase moves forward (two reads of
# /proc/uptime on that CPU, 0.3 s apart, must differ and not go backwards).
hmi_check_cpus() {
    local c pir t1 t2
    for c in $(online_list); do
        pir=$(cat /sys/devices/system/cpu/cpu$c/physical_id)
        t1=$(taskset -c "$c" cut -d' ' -f1 /proc/uptime)
        sleep 0.3
        t2=$(taskset -c "$c" cut -d' ' -f1 /proc/uptime)
        if awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(b > a) }'; then
            echo "OPALITE-HMI-CPU-OK pir=$pir tb-moves"
        else
            echo "OPALITE-HMI-CPU-BAD pir=$pir uptime $t1 then $t2"
        fi
    done
}

# The online CPU numbers, one per line ("0-2,4" expanded).
online_list() {
    online | tr ',' '\n' | while IFS=- read -r a b; do seq "$a" "${b:-$a}"; done
}

hmi_irq_counts() { echo "OPALITE-HMI-IRQS$(grep 'HMI' /proc/interrupts | tr -s ' ')"; }

# The capture kernel's turn (opalite.hmi=1): PIR 0 runs it, PIRs 1, 4, 5 are parked in
# OPAL; a core-wide error on both cores reaches all four.
hmi_in_kdump() {
    hmi_pin_kicks
    hmi_inject tfac-core 0 2 "Severe Hypervisor Maintenance interrupt \[Recovered\]"
    hmi_inject tfac-core 4 2 "Severe Hypervisor Maintenance interrupt \[Recovered\]"
    hmi_check_cpus
    hmi_irq_counts
}

# --- kvm mode (L1): KVM guests of this same kernel, under this same init -------------

# Seconds since boot, and since $1, for the step timings in the markers.
uptime_s() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'; }

# A step passed: its marker, its duration and when it ended.
kvm_ok() { echo "opalite-kvm: $1 ok ($(since "$2") s, at $(uptime_s) s)"; }

kvm_fail() {
    echo "opalite-kvm: FAILED $*"
    echo "opalite-kvm: guest monitor log:"
    sed -e 's/^/opalite-kvm-monitor: /' /tmp/mon.log 2>/dev/null | tail -20
    poweroff -f
}

# Waits up to $2 seconds for the extended regex $1 in file $3.
wait_for() {
    local tries=$(($2 * 5))
    while ! grep -qE "$1" "$3" 2>/dev/null; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.2
    done
}

# Waits up to 10 s for path $1 to exist (a device node or sysfs entry a driver makes).
wait_path() {
    local tries=50
    while [ ! -e "$1" ] && [ "$tries" -gt 0 ]; do sleep 0.2; tries=$((tries - 1)); done
    [ -e "$1" ]
}

# Like wait_for in the guest's output, but gives up as soon as its QEMU has exited.
wait_guest() {
    local tries=$(($2 * 5))
    while ! grep -qE "$1" /tmp/guest.out; do
        grep -qE '^qemu exit [0-9]+' /tmp/guest.out && return 1
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.2
    done
}

# The caps KVM on an emulated POWER9/10 cannot offer (no speculation controls, no large
# decrementer), so QEMU does not refuse to start.
KVM_CAPS=cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off,cap-large-decr=off

# Starts a guest QEMU in the background ($1 label, $2 xive|xics, $3 ticks, $4 the
# -incoming URI or nothing). Its console is appended to /tmp/guest.out and copied to
# ours with the label; its monitor is the pipe pair /tmp/mon.in (commands) and
# /tmp/mon.out (copied to /tmp/mon.log); "qemu exit N" ends its output.
kvm_start_guest() {
    rm -f /tmp/mon.in /tmp/mon.out /tmp/qemu.pid
    mkfifo /tmp/mon.in /tmp/mon.out
    : > /tmp/mon.log
    # Blocks until QEMU opens the pipe, ends when QEMU does.
    cat /tmp/mon.out >> /tmp/mon.log &
    (
        qemu-system-ppc64 -M "pseries,accel=kvm,ic-mode=$2,kernel-irqchip=on,$KVM_CAPS" \
            -cpu host -smp 2 -m 512M -nographic -nodefaults \
            -kernel /boot/vmlinux -initrd /boot/guest-initrd.cpio \
            -append "console=hvc0 opalite.test=kvm-guest opalite.ticks=$3" \
            -serial stdio -chardev pipe,id=mon,path=/tmp/mon -mon chardev=mon \
            ${4:+-incoming "$4"} </dev/null 2>&1 &
        echo $! > /tmp/qemu.pid
        wait $!
        echo "qemu exit $?"
    ) | tee -a /tmp/guest.out | sed -e "s/^/[L2 $1] /" &
    wait_for . 10 /tmp/qemu.pid || kvm_fail "$1: QEMU did not start"
}

qemu_alive() { kill -0 "$(cat /tmp/qemu.pid)" 2>/dev/null; }

# One monitor command (a write to a live QEMU's pipe; a dead one would block it).
mon() {
    qemu_alive || kvm_fail "QEMU gone before monitor command \`$1\`"
    echo "$1" > /tmp/mon.in
}

# Waits up to $2 seconds for QEMU's output line "qemu exit N" and checks N is 0.
kvm_wait_exit() {
    wait_for '^qemu exit [0-9]+' "$2" /tmp/guest.out || kvm_fail "$1: QEMU did not exit"
    status=$(grep -E '^qemu exit [0-9]+' /tmp/guest.out | tail -1)
    [ "$status" = "qemu exit 0" ] || kvm_fail "$1: $status"
    # The copy of its output to our console finishes with it.
    wait
    # A restored QEMU appends to the same file: its wait_guest must not see this exit.
    sed -i -e 's/^qemu exit /qemu exited /' /tmp/guest.out
}

# The highest tick the guest printed so far.
last_tick() { grep -oE 'opalite-guest: tick [0-9]+' /tmp/guest.out | tail -1 | grep -oE '[0-9]+$'; }

# Migration targets: `file:` exists from QEMU 8.2; before it, a shell command does it.
kvm_migration_uris() {
    v=$(qemu-system-ppc64 --version | sed -n 's/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
    set -- $v
    if [ "${1:-0}" -gt 8 ] || { [ "${1:-0}" -eq 8 ] && [ "${2:-0}" -ge 2 ]; }; then
        save_uri=file:/tmp/migration
        load_uri=file:/tmp/migration
    else
        save_uri="exec:cat > /tmp/migration"
        load_uri="exec:cat /tmp/migration"
    fi
}

# Guest number $1 with interrupt controller $2, saved and restored $3 times while it
# counts. Each save: stop, migrate to the file, quit; each restore: a new QEMU from the
# file, cont, and the count must go on past where it stopped.
kvm_guest() {
    local label="guest $1 $2" ticks m t t_save stopped_at tries state
    ticks=$((6 + 3 * $3))
    : >/tmp/guest.out
    t=$(uptime_s)
    kvm_start_guest "$label" "$2" "$ticks" ""
    wait_guest 'opalite-guest: tick 1 ' 600 || kvm_fail "$label: never counted"
    kvm_ok "$label boot" "$t"
    m=1
    while [ "$m" -le "$3" ]; do
        t=$(uptime_s)
        t_save=$t
        rm -f /tmp/migration
        mon stop
        mon "migrate \"$save_uri\""
        tries=300
        while ! grep -qE 'Migration status: (completed|failed|cancelled)' /tmp/mon.log; do
            tries=$((tries - 1))
            [ "$tries" -gt 0 ] || kvm_fail "$label: migration $m never completed"
            mon "info migrate"
            sleep 1
        done
        grep -q 'Migration status: completed' /tmp/mon.log ||
            kvm_fail "$label: migration $m: $(grep 'Migration status' /tmp/mon.log)"
        stopped_at=$(last_tick)
        mon quit
        kvm_wait_exit "$label save $m" 60
        kvm_ok "$label migrate $m save ($(du -k /tmp/migration | cut -f1) KiB)" "$t"
        t=$(uptime_s)
        kvm_start_guest "$label" "$2" "$ticks" "$load_uri"
        # The state is in once the incoming QEMU is paused but no longer "inmigrate".
        tries=600
        while :; do
            mon "info status"
            sleep 0.5
            state=$(grep 'VM status' /tmp/mon.log | tail -1)
            case "$state" in
            *inmigrate* | "") ;;
            *paused*) break ;;
            *) kvm_fail "$label: restore $m: $state" ;;
            esac
            tries=$((tries - 1))
            [ "$tries" -gt 0 ] || kvm_fail "$label: restore $m never finished"
        done
        mon cont
        wait_guest "opalite-guest: tick $((stopped_at + 1)) " 120 ||
            kvm_fail "$label: stopped counting after restore $m (last tick $(last_tick))"
        kvm_ok "$label migrate $m restore" "$t"
        kvm_ok "$label migrate $m" "$t_save"
        m=$((m + 1))
    done
    t=$(uptime_s)
    wait_guest "opalite-guest: done ticks=$ticks" $((ticks * 10 + 60)) ||
        kvm_fail "$label: did not finish counting (last tick $(last_tick))"
    kvm_wait_exit "$label" 120
    kvm_ok "$label end" "$t"
    # An interrupt storm left behind by a guest's teardown shows as one CPU's count
    # racing ahead of the other's from one guest to the next.
    echo "opalite-kvm: L1 interrupts after $label:$(l1_interrupts)"
}

# Interrupts taken so far by each of L1's CPUs, all sources together.
l1_interrupts() {
    awk 'NR == 1 { n = NF; next }
        { for (i = 2; i <= n + 1; i++) if ($i ~ /^[0-9]+$/) s[i - 2] += $i }
        END { for (i = 0; i < n; i++) printf " cpu%d=%d", i, s[i] }' /proc/interrupts
}

kvm_l1() {
    t=$(uptime_s)
    echo "opalite-kvm: L1 up at $t s, $(nproc) cpus, plan ${kvm_plan:-none}"
    for ko in /lib/modules/opalite/*.ko; do
        insmod "$ko" || kvm_fail "insmod $ko"
    done
    [ -c /dev/kvm ] || kvm_fail "no /dev/kvm after loading the modules"
    kvm_ok "modules" "$t"
    kvm_migration_uris
    echo "opalite-kvm: $(qemu-system-ppc64 --version | head -1); migration via $save_uri"
    n=1
    for step in $(echo "$kvm_plan" | tr ',' ' '); do
        kvm_guest "$n" "${step%:*}" "${step#*:}"
        n=$((n + 1))
    done
    echo "opalite-kvm: all guests done at $(uptime_s) s"
}

# --- ipmi mode: /dev/ipmi0 through OPAL_IPMI_SEND/RECV ---------------------------------

flash_fail() { echo "OPALITE-FLASH-FAILED $*"; dmesg | grep -iE "mtd|flash|nvram|opal" | tail -5; }

# Booted from the PNOR image (xtask/src/flashimg.rs's layout): /dev/mtd0 reads the flash
# (OPAL_FLASH_READ), a write to the SCRATCH partition goes through OPAL_FLASH_WRITE, and
# NVRAM's `common` partition carries a token across a reboot (OPAL_WRITE/READ_NVRAM):
# the first boot writes it and reboots, the second finds it and powers off.
flash_mode() {
    for ko in /lib/modules/opalite/*.ko; do
        insmod "$ko" || { flash_fail "insmod $ko"; return; }
    done
    wait_path /dev/mtd0 || { flash_fail "no /dev/mtd0"; return; }
    echo "OPALITE-MTD $(tr '\n' ';' < /proc/mtd)"
    magic=$(dd if=/dev/mtd0 bs=4 count=1 2>/dev/null)
    version=$(dd if=/dev/mtd0 bs=4096 skip=8 count=1 2>/dev/null | tr -d '\000')
    if [ "$magic" = "PART" ] && [ "$version" = "opalite-flash-test" ]; then
        echo "OPALITE-MTD-OK table magic and VERSION read back"
    else
        flash_fail "read magic '$magic' version '$version'"
    fi
    # SCRATCH: 64 KiB at 0xa0000 (block 160).
    yes opalite-mtd | head -c 4096 > /tmp/w
    dd if=/tmp/w of=/dev/mtd0 bs=4096 seek=160 count=1 conv=notrunc 2>/dev/null
    if dd if=/dev/mtd0 bs=4096 skip=160 count=1 2>/dev/null | cmp -s - /tmp/w; then
        echo "OPALITE-FLASH-WRITE-OK 4096 bytes at 0xa0000"
    else
        flash_fail "SCRATCH write did not read back"
    fi
    # NVRAM: the token at 0x1010, the data of the `common` partition.
    token=opalite-nvram-ok
    [ -c /dev/nvram ] || { flash_fail "no /dev/nvram"; return; }
    seen=$(dd if=/dev/nvram bs=16 skip=257 count=1 2>/dev/null)
    if [ "$seen" = "$token" ]; then
        echo "OPALITE-NVRAM-READBACK-OK $token"
        return
    fi
    printf %s "$token" | dd of=/dev/nvram bs=16 seek=257 count=1 conv=notrunc 2>/dev/null
    echo "OPALITE-NVRAM-WRITTEN $token (was '$seen'); rebooting"
    sync
    reboot -f
}

# --- pci mode: disks and a NIC behind the PHBs (xtask/src/pcirig.rs) ------------------

pci_fail() { echo "OPALITE-PCI-FAILED $*"; dmesg | grep -iE "pci|nvme|virtio|e1000e|eeh|iommu" | tail -8; }

# Sum of the counts on every MSI line of /proc/interrupts.
msi_total() {
    grep -i 'msi' /proc/interrupts | awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }'
}


pci_mode() {
    list=
    for d in /sys/bus/pci/devices/*; do
        [ -e "$d" ] || continue
        list="$list ${d##*/}=$(cat "$d/vendor"):$(cat "$d/device")"
    done
    echo "OPALITE-PCI-DEVICES$list"
    for ko in /lib/modules/opalite/*.ko; do
        insmod "$ko" || { pci_fail "insmod $ko"; return; }
    done
    echo "OPALITE-PCI-DRIVERS-LOADED"
    before=$(msi_total)
    for disk in nvme0n1 vda; do
        wait_path /dev/$disk || { pci_fail "no /dev/$disk"; continue; }
        want=$(cat /etc/opalite-pci/$disk.md5)
        got=$(dd if=/dev/$disk bs=65536 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
        if [ "$got" = "$want" ]; then
            echo "OPALITE-PCI-MD5-OK $disk $got"
        else
            pci_fail "md5 of $disk's first MiB is $got, the host's $want"
        fi
        # Sector 2048, just past the pattern; checked on the host image after the run.
        printf 'OPALITE-PCI-SECTOR %s' "$disk" > /tmp/sector
        dd if=/dev/zero bs=1 count=$((512 - $(wc -c < /tmp/sector))) 2>/dev/null >> /tmp/sector
        dd if=/tmp/sector of=/dev/$disk bs=512 seek=2048 count=1 conv=notrunc,fsync 2>/dev/null
        sync
        echo 3 > /proc/sys/vm/drop_caches
        if dd if=/dev/$disk bs=512 skip=2048 count=1 2>/dev/null | cmp -s - /tmp/sector; then
            echo "OPALITE-PCI-WRITE-OK $disk sector 2048 read back uncached"
        else
            pci_fail "the sector written to $disk did not read back"
        fi
    done
    wait_path /sys/class/net/eth0 || { pci_fail "no eth0"; return; }
    ip link set eth0 up
    tries=50
    while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ "$tries" -gt 0 ]; do
        sleep 0.2
        tries=$((tries - 1))
    done
    [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ] && echo "OPALITE-PCI-LINK-UP eth0"
    # udhcpc runs its script with the lease in the environment; this one only reports it.
    printf '#!/bin/sh\n[ "$1" = bound ] && echo "OPALITE-PCI-DHCP-LEASE $ip from $serverid"\nexit 0\n' > /tmp/dhcp.sh
    chmod +x /tmp/dhcp.sh
    udhcpc -i eth0 -n -q -t 10 -T 1 -s /tmp/dhcp.sh 2>/dev/null || pci_fail "no DHCP lease on eth0"
    after=$(msi_total)
    if [ "$after" -gt "$before" ]; then
        echo "OPALITE-PCI-MSI-GROWING from $before to $after"
    else
        pci_fail "MSI counts did not grow ($before, then $after)"
    fi
    grep -i msi /proc/interrupts | tr -s ' ' | head -12
    # An nvme command that timed out (Linux then polls its completion) is an MSI that
    # never arrived, even when the retry let the checks above pass.
    lost=$(dmesg | grep -E 'nvme.*timeout' | head -3)
    [ -z "$lost" ] || pci_fail "nvme timed out: $lost"
}

# --- bench facts -----------------------------------------------------------------------

# The opal_entry/opal_exit events since boot, tallied per token. Linux raises them around
# each OPAL call with interrupts hard-disabled, so on one CPU every entry is followed by
# its own exit; with trace_clock=ppc-tb the time stamps are raw timebase ticks. The END
# line lets the host check that nothing was lost: the buffer kept every event written
# (entries-in-buffer/entries-written) and no exit came without its entry.
opal_trace_report() {
    t=/sys/kernel/tracing
    [ -e $t/trace ] || mount -t tracefs tracefs $t 2>/dev/null
    [ -e $t/trace ] || { echo "OPALITE-OPAL-TRACE-FAILED no tracefs"; return; }
    echo 0 > $t/tracing_on
    awk '
    /^# entries-in-buffer/ { split($3, kw, "/"); kept = kw[1]; written = kw[2]; next }
    {
        for (i = 2; i <= NF; i++) if ($i == "opal_entry:" || $i == "opal_exit:") break
        if (i > NF) next
        ts = $(i - 1); sub(":", "", ts)
        op = $(i + 1); sub("opcode=", "", op)
        if ($i == "opal_entry:") {
            entries++
            if (open != "") unmatched++
            open = op; t0 = ts
        } else {
            exits++
            if (open != op) { unmatched++ } else { calls[op]++; ticks[op] += ts - t0 }
            open = ""
        }
    }
    END {
        for (op in calls) printf "OPALITE-OPAL-TRACE token=%s calls=%d ticks=%.0f\n", op, calls[op], ticks[op]
        printf "OPALITE-OPAL-TRACE-END entries=%d exits=%d unmatched=%d kept=%s written=%s\n", entries, exits, unmatched, kept, written
    }' $t/trace
}

# The firmware's own lines about its PHBs (skiboot's and Opalite's alike), with their
# timebase stamps: the host measures PCI bring-up from them.
phb_log_report() {
    grep -aE 'PHB|HWPROBE|Starting kernel' /sys/firmware/opal/msglog | sed -e 's/^/OPALITE-PHB-LOG /'
    echo "OPALITE-PHB-LOG-END"
}

bench_facts() {
    [ "$opal_trace" = 1 ] && opal_trace_report
    [ "$phb_log" = 1 ] && phb_log_report
}

ipmi_fail() { echo "OPALITE-IPMI-FAILED $*"; dmesg | grep -i ipmi | tail -5; }

# The RTC's traffic on the same BMC while the batch runs: hwclock reads (OPAL_RTC_READ,
# which has the firmware re-read SEL time) and, every tenth time, a write (Set SEL Time
# from OPAL_RTC_WRITE). Stops when /tmp/ipmi-done appears; counts into /tmp/rtc-count.
ipmi_rtc_traffic() {
    local reads=0 writes=0 bad=0
    while [ ! -e /tmp/ipmi-done ]; do
        hwclock -r -u >/dev/null 2>&1 && reads=$((reads + 1)) || bad=$((bad + 1))
        if [ $((reads % 10)) -eq 0 ]; then
            hwclock -w -u >/dev/null 2>&1 && writes=$((writes + 1)) || bad=$((bad + 1))
        fi
    done
    echo "reads=$reads writes=$writes failed=$bad" > /tmp/rtc-count
}

ipmi_mode() {
    for ko in /lib/modules/opalite/*.ko; do
        insmod "$ko" || { ipmi_fail "insmod $ko"; return; }
    done
    wait_path /dev/ipmi0 || { ipmi_fail "no /dev/ipmi0"; return; }
    echo "OPALITE-IPMI-DEV /dev/ipmi0"
    echo "OPALITE-IPMI-MC-INFO $(ipmitool mc info 2>/dev/null | grep -E '^(Device ID|IPMI Version)' | tr -s ' ' | tr '\n' ';')"
    # "12/02/26 13:12:30 UTC" (stderr has ipmitool's complaint about a missing IANA list).
    sel=$(ipmitool sel time get 2>/dev/null)
    sel_s=$(date -u -D '%m/%d/%y %H:%M:%S' -d "${sel% UTC}" +%s 2>/dev/null)
    now=$(date -u +%s)
    if [ -n "$sel_s" ] && [ $((sel_s - now)) -le 5 ] && [ $((now - sel_s)) -le 5 ]; then
        echo "OPALITE-IPMI-SEL-TIME matches the RTC ($sel)"
    else
        echo "OPALITE-IPMI-SEL-TIME differs: '$sel' against $(date -u)"
    fi
    # 1,000 requests from one ipmitool: Get Device ID and Get SEL Time in turn.
    awk 'BEGIN { for (i = 0; i < 500; i++) { print "raw 0x06 0x01"; print "raw 0x0a 0x48" } }' > /tmp/batch
    rm -f /tmp/ipmi-done
    ipmi_rtc_traffic &
    t=$(uptime_s)
    ipmitool exec /tmp/batch > /tmp/ipmi.out 2> /tmp/ipmi.err
    secs=$(since "$t")
    touch /tmp/ipmi-done
    wait
    # Get Device ID answers 11 bytes or more, Get SEL Time exactly 4.
    ids=$(grep -cE '^( [0-9a-f]{2}){11}' /tmp/ipmi.out)
    sels=$(grep -cE '^( [0-9a-f]{2}){4}$' /tmp/ipmi.out)
    echo "OPALITE-IPMI-BATCH requests=1000 device-id=$ids sel-time=$sels errors=$(grep -vc 'IANA PEN registry' /tmp/ipmi.err) in $secs s, rtc $(cat /tmp/rtc-count)"
    grep -v 'IANA PEN registry' /tmp/ipmi.err | head -3
    echo "OPALITE-IPMI-IRQ$(grep -iE 'ipmi|lpc-bt|opal-event' /proc/interrupts | tr -s ' ' | tr '\n' ';')"
}

# The guest's interrupt controller, as its /proc/interrupts names it.
guest_irq_chip() {
    if grep -q XIVE /proc/interrupts; then echo XIVE
    elif grep -q XICS /proc/interrupts; then echo XICS
    else echo unknown; fi
}

# What Linux shows of the firmware's log (/ibm,opal/ibm,opal-memcons): its line count,
# whether Opalite's banner and CPU lines are there, and how many memory-only (DEBUG,
# level 7) lines it holds.
msglog_facts() {
    log=/sys/firmware/opal/msglog
    if [ ! -r "$log" ]; then
        echo "OPALITE-MSGLOG missing"
        return
    fi
    echo "OPALITE-MSGLOG present lines=$(wc -l < "$log") banner=$(grep -c 'OPALITE: Opalite' "$log") cpu-lines=$(grep -c 'CPU: PIR' "$log") debug-lines=$(grep -c ',7] ' "$log")"
}

# The firmware's symbol map (skiboot's /sys/firmware/opal/symbol_map, `nm -n` lines):
# `opal_entry` in it must be where the device tree says OPAL's entry is, so a map of
# another build, or none, fails. Prints OPALITE-SYMMAP-OK or OPALITE-SYMMAP-FAILED.
symbol_map_check() {
    map=/sys/firmware/opal/symbol_map
    [ -r "$map" ] || { echo "OPALITE-SYMMAP-FAILED no $map"; return; }
    [ -r /sys/firmware/opal/exports/symbol_map ] ||
        { echo "OPALITE-SYMMAP-FAILED no exports/symbol_map"; return; }
    in_map=$(grep ' opal_entry$' "$map" | cut -d' ' -f1)
    in_dt=$(od -An -tx1 /proc/device-tree/ibm,opal/opal-entry-address | tr -d ' \n')
    if [ -n "$in_map" ] && [ "$in_map" = "$in_dt" ]; then
        echo "OPALITE-SYMMAP-OK opal_entry=$in_map ($(wc -l < "$map") symbols)"
    else
        echo "OPALITE-SYMMAP-FAILED map '$in_map' device tree '$in_dt'"
    fi
}

case "$mode" in
poweroff)
    symbol_map_check
    # Device-tree strings end in NUL; strip it so the line stays printable.
    fw=$(tr -d '\000' < /proc/device-tree/ibm,opal/firmware/version 2>/dev/null)
    echo "OPALITE-FW-VERSION=${fw:-unknown}"
    echo "OPALITE-CPUS=$(nproc) (online: $(online))"
    msglog_facts
    bench_facts
    # Linux calls OPAL_CEC_POWER_DOWN; QEMU then exits on its own.
    poweroff -f
    ;;
kexec)
    echo "OPALITE-CPU-MAP$(cpu_map)"
    echo "OPALITE-KEXEC-GEN=$kexec_gen CPUS=$(online)"
    if dmesg | grep -q "xive: Interrupt handling initialized with native backend"; then
        echo "OPALITE-XIVE-NATIVE gen=$kexec_gen"
    fi
    [ "$pci_too" = 1 ] && pci_mode
    if [ "$kexec_gen" -lt "$kexec_count" ]; then
        kexec_next $((kexec_gen + 1))
        echo "OPALITE-KEXEC-FAILED gen=$((kexec_gen + 1))"
    else
        echo "OPALITE-KEXEC-DONE after $kexec_gen"
    fi
    poweroff -f
    ;;
kdump-thread | kdump-core | hmi-kdump)
    # Debian's kdump-tools appends "reset_devices maxcpus=1 irqpoll noirqdistrib" and
    # systemd/usb options; the capture kernel here needs no more than this.
    capture_args="console=hvc0 opalite.test=kdump-capture maxcpus=1 irqpoll reset_devices"
    [ "$mode" = hmi-kdump ] && capture_args="$capture_args opalite.hmi=1"
    # The devices are busy (DMA mapped, MSIs on) when the kernel crashes.
    if [ "$pci_too" = 1 ]; then
        capture_args="$capture_args opalite.pci=1"
        pci_mode
    fi
    if next_initrd without-kernel &&
        kexec -p /boot/vmlinux --initrd=/tmp/next-initrd.cpio --append="$capture_args"; then
        echo "OPALITE-KDUMP-LOADED=$(cat /sys/kernel/kexec_crash_loaded)"
    else
        echo "OPALITE-KDUMP-LOAD-FAILED"
        poweroff -f
    fi
    rm -f /tmp/next-initrd.cpio
    echo "OPALITE-CPU-MAP$(cpu_map)"
    # A thread (PIR 5) or a whole core (PIRs 4 and 5); absent with -smp 1 (the bench).
    if [ "$mode" = kdump-core ]; then pirs="4 5"; else pirs="5"; fi
    for pir in $pirs; do
        c=$(cpu_of_pir $pir) && echo 0 > /sys/devices/system/cpu/cpu$c/online
    done
    echo "OPALITE-KDUMP-CRASH online=$(online) offline=$(cat /sys/devices/system/cpu/offline) (PIRs $pirs)"
    # On PIR 0, so which CPUs get the crash IPIs is fixed.
    taskset -c "$(cpu_of_pir 0)" sh -c 'echo c > /proc/sysrq-trigger'
    echo "OPALITE-KDUMP-NO-CRASH"
    poweroff -f
    ;;
kdump-capture)
    # maxcpus=1: only the CPU that crashed (PIR 0), whatever Linux number it has here.
    echo "OPALITE-KDUMP-CAPTURE ONLINE=$(nproc) PIR=$(cat /sys/devices/system/cpu/cpu$(online)/physical_id)"
    [ "$hmi_in_capture" = 1 ] && hmi_in_kdump
    [ "$pci_too" = 1 ] && pci_mode
    if [ -r /proc/vmcore ]; then
        size=$(stat -c %s /proc/vmcore)
        magic=$(dd if=/proc/vmcore bs=4 count=1 2>/dev/null | tail -c 3)
        if dd if=/proc/vmcore of=/dev/null bs=1M count=16 2>/dev/null; then
            read=16MiB
        else
            read=FAILED
        fi
        echo "OPALITE-VMCORE size=$size magic=$magic read=$read"
        # The crashed kernel's last words never reach the console (its printk is not
        # flushed on the way into the capture kernel): read them from its log buffer.
        vmcore-dmesg /proc/vmcore >/tmp/old-dmesg 2>&1
        grep -E 'Sending IPI|IPI complete|not responding|system reset' /tmp/old-dmesg |
            sed -e 's/^/OPALITE-OLD-DMESG: /'
        echo "OPALITE-OLD-DMESG-END lines=$(wc -l < /tmp/old-dmesg)"
    else
        echo "OPALITE-VMCORE missing"
    fi
    poweroff -f
    ;;
nmi)
    echo "OPALITE-CPU-MAP$(cpu_map)"
    echo "OPALITE-NMI CPUS=$(online)"
    boot=$(cpu_of_pir 0)
    taskset -c "$boot" sh -c 'echo l > /proc/sysrq-trigger'
    echo "OPALITE-NMI-BACKTRACES=$(dmesg | grep -c 'NMI backtrace for cpu')"
    # No capture kernel is loaded: panic() stops the other CPUs (smp_send_stop) and,
    # with panic=-1, reboots at once, which -no-reboot turns into QEMU's exit.
    taskset -c "$boot" sh -c 'echo c > /proc/sysrq-trigger'
    echo "OPALITE-NMI-NO-CRASH"
    poweroff -f
    ;;
hmi)
    echo "OPALITE-CPU-MAP$(cpu_map)"
    hmi_pin_kicks
    c=$(cpu_of_pir 5) && echo 0 > /sys/devices/system/cpu/cpu$c/online
    echo "OPALITE-HMI-OFFLINE $(cat /sys/devices/system/cpu/offline) (PIR 5)"
    sev='Severe Hypervisor Maintenance interrupt \[Recovered\]'
    # Core 0: PIRs 0 and 1 meet; core 1: PIR 4 goes on without the offline PIR 5.
    hmi_inject tfac-core 0 2 "$sev"
    hmi_inject tfac-core 4 1 "$sev"
    hmi_check_cpus
    hmi_irq_counts
    echo "OPALITE-HMI-STILL-OFFLINE $(cat /sys/devices/system/cpu/offline)"
    echo 1 > /sys/devices/system/cpu/cpu$c/online
    taskset -c "$c" echo "OPALITE-HMI-ONLINE-AGAIN pir=$(cat /sys/devices/system/cpu/cpu$c/physical_id)"
    # A checkstop: every thread of the machine gets it, the event is fatal, Linux stops.
    hmi_inject malfunction 4 1 "Fatal Hypervisor Maintenance interrupt"
    sleep 10
    echo "OPALITE-HMI-NO-PANIC"
    poweroff -f
    ;;
hmi-causes)
    # op-test's HMI_TFMR_ERRORS and PROC_RECOV_DONE, on every core, one after the other.
    hmi_pin_kicks
    n=0
    missed=0
    for pir in $(cat /sys/devices/system/cpu/cpu*/physical_id | sort -n); do
        [ $((pir % 4)) -eq 0 ] || continue
        for cause in tb-residue tfmr-parity hdec-parity dec-parity purr-parity spurr-parity; do
            hmi_inject "$cause" "$pir" 1 "Timer facility experienced an error\|TFMR SPR is corrupted" ||
                missed=$((missed + 1))
            n=$((n + 1))
        done
        hmi_inject proc-recovery "$pir" 1 "Processor Recovery done" || missed=$((missed + 1))
        n=$((n + 1))
    done
    hmi_check_cpus
    echo "OPALITE-HMI-CAUSES injected=$n missed=$missed"
    poweroff -f
    ;;
kvm)
    kvm_l1
    poweroff -f
    ;;
ipmi)
    ipmi_mode
    poweroff -f
    ;;
flash)
    flash_mode
    poweroff -f
    ;;
pci)
    pci_mode
    bench_facts
    poweroff -f
    ;;
kvm-guest)
    echo "opalite-guest: up, $(nproc) cpus, interrupts $(guest_irq_chip)"
    # Each tick on the other CPU in turn: both vCPUs' queues see IPIs and timers.
    cpus=$(nproc)
    i=1
    while [ "$i" -le "${ticks:-5}" ]; do
        sleep 1
        taskset -c $((i % cpus)) echo "opalite-guest: tick $i on cpu $((i % cpus))"
        i=$((i + 1))
    done
    echo "opalite-guest: done ticks=${ticks:-5}"
    poweroff -f
    ;;
*)
    export PS1='opalite-sh# '
    echo "OPALITE-SHELL-READY (type 'poweroff -f' or exit the shell to power off)"
    # setsid + cttyhack give the shell a controlling terminal, so job control and ^C work.
    setsid cttyhack sh
    poweroff -f
    ;;
esac

# Never let PID 1 exit: the kernel would panic.
while true; do sleep 3600; done
