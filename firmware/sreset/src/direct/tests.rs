// SPDX-License-Identifier: Apache-2.0
//! Host tests of the direct controls: PIR decoding, error codes, and (against
//! [`crate::model`]) the register sequences.

use super::*;

const P9: Generation = Generation::P9;
const P10: Generation = Generation::P10;

fn thread(chip: u32, core: u32, thread: u32) -> ThreadId {
    ThreadId { chip, core, thread }
}

// ----- PIR -------------------------------------------------------------------------------

#[test]
fn p9_pir_as_qemu_powernv9_numbers_threads() {
    // QEMU: chip_id << 8 | core << 2 | thread.
    assert_eq!(ThreadId::from_pir(P9, 0x0000), Some(thread(0, 0, 0)));
    assert_eq!(ThreadId::from_pir(P9, 0x0006), Some(thread(0, 1, 2)));
    assert_eq!(ThreadId::from_pir(P9, 0x010e), Some(thread(1, 3, 2)));
    assert_eq!(ThreadId::from_pir(P9, 0x005f), Some(thread(0, 23, 3)));
    // GCID 0x7f is the widest chip id: node 15, chip 7.
    assert_eq!(ThreadId::from_pir(P9, 0x7f00), Some(thread(0x7f, 0, 0)));
}

#[test]
fn p10_pir_as_qemu_powernv10_numbers_threads() {
    assert_eq!(ThreadId::from_pir(P10, 0x0013), Some(thread(0, 4, 3)));
    assert_eq!(ThreadId::from_pir(P10, 0x017d), Some(thread(1, 31, 1)));
    assert_eq!(ThreadId::from_pir(P10, 0x0f00), Some(thread(15, 0, 0)));
}

#[test]
fn pirs_that_name_no_smt4_thread_are_refused() {
    // P9 has 24 cores: 24..63 (including anything with reserved bit 56) do not exist.
    assert_eq!(ThreadId::from_pir(P9, 24 << 2), None);
    assert_eq!(ThreadId::from_pir(P9, 0x80), None);
    assert_eq!(ThreadId::from_pir(P9, 1 << 15), None);
    // P10: spare bit 56 and the spare bits above the topology id.
    assert_eq!(ThreadId::from_pir(P10, 0x80), None);
    assert_eq!(ThreadId::from_pir(P10, 1 << 12), None);
    assert_eq!(ThreadId::from_pir(P10, u32::MAX), None);
}

#[test]
fn pir_round_trips() {
    for gen in [P9, P10] {
        let chips = if gen == P9 { 0x80 } else { 0x10 };
        for chip in 0..chips {
            for core in 0..gen.cores_per_chip() {
                for t in 0..THREADS_PER_CORE {
                    let id = thread(chip, core, t);
                    assert_eq!(ThreadId::from_pir(gen, id.pir(gen)), Some(id));
                }
            }
        }
    }
}

// ----- errors ----------------------------------------------------------------------------

#[test]
fn only_busy_is_opal_busy() {
    let t = thread(0, 0, 0);
    let core = t.core_id();
    assert_eq!(SresetError::Busy.opal_error(), OpalError::Busy);
    assert_eq!(OpalError::from(SresetError::Busy).code(), -2);
    for e in [
        SresetError::InvalidThread(t),
        SresetError::WakeupTimeout(core),
        SresetError::CoreGated(core),
        SresetError::QuiesceTimeout(t),
        SresetError::ContinueTimeout(t),
        SresetError::Scom {
            chip: 0,
            pcba: 0,
            error: ScomError::Timeout,
        },
        SresetError::TableFull,
    ] {
        assert_eq!(e.opal_error(), OpalError::Hardware, "{e:?}");
        assert_eq!(e.opal_error().code(), -6);
    }
}
