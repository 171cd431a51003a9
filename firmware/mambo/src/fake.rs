// SPDX-License-Identifier: Apache-2.0
//! Test doubles for the simulator. [`ScriptedSim`] answers a fixed list of expected
//! callthrus and panics on the first call that differs from the script (command number,
//! any argument, or a buffer address that is not the buffer's). [`DiskSim`] models bogus
//! disks and logs every call, for the multi-sector paths where a script would be longer
//! than the code under test.

use std::collections::VecDeque;
use std::vec::Vec;

use crate::callthru::{self, Buffer, SimCallthru};
use crate::disk::SECTOR_SIZE;

/// What one argument register must hold.
#[derive(Clone, Copy, Debug)]
pub enum Arg {
    Is(u64),
    /// The real address of the buffer passed with the call.
    BufferAddress,
}

struct Step {
    cmd: u64,
    args: [Arg; 3],
    reply: i64,
    fill: Option<Vec<u8>>,
}

#[derive(Default)]
pub struct ScriptedSim {
    script: VecDeque<Step>,
    sent: Vec<Vec<u8>>,
}

impl ScriptedSim {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn expect(&mut self, cmd: u64, args: [Arg; 3], reply: i64) -> &mut Self {
        self.script.push_back(Step {
            cmd,
            args,
            reply,
            fill: None,
        });
        self
    }

    /// Like `expect`, and the simulator writes `fill` into the call's buffer.
    pub fn expect_filling(&mut self, cmd: u64, args: [Arg; 3], reply: i64, fill: &[u8]) {
        self.script.push_back(Step {
            cmd,
            args,
            reply,
            fill: Some(fill.to_vec()),
        });
    }

    /// Every buffer the simulator was given to read, in order.
    pub fn sent(&self) -> &[Vec<u8>] {
        &self.sent
    }
}

impl SimCallthru for ScriptedSim {
    fn call(&mut self, cmd: u64, args: [u64; 3], buffer: Buffer<'_>) -> i64 {
        let step = self
            .script
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected callthru {cmd} {args:#x?}"));
        assert_eq!(cmd, step.cmd, "command number (args {args:#x?})");
        for (i, (got, want)) in args.iter().zip(step.args).enumerate() {
            let want = match want {
                Arg::Is(v) => v,
                Arg::BufferAddress => buffer.address(),
            };
            assert_eq!(
                *got,
                want,
                "callthru {cmd}: r{} is {got:#x}, wanted {want:#x}",
                i + 4
            );
        }
        match buffer {
            Buffer::ToSim(b) => self.sent.push(b.to_vec()),
            Buffer::FromSim(b) => {
                let fill = step.fill.expect("the script does not say what to write");
                b.copy_from_slice(&fill);
            }
            Buffer::None => assert!(step.fill.is_none(), "callthru {cmd} has no buffer to fill"),
        }
        step.reply
    }
}

impl Drop for ScriptedSim {
    fn drop(&mut self) {
        if !std::thread::panicking() && !self.script.is_empty() {
            panic!(
                "{} scripted callthrus never came, the first {}",
                self.script.len(),
                self.script[0].cmd
            );
        }
    }
}

/// One logged disk transfer: (command, first sector, sector count, disk id, into or from
/// a buffer of the right size at the address given).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub cmd: u64,
    pub sector: u64,
    pub nsect: u64,
    pub disk: u64,
}

/// Bogus disks as the simulator has them: `disks[id]` is disk `id`'s content.
pub struct DiskSim {
    pub disks: Vec<Vec<u8>>,
    pub transfers: Vec<Transfer>,
    pub info_calls: Vec<(u64, u64)>,
}

impl DiskSim {
    pub fn new(disks: Vec<Vec<u8>>) -> Self {
        DiskSim {
            disks,
            transfers: Vec::new(),
            info_calls: Vec::new(),
        }
    }
}

impl SimCallthru for DiskSim {
    fn call(&mut self, cmd: u64, args: [u64; 3], buffer: Buffer<'_>) -> i64 {
        match cmd {
            callthru::BOGUS_DISK_INFO => {
                assert!(matches!(buffer, Buffer::None));
                assert_eq!(args[2], 0, "INFO takes two arguments");
                self.info_calls.push((args[0], args[1]));
                let Some(disk) = self.disks.get(args[1] as usize) else {
                    return -1;
                };
                match args[0] {
                    1 => 0,
                    2 => SECTOR_SIZE as i64,
                    3 => (disk.len() / 1024) as i64,
                    op => panic!("INFO op {op} not modelled"),
                }
            }
            callthru::BOGUS_DISK_READ | callthru::BOGUS_DISK_WRITE => {
                let [address, sector, packed] = args;
                let (nsect, disk) = (packed >> 16, packed & 0xffff);
                assert_eq!(address, buffer.address(), "r4 must be the buffer's address");
                let len = nsect as usize * SECTOR_SIZE;
                assert_eq!(buffer.len(), len, "the buffer must be nsect sectors");
                self.transfers.push(Transfer {
                    cmd,
                    sector,
                    nsect,
                    disk,
                });
                let image = &mut self.disks[disk as usize];
                let at = sector as usize * SECTOR_SIZE;
                assert!(
                    at + len <= image.len(),
                    "transfer past the end of disk {disk}"
                );
                match (cmd, buffer) {
                    (callthru::BOGUS_DISK_READ, Buffer::FromSim(b)) => {
                        b.copy_from_slice(&image[at..at + len])
                    }
                    (callthru::BOGUS_DISK_WRITE, Buffer::ToSim(b)) => {
                        image[at..at + len].copy_from_slice(b)
                    }
                    _ => panic!("callthru {cmd} with the wrong buffer direction"),
                }
                0
            }
            _ => panic!("unexpected callthru {cmd} on the disk model"),
        }
    }
}
