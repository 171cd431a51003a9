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
#                            (the capture kernel's mode) read /proc/vmcore, power off
#   opalite.test=nmi         sysrq-l (backtrace of every CPU), then a panic with no
#                            capture kernel loaded (boot with panic=-1 to end the run)

/bin/busybox --install -s /bin
export PATH=/bin:/sbin
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

# In the kexec initramfs: put the timebase in the kernel log (see xtask/src/tbprog.rs),
# which places this kernel's printk clock on the timebase for `cargo xtask bench`.
[ -x /sbin/opalite-tb ] && /sbin/opalite-tb

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

case "$mode" in
poweroff)
    # Device-tree strings end in NUL; strip it so the line stays printable.
    fw=$(tr -d '\000' < /proc/device-tree/ibm,opal/firmware/version 2>/dev/null)
    echo "OPALITE-FW-VERSION=${fw:-unknown}"
    echo "OPALITE-CPUS=$(nproc) (online: $(online))"
    # Linux calls OPAL_CEC_POWER_DOWN; QEMU then exits on its own.
    poweroff -f
    ;;
kexec)
    echo "OPALITE-CPU-MAP$(cpu_map)"
    echo "OPALITE-KEXEC-GEN=$kexec_gen CPUS=$(online)"
    if dmesg | grep -q "xive: Interrupt handling initialized with native backend"; then
        echo "OPALITE-XIVE-NATIVE gen=$kexec_gen"
    fi
    if [ "$kexec_gen" -lt "$kexec_count" ]; then
        kexec_next $((kexec_gen + 1))
        echo "OPALITE-KEXEC-FAILED gen=$((kexec_gen + 1))"
    else
        echo "OPALITE-KEXEC-DONE after $kexec_gen"
    fi
    poweroff -f
    ;;
kdump-thread | kdump-core)
    # Debian's kdump-tools appends "reset_devices maxcpus=1 irqpoll noirqdistrib" and
    # systemd/usb options; the capture kernel here needs no more than this.
    if next_initrd without-kernel &&
        kexec -p /boot/vmlinux --initrd=/tmp/next-initrd.cpio \
            --append="console=hvc0 opalite.test=kdump-capture maxcpus=1 irqpoll reset_devices"; then
        echo "OPALITE-KDUMP-LOADED=$(cat /sys/kernel/kexec_crash_loaded)"
    else
        echo "OPALITE-KDUMP-LOAD-FAILED"
        poweroff -f
    fi
    rm -f /tmp/next-initrd.cpio
    echo "OPALITE-CPU-MAP$(cpu_map)"
    # A thread (PIR 5) or a whole core (PIRs 4 and 5); absent with -smp 1 (the bench).
    if [ "$mode" = kdump-thread ]; then pirs="5"; else pirs="4 5"; fi
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
