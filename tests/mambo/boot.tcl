# SPDX-License-Identifier: Apache-2.0
#
# Boots Opalite under IBM's POWER Functional Simulator (systemsim, "Mambo").
# Started by tests/mambo (the mambo-boot crate) as
#     <systemsim>/run/p9/power9 -n -f tests/mambo/boot.tcl     (p10: run/p10/power10)
# from the simulator's run directory, with the environment below. Written for Opalite;
# the memory map is the one the simulator's users agree on (images-boards-mambo.md §3.4).
#
# NOT RUN YET: systemsim is not installed where this was written. The simulator
# commands are the ones its documentation and skiboot's script use; the details marked
# "belief" are the ones to check first on a real install.
#
# Environment:
#   OPALITE_FW        firmware image, raw (target/opalite.lid)              required
#   OPALITE_PAYLOAD   what the firmware boots (an ELF or raw image)          required
#   OPALITE_INITRD    initramfs, loaded at 0x8000_0000                      optional
#   OPALITE_BOOTARGS  /chosen/bootargs                                      optional
#   ROOTDISK          host file served as bogus disk 0 (a PNOR image)       optional
#   CPUS, THREADS     processors, and threads per processor                default 1, 1
#   MEM_SIZE          memory, in the simulator's notation                   default 4G
#   OPALITE_AUTORUN   1: run at once and leave the simulator when it stops  default 1

proc env_or {name default} {
    global env
    if {[info exists env($name)] && $env($name) ne ""} {
        return $env($name)
    }
    return $default
}

proc required_file {name} {
    set path [env_or $name ""]
    if {$path eq "" || ![file readable $path]} {
        puts stderr "boot.tcl: $name must name a readable file (got '$path')"
        exit 1
    }
    return $path
}

# Whether the simulator's device tree has a node at `path`. find_device's answer for a
# missing node is not documented (belief: an error or an empty handle); both count.
proc node_exists {path} {
    if {[catch {set node [mysim of find_device $path]}]} {
        return 0
    }
    return [expr {$node ne "" && $node ne "0"}]
}

proc find_or_add_node {parent_path name} {
    set path [string trimright $parent_path "/"]/$name
    if {[node_exists $path]} {
        return [mysim of find_device $path]
    }
    return [mysim of addchild [mysim of find_device $parent_path] $name ""]
}

set firmware  [required_file OPALITE_FW]
set payload   [required_file OPALITE_PAYLOAD]
set initrd    [env_or OPALITE_INITRD ""]
set bootargs  [env_or OPALITE_BOOTARGS ""]
set rootdisk  [env_or ROOTDISK ""]
set cpus      [env_or CPUS 1]
set threads   [env_or THREADS 1]
set mem_size  [env_or MEM_SIZE 4G]
set autorun   [env_or OPALITE_AUTORUN 1]

# Where things go. The firmware is linked at 0x3000_0000 and its entry is 0x10 past it
# (the same entry QEMU uses); r3 points at the flattened device tree. The payload sits
# below the firmware, the initramfs above the first 2 GiB.
set firmware_base 0x30000000
set firmware_entry [expr {$firmware_base + 0x10}]
set dt_base       0x01f00000
set payload_base  0x20000000
set initrd_base   0x80000000

if {$payload_base + [file size $payload] > $firmware_base} {
    puts stderr "boot.tcl: $payload does not fit between $payload_base and the firmware"
    exit 1
}

# The machine: the simulator's default configuration for this model, resized.
# belief: `display default_configure` names it, as in skiboot's script.
define dup [display default_configure] opalite_conf
opalite_conf config cpus $cpus
opalite_conf config processor/number_of_threads $threads
opalite_conf config memory_size $mem_size
define machine opalite_conf mysim

# The device tree. The simulator's own tree has the memory and cpu nodes (with
# ibm,chip-id, ibm,ppc-interrupt-server#s, timebase-frequency and cpu-version, which
# Opalite reads; belief). What we add: the root compatible, the /mambo node Opalite
# detects the simulator by, and /chosen.
set root [mysim of find_device "/"]
mysim of addprop $root string "compatible" "ibm,powernv"
if {![node_exists "/mambo"]} {
    mysim of addchild $root "mambo" ""
}
set chosen [find_or_add_node "/" "chosen"]
mysim of addprop $chosen array64 "kernel-base-address" [list $payload_base]
if {$bootargs ne ""} {
    mysim of addprop $chosen string "bootargs" $bootargs
}

mysim memory fread $firmware_base [file size $firmware] $firmware
mysim memory fread $payload_base [file size $payload] $payload
if {$initrd ne ""} {
    set initrd_size [file size $initrd]
    mysim memory fread $initrd_base $initrd_size $initrd
    mysim of addprop $chosen array64 "linux,initrd-start" [list $initrd_base]
    mysim of addprop $chosen array64 "linux,initrd-end" [list [expr {$initrd_base + $initrd_size}]]
}

# belief: `rw` lets the firmware write to the disk (NVRAM in the PNOR).
if {$rootdisk ne ""} {
    mysim bogus disk init 0 $rootdisk rw
}

# Flatten the tree into memory (the simulator's epapr library), then start every thread
# at the entry with r3 = the tree, as a flattened-device-tree firmware expects.
epapr::of2dtb mysim $dt_base
for {set c 0} {$c < $cpus} {incr c} {
    for {set t 0} {$t < $threads} {incr t} {
        mysim cpu $c:$t set spr pc $firmware_entry
        mysim cpu $c:$t set gpr 3 $dt_base
        mysim cpu $c:$t config_on
    }
}

puts "boot.tcl: Opalite at $firmware_base, payload at $payload_base, tree at $dt_base, $cpus x $threads threads"
if {$autorun} {
    mysim mode fastest
    # Returns when the firmware's EXIT callthru (or anything else) stops the simulation.
    mysim go
    exit
}
