// SPDX-License-Identifier: Apache-2.0
use super::*;

fn sample() -> Vec<Symbol<'static>> {
    vec![
        Symbol {
            addr: 0x3000_0000,
            kind: b'T',
            name: "_image_start",
        },
        Symbol {
            addr: 0x3000_0010,
            kind: b'T',
            name: "_start",
        },
        Symbol {
            addr: 0x3000_40b0,
            kind: b'T',
            name: "opal_entry",
        },
        Symbol {
            addr: 0x3000_40b0,
            kind: b't',
            name: "opal_entry_alias",
        },
        Symbol {
            addr: 0x3001_0000,
            kind: b't',
            name: "<opalite::cpu::Cpus as hal::cpu::CpuControl>::reinit",
        },
        Symbol {
            addr: 0x3003_fa68,
            kind: b'B',
            name: "MEMLOG",
        },
        Symbol {
            addr: u64::MAX,
            kind: b'b',
            name: "last",
        },
    ]
}

#[test]
fn text_is_nm_format() {
    let t = String::from_utf8(text(&sample())).unwrap();
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[0], "0000000030000000 T _image_start");
    assert_eq!(lines[2], "00000000300040b0 T opal_entry");
    assert_eq!(lines[6], "ffffffffffffffff b last");
    assert!(t.ends_with('\n'));
}

#[test]
fn pack_unpack_round_trip() {
    let s = sample();
    let blob = pack(&s);
    assert_eq!(blob[..4], MAGIC);
    assert_eq!(unpack(&blob, 1 << 20), Ok(text(&s)));
    // The hole is bigger than the map: trailing zeros are ignored.
    let mut holed = blob.clone();
    holed.resize(blob.len() + 100, 0);
    assert_eq!(unpack(&holed, 1 << 20), Ok(text(&s)));
    assert_eq!(unpack(&pack(&[]), 16), Ok(Vec::new()));
}

#[test]
fn lz_round_trips() {
    let mut inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"a".to_vec(),
        b"abcabcabcabcabcabc".to_vec(),
        vec![0; 70_000],
        (0..300u32).map(|i| (i * 7 % 251) as u8).collect(),
    ];
    // Pseudo-random bytes and a text with long-distance repeats.
    let mut x = 0x1234_5678u32;
    inputs.push(
        (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x % 7) as u8 + b'a'
            })
            .collect(),
    );
    for input in &inputs {
        let c = lz_compress(input);
        assert_eq!(lz_decompress(&c, input.len()).as_deref(), Ok(&input[..]));
    }
    assert!(lz_compress(&[0; 70_000]).len() < 2_000);
}

#[test]
fn corrupt_input_is_an_error() {
    let s = sample();
    let blob = pack(&s);
    assert_eq!(unpack(&[], 1 << 20), Err(Error::NotPacked));
    assert_eq!(unpack(&[0; 64], 1 << 20), Err(Error::NotPacked));
    // Truncated, or with a text bigger than allowed.
    assert_eq!(
        unpack(&blob[..blob.len() - 1], 1 << 20),
        Err(Error::Corrupt)
    );
    assert_eq!(unpack(&blob, 10), Err(Error::Corrupt));
    // Every single-byte change of the body either fails or still yields exactly the
    // header's length (a flipped name letter): never a panic or an overrun.
    for i in 4..blob.len() {
        for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut bad = blob.clone();
            bad[i] = v;
            if let Ok(t) = unpack(&bad, 1 << 20) {
                assert_eq!(t.len(), text(&s).len());
            }
        }
    }
    // A back-reference before the start, a zero distance, output past the length.
    assert_eq!(lz_decompress(&[0x80, 0, 1], 3), Err(Error::Corrupt));
    assert_eq!(
        lz_decompress(&[0, b'a', 0x80, 0, 0], 4),
        Err(Error::Corrupt)
    );
    assert_eq!(
        lz_decompress(&[0, b'a', 0x80, 0, 1], 3),
        Err(Error::Corrupt)
    );
    assert_eq!(lz_decompress(&[1, b'a'], 2), Err(Error::Corrupt));
    assert_eq!(lz_decompress(&[0, b'a'], 2), Err(Error::Corrupt));
}
