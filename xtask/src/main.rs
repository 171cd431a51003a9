//! `cargo xtask`: Opalite's single entry point to build the firmware, boot it on QEMU
//! and run the tests. See `cargo xtask help`.

mod args;
mod bench;
mod conformance;
mod debian;
mod elf;
mod firmware;
mod flashimg;
mod harness;
mod initramfs;
mod pcirig;
mod pnor_check;
mod qemu;
mod scenarios;
mod stall;
mod symmap;
mod tbprog;
mod testrun;
mod toolchain;
mod torture;
mod util;

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use args::{Cmd, RunOpts};
use qemu::{Console, QemuConfig};
use util::Result;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = args::parse(argv).and_then(|cmd| match cmd {
        Cmd::Help => {
            print!("{}", args::USAGE);
            Ok(true)
        }
        Cmd::Build { debug } => firmware::build(debug, firmware::Output::Terminal).map(|_| true),
        Cmd::Run(opts) => run(&opts).map(|()| true),
        Cmd::Test(opts) => testrun::run(&opts),
        Cmd::Conformance(opts) => conformance::run(&opts),
        Cmd::Bench(opts) => bench::run(&opts),
        Cmd::Fuzz(opts) => torture::fuzz(&opts),
        Cmd::Torture(opts) => torture::torture(&opts),
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask run`: prepares everything, then replaces this process with QEMU.
fn run(opts: &RunOpts) -> Result<()> {
    let root = util::repo_root();
    let qemu = toolchain::ensure_qemu()?;
    let (firmware, elf) = match &opts.firmware {
        Some(path) => (path.clone(), None),
        None => {
            let built = firmware::build(opts.debug, firmware::Output::Terminal)?;
            (built.image, Some(built.elf))
        }
    };
    // Only go to Debian for what the user did not supply.
    let kernel = match &opts.kernel {
        Some(k) => k.clone(),
        None => debian::DebCache::open()?.kernel()?,
    };
    let initrd = match &opts.initrd {
        Some(i) => i.clone(),
        None if opts.pci => {
            let debian = debian::DebCache::open()?;
            let md5s = pcirig::build(&root)?;
            initramfs::build_pci_image(&debian, &debian.busybox()?, md5s)?
        }
        None => {
            let path = root.join(initramfs::IMAGE);
            initramfs::build(&debian::DebCache::open()?.busybox()?, &path)?;
            path
        }
    };
    let devices = if opts.pci {
        if opts.initrd.is_some() {
            pcirig::build(&root)?;
        }
        let disks = pcirig::copy_for_run(&root, &root.join(pcirig::DIR).join("run"))?;
        eprintln!(
            "xtask: nvme disk {} (Linux: nvme0n1), virtio-blk disk {} (vda), e1000e eth0 on QEMU's user network",
            disks[0].display(),
            disks[1].display()
        );
        pcirig::PciRig::OnePerPhb.qemu_args(&disks)
    } else {
        Vec::new()
    };
    let append = match &opts.append {
        Some(extra) => format!("console=hvc0 {extra}"),
        None => "console=hvc0".to_string(),
    };
    let config = QemuConfig {
        machine: opts.machine,
        smp: opts.smp.clone(),
        memory: opts.memory.clone(),
        firmware,
        kernel: Some(kernel),
        initrd: Some(initrd),
        append,
        flash: None,
        devices,
        gdb: opts.gdb,
        guest_may_reboot: false,
    };
    let mut cmd = Command::new(qemu);
    cmd.args(config.args(Console::Interactive));
    if opts.gdb {
        let symbols = elf.map(|e| format!("{} ", e.display())).unwrap_or_default();
        eprintln!(
            "xtask: QEMU waits for gdb; attach with:\n  gdb-multiarch {symbols}-ex 'target remote {}'",
            qemu::GDB_ADDR
        );
    }
    eprintln!("xtask: Ctrl-A X quits QEMU, Ctrl-A C switches to its monitor");
    eprintln!("+ {}", util::show(&cmd));
    let err = cmd.exec();
    Err(util::Error(format!("cannot start QEMU: {err}")))
}
