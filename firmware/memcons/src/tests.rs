// SPDX-License-Identifier: Apache-2.0
use super::*;
use std::sync::Arc;

/// What Linux's `memcons_copy` returns for the whole log: from `out_pos` to the end and
/// then from the start when the ring has wrapped, else from the start to `out_pos`.
fn linux_msglog<const OUT: usize, const IN: usize>(mc: &Memcons<OUT, IN>) -> Vec<u8> {
    let h = mc.header_bytes();
    let be32 = |at: usize| u32::from_be_bytes(h[at..at + 4].try_into().unwrap());
    let be64 = |at: usize| u64::from_be_bytes(h[at..at + 8].try_into().unwrap());
    assert_eq!(be64(0), MAGIC, "Linux refuses a console without the magic");
    let size = be32(24) as usize;
    let mut out_pos = be32(32);
    let mut log = Vec::new();
    if out_pos & OUT_POS_WRAP != 0 {
        out_pos &= OUT_POS_MASK;
        log.extend((out_pos as usize..size).map(|i| mc.out_byte(i)));
    }
    assert!(out_pos as usize <= size, "Linux: memory console corruption");
    log.extend((0..out_pos as usize).map(|i| mc.out_byte(i)));
    log
}

#[test]
fn header_bytes_are_the_layout_linux_reads() {
    let mc = Box::new(Memcons::<64, 16>::new());
    assert_eq!(
        mc.header_bytes(),
        [0; HEADER_LEN],
        "nothing visible before publish"
    );
    mc.write(b"hello\n");
    let at = mc.publish();
    assert_eq!(at, &*mc as *const _ as u64);
    let obuf = mc.out.as_ptr() as u64;
    let ibuf = mc.input.as_ptr() as u64;
    let mut golden = Vec::new();
    golden.extend_from_slice(b"f0iegras");
    golden.extend_from_slice(&obuf.to_be_bytes());
    golden.extend_from_slice(&ibuf.to_be_bytes());
    golden.extend_from_slice(&[0, 0, 0, 64, 0, 0, 0, 16]);
    golden.extend_from_slice(&[0, 0, 0, 6]); // out_pos
    golden.extend_from_slice(&[0; 8]); // in_prod, in_cons
    assert_eq!(mc.header_bytes()[..], golden[..]);
    // The rings follow the header where a C reader would put the fields.
    assert_eq!(std::mem::offset_of!(Memcons<64, 16>, out_pos), 32);
    assert_eq!(std::mem::offset_of!(Memcons<64, 16>, in_cons), 40);
}

#[test]
fn lines_written_before_publish_are_kept() {
    let mc = Memcons::<256, 16>::new();
    mc.write(b"[    0.000001,5] OPALITE: first line\n");
    mc.publish();
    mc.write(b"later\n");
    assert_eq!(
        linux_msglog(&mc),
        b"[    0.000001,5] OPALITE: first line\nlater\n"
    );
}

#[test]
fn a_full_ring_keeps_the_newest_bytes_in_order() {
    let mc = Memcons::<16, 4>::new();
    mc.publish();
    mc.write(b"0123456789");
    assert_eq!(
        u32::from_be_bytes(mc.header_bytes()[32..36].try_into().unwrap()),
        10
    );
    mc.write(b"abcdefghij");
    let pos = u32::from_be_bytes(mc.header_bytes()[32..36].try_into().unwrap());
    assert_eq!(pos, OUT_POS_WRAP | 4);
    assert_eq!(linux_msglog(&mc), b"456789abcdefghij");
    // Exactly full, then wrapping at the boundary.
    let mc = Memcons::<8, 4>::new();
    mc.publish();
    mc.write(b"abcdefgh");
    assert_eq!(linux_msglog(&mc), b"abcdefgh");
    mc.write(b"XYZXYZXYZXYZXYZXYZ");
    assert_eq!(linux_msglog(&mc), b"YZXYZXYZ");
}

#[test]
fn concurrent_writers_lose_no_line_and_out_pos_ends_current() {
    const THREADS: usize = 8;
    const LINES: usize = 500;
    for _ in 0..20 {
        let mc = Arc::new(Memcons::<{ 1 << 17 }, 16>::new());
        mc.publish();
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let mc = Arc::clone(&mc);
                std::thread::spawn(move || {
                    for l in 0..LINES {
                        mc.write(format!("cpu {t} line {l:04}\n").as_bytes());
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let log = String::from_utf8(linux_msglog(&*mc)).unwrap();
        assert_eq!(log.len(), mc.written());
        let mut lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), THREADS * LINES);
        lines.sort_unstable();
        lines.dedup();
        assert_eq!(lines.len(), THREADS * LINES, "every line once, none torn");
    }
}

#[test]
fn input_ring_is_read_in_order_and_wraps() {
    let mc = Memcons::<16, 4>::new();
    mc.publish();
    let mut buf = [0u8; 8];
    assert_eq!(mc.read_input(&mut buf), 0);
    mc.feed_input(b"ab");
    assert_eq!(mc.read_input(&mut buf[..1]), 1);
    assert_eq!(&buf[..1], b"a");
    mc.feed_input(b"cd");
    assert_eq!(mc.read_input(&mut buf), 3);
    assert_eq!(&buf[..3], b"bcd");
    assert_eq!(
        u32::from_be_bytes(mc.header_bytes()[40..44].try_into().unwrap()),
        0
    );
}

#[test]
fn bad_input_indices_empty_the_ring_without_reading_out_of_bounds() {
    let mc = Memcons::<16, 4>::new();
    mc.publish();
    mc.in_prod.store(1000u32.to_be(), Ordering::Release);
    let mut buf = [0u8; 8];
    assert_eq!(mc.read_input(&mut buf), 0);
    mc.feed_input(b"ok");
    assert_eq!(mc.read_input(&mut buf), 2);
    assert_eq!(&buf[..2], b"ok");
    mc.in_cons.store(7u32.to_be(), Ordering::Release);
    assert_eq!(mc.read_input(&mut buf), 0);
}
