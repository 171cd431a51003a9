//! QEMU command lines for interactive runs and for captured test runs.

use std::path::PathBuf;

use crate::args::{Machine, Smp};

pub const GDB_ADDR: &str = "127.0.0.1:1234";

#[derive(Debug, Clone)]
pub struct QemuConfig {
    pub machine: Machine,
    pub smp: Smp,
    pub memory: String,
    pub firmware: PathBuf,
    /// None: no `-kernel` (the firmware finds nothing to boot).
    pub kernel: Option<PathBuf>,
    /// None for payloads that need no initramfs (the conformance payload).
    pub initrd: Option<PathBuf>,
    pub append: String,
    /// A PNOR image for the machine's flash (`-drive ...,if=mtd`); QEMU writes the
    /// guest's flash writes back to it.
    pub flash: Option<PathBuf>,
    /// Devices and their back ends (`-device`, `-drive`, `-netdev`), as given.
    pub devices: Vec<String>,
    pub gdb: bool,
    /// With a captured console, a guest reset normally ends QEMU (`-no-reboot`); set
    /// this when the guest reboots on purpose and the run must go on.
    pub guest_may_reboot: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// Console and QEMU monitor multiplexed on the terminal (Ctrl-A X quits, Ctrl-A C monitor).
    Interactive,
    /// Console on QEMU's stdin/stdout pipes for the test harness; a guest reset ends QEMU.
    Captured,
}

impl QemuConfig {
    /// Arguments after `qemu-system-ppc64`.
    pub fn args(&self, console: Console) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "-M".into(),
            self.machine.name().into(),
            "-m".into(),
            self.memory.clone(),
            "-smp".into(),
            self.smp.to_qemu(),
            "-bios".into(),
            self.firmware.display().to_string(),
        ];
        if let Some(kernel) = &self.kernel {
            a.extend(["-kernel".into(), kernel.display().to_string()]);
        }
        if let Some(initrd) = &self.initrd {
            a.extend(["-initrd".into(), initrd.display().to_string()]);
        }
        if !self.append.is_empty() {
            a.extend(["-append".into(), self.append.clone()]);
        }
        if let Some(img) = &self.flash {
            a.extend([
                "-drive".into(),
                format!("file={},format=raw,if=mtd", img.display()),
            ]);
        }
        a.extend(self.devices.iter().cloned());
        let console_args: &[&str] = match console {
            Console::Interactive => &["-nographic", "-serial", "mon:stdio"],
            Console::Captured => &["-display", "none", "-monitor", "none", "-serial", "stdio"],
        };
        a.extend(console_args.iter().map(|s| s.to_string()));
        if console == Console::Captured && !self.guest_may_reboot {
            a.push("-no-reboot".into());
        }
        if self.gdb {
            // Loopback only: the gdb stub gives full control of the machine.
            a.extend(["-gdb".into(), format!("tcp:{GDB_ADDR}"), "-S".into()]);
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> QemuConfig {
        QemuConfig {
            machine: Machine::Powernv10,
            smp: Smp::parse("4,cores=2,threads=2").unwrap(),
            memory: "2G".into(),
            firmware: "fw.lid".into(),
            kernel: Some("vmlinux".into()),
            initrd: Some("initrd".into()),
            append: "console=hvc0 opalite.test=poweroff".into(),
            flash: None,
            devices: Vec::new(),
            gdb: false,
            guest_may_reboot: false,
        }
    }

    #[test]
    fn captured_command_line() {
        let a = config().args(Console::Captured).join(" ");
        assert_eq!(
            a,
            "-M powernv10 -m 2G -smp 4,cores=2,threads=2 -bios fw.lid -kernel vmlinux \
             -initrd initrd -append console=hvc0 opalite.test=poweroff \
             -display none -monitor none -serial stdio -no-reboot"
        );
    }

    #[test]
    fn payload_without_initrd() {
        let mut c = config();
        c.kernel = Some("target/opal-conformance.elf".into());
        c.initrd = None;
        c.append = "conformance.require=xive".into();
        let a = c.args(Console::Captured).join(" ");
        assert_eq!(
            a,
            "-M powernv10 -m 2G -smp 4,cores=2,threads=2 -bios fw.lid \
             -kernel target/opal-conformance.elf -append conformance.require=xive \
             -display none -monitor none -serial stdio -no-reboot"
        );
        c.append.clear();
        assert!(!c.args(Console::Captured).contains(&"-append".to_string()));
    }

    #[test]
    fn interactive_with_gdb() {
        let mut c = config();
        c.gdb = true;
        let a = c.args(Console::Interactive);
        let expected = [
            "-nographic",
            "-serial",
            "mon:stdio",
            "-gdb",
            "tcp:127.0.0.1:1234",
            "-S",
        ];
        assert_eq!(a[a.len() - expected.len()..], expected.map(String::from));
    }
}
