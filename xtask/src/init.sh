#!/bin/sh
# /init of the initramfs that `cargo xtask run|test` boots (PID 1, busybox ash).
# Behaviour is chosen by the kernel command line:
#   opalite.test=poweroff    print facts for the test harness, then power off
#   opalite.test=shell-echo  shell on the console, for a test that types commands
#   (nothing)                interactive shell on the console (cargo xtask run)

/bin/busybox --install -s /bin
export PATH=/bin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts

echo "OPALITE-USERSPACE-OK"

mode=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    opalite.test=*) mode="${arg#opalite.test=}" ;;
    esac
done

case "$mode" in
poweroff)
    # Device-tree strings end in NUL; strip it so the line stays printable.
    fw=$(tr -d '\000' < /proc/device-tree/ibm,opal/firmware/version 2>/dev/null)
    echo "OPALITE-FW-VERSION=${fw:-unknown}"
    echo "OPALITE-CPUS=$(nproc) (online: $(cat /sys/devices/system/cpu/online))"
    # Linux calls OPAL_CEC_POWER_DOWN; QEMU then exits on its own.
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
