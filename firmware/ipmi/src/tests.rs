// SPDX-License-Identifier: Apache-2.0
//! Host tests of the BT driver and the typed commands against [`crate::sim`], the model of
//! QEMU's `ipmi_bt.c` + `ipmi_bmc_sim.c`.
use crate::bt::*;
use crate::commands::*;
use crate::sim::{Behaviour, BtSim, IoOp, SimClock};

const B: u16 = BT_IO_BASE;

fn driver<'a>(sim: &'a BtSim, clock: &'a SimClock) -> Bt<&'a BtSim, &'a SimClock> {
    Bt::new(sim, clock, B)
}

/// The bytes the BMC saw for the last request.
fn last_request(sim: &BtSim) -> Vec<u8> {
    sim.requests().1.bytes().to_vec()
}

#[test]
fn chassis_power_down_register_sequence() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    bt.chassis_control(ChassisControl::PowerDown).unwrap();
    assert_eq!(sim.chassis(), (Some(0), 1));

    use IoOp::{In, Out};
    let (ctrl, fifo) = (BT_CTRL, BT_HOST2BMC);
    let expected = [
        In {
            reg: ctrl,
            val: 0x00,
        }, // bt_idle
        Out {
            reg: ctrl,
            val: BT_CTRL_CLR_WR_PTR,
        }, // start of bt_send_msg
        Out { reg: fifo, val: 4 }, // length = 3 + 1 data byte
        Out {
            reg: fifo,
            val: 0x00,
        }, // NetFn chassis << 2 | LUN 0
        Out { reg: fifo, val: 0 }, // seq
        Out {
            reg: fifo,
            val: 0x02,
        }, // Chassis Control
        Out {
            reg: fifo,
            val: 0x00,
        }, // power down
        Out {
            reg: ctrl,
            val: BT_CTRL_H2B_ATN,
        }, // hand over; QEMU answers now
        In {
            reg: ctrl,
            val: BT_CTRL_B2H_ATN,
        }, // poll: response ready
        In {
            reg: ctrl,
            val: BT_CTRL_B2H_ATN,
        }, // bt_set_h_busy(true) reads...
        Out {
            reg: ctrl,
            val: BT_CTRL_H_BUSY,
        }, // ...and toggles
        Out {
            reg: ctrl,
            val: BT_CTRL_B2H_ATN,
        }, // ack B2H_ATN
        Out {
            reg: ctrl,
            val: BT_CTRL_CLR_RD_PTR,
        }, // rewind
        In { reg: fifo, val: 4 },  // length = 4 + 0 data
        In {
            reg: fifo,
            val: 0x04,
        }, // NetFn 0x01 (chassis response)
        In { reg: fifo, val: 0 },  // seq
        In {
            reg: fifo,
            val: 0x02,
        }, // cmd
        In {
            reg: fifo,
            val: 0x00,
        }, // completion code
        In {
            reg: ctrl,
            val: BT_CTRL_H_BUSY,
        }, // bt_set_h_busy(false) reads...
        Out {
            reg: ctrl,
            val: BT_CTRL_H_BUSY,
        }, // ...and toggles back
    ];
    assert_eq!(sim.ops().as_slice(), &expected[..]);
    assert_eq!(sim.ctrl(), 0, "interface left idle, H_BUSY clear");
    assert_eq!(sim.stray_accesses(), 0);
}

#[test]
fn request_frame_encoding() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    bt.set_sel_time(0x6543_2101).unwrap();
    // len, NetFn storage << 2, seq, Set SEL Time, LE seconds.
    assert_eq!(
        last_request(&sim),
        [7, 0x28, 0, 0x49, 0x01, 0x21, 0x43, 0x65]
    );
    bt.chassis_control(ChassisControl::HardReset).unwrap();
    assert_eq!(last_request(&sim), [4, 0x00, 1, 0x02, 0x03]);
    bt.get_device_id().unwrap();
    assert_eq!(last_request(&sim), [3, 0x18, 2, 0x01]);
}

#[test]
fn chassis_actions_reach_the_bmc() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    for (what, byte) in [
        (ChassisControl::PowerDown, 0),
        (ChassisControl::PowerCycle, 2),
        (ChassisControl::HardReset, 3),
    ] {
        bt.chassis_control(what).unwrap();
        assert_eq!(sim.chassis().0, Some(byte));
    }
    assert_eq!(sim.chassis().1, 3);
}

#[test]
fn sequence_numbers_increment_and_wrap() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    for i in 0..300u32 {
        let h = bt.start(&get_sel_time_request()).unwrap();
        assert_eq!(h.seq, i as u8);
        assert_eq!(last_request(&sim)[2], i as u8);
        let r = bt.wait().unwrap();
        assert_eq!(r.seq(), i as u8);
        assert_eq!((r.netfn(), r.cmd()), (NETFN_STORAGE | 1, CMD_GET_SEL_TIME));
    }
}

#[test]
fn sel_time_get_and_set() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    sim.set_sel_time(1_795_264_496);
    assert_eq!(bt.get_sel_time(), Ok(1_795_264_496));
    bt.set_sel_time(0xFFFF_FFFE).unwrap();
    assert_eq!(sim.sel_time(), 0xFFFF_FFFE);
    assert_eq!(bt.get_sel_time(), Ok(0xFFFF_FFFE));
}

#[test]
fn bt_caps_and_device_id() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    assert_eq!(
        bt.get_bt_caps(),
        Ok(BtCaps {
            num_requests: 1,
            input_buf: 0xFF,
            output_buf: 0xFF,
            response_time_s: 10,
            retries: 0
        })
    );
    sim.set_device_id([
        0x20, 0x81, 0x82, 0x45, 0x02, 0x07, 0x4D, 0x4F, 0x01, 0x34, 0x12,
    ]);
    assert_eq!(
        bt.get_device_id(),
        Ok(DeviceId {
            device_id: 0x20,
            device_revision: 1,
            provides_sdrs: true,
            firmware_major: 2,
            device_available: false,
            firmware_minor_bcd: 0x45,
            ipmi_version: 0x02,
            additional_support: 0x07,
            manufacturer_id: 0x1_4F4D,
            product_id: 0x1234,
        })
    );
}

#[test]
fn unknown_command_gives_completion_c1() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    let mut buf = [0u8; 8];
    assert_eq!(
        bt.transact(0x06, 0x99, &[], &mut buf),
        Ok((cc::INVALID_CMD, 0))
    );
    assert_eq!(
        bt.transact(0x2C, 0x00, &[1, 2], &mut buf),
        Ok((cc::INVALID_CMD, 0))
    );
    // Bad chassis action and short Set SEL Time data.
    assert_eq!(
        bt.transact(0x00, 0x02, &[0x09], &mut buf),
        Ok((cc::INVALID_DATA_FIELD, 0))
    );
    assert_eq!(bt.transact(0x0A, 0x49, &[1, 2], &mut buf), Ok((0xC7, 0)));
    // The typed helpers turn a completion code into an error.
    let r = bt.request(&Request::new(0x06, 0x99, &[]).unwrap()).unwrap();
    assert_eq!(parse_chassis_control(&r), Err(BtError::Completion(0xC1)));
    assert_eq!(parse_sel_time(&r), Err(BtError::Completion(0xC1)));
}

#[test]
fn transact_copies_data() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    sim.set_sel_time(0x0403_0201);
    let mut buf = [0u8; 8];
    assert_eq!(bt.transact(0x0A, 0x48, &[], &mut buf), Ok((0, 4)));
    assert_eq!(&buf[..4], &[1, 2, 3, 4]);
    let mut small = [0u8; 3];
    assert_eq!(
        bt.transact(0x0A, 0x48, &[], &mut small),
        Err(BtError::BufferTooSmall { needed: 4 })
    );
    assert!(bt.in_flight().is_none());
}

#[test]
fn timeout_when_bmc_never_answers() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(1_000); // 1 ms per clock read
    let mut bt = driver(&sim, &clock);
    assert_eq!(bt.get_sel_time(), Err(BtError::Timeout));
    assert!(clock.peek() >= DEFAULT_TIMEOUT_US);
    assert!(clock.peek() < DEFAULT_TIMEOUT_US + 10_000);
    assert!(bt.in_flight().is_none());
    // The request went out once, and the interface was reset afterwards (skiboot).
    assert_eq!(sim.requests().0, 1);
    assert!(sim.ops().as_slice().contains(&IoOp::Out {
        reg: BT_INTMASK,
        val: BT_INTMASK_BMC_HWRST
    }));
    assert_eq!(sim.ctrl() & BT_CTRL_H_BUSY, 0);
}

#[test]
fn timeout_even_with_a_stuck_clock() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(0);
    let mut bt = driver(&sim, &clock).with_poll_limit(1_000);
    assert_eq!(
        bt.chassis_control(ChassisControl::PowerDown),
        Err(BtError::Timeout)
    );
    assert_eq!(clock.relaxes(), 999);
    assert!(bt.in_flight().is_none());
}

#[test]
fn custom_timeout() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(10);
    let mut bt = driver(&sim, &clock).with_timeout_us(1_000);
    assert_eq!(bt.get_sel_time(), Err(BtError::Timeout));
    assert!(clock.peek() < 2_000);
}

#[test]
fn bmc_busy_until_deadline_means_not_sent() {
    let sim = BtSim::default();
    sim.set_bmc_busy(true);
    let clock = SimClock::new(1_000);
    let mut bt = driver(&sim, &clock);
    assert_eq!(
        bt.chassis_control(ChassisControl::PowerDown),
        Err(BtError::BmcBusy)
    );
    assert_eq!(sim.requests().0, 0, "nothing handed to the BMC");
    assert!(!sim.ops().as_slice().iter().any(|op| matches!(
        op,
        IoOp::Out {
            reg: BT_HOST2BMC,
            ..
        }
    )));
    assert_eq!(sim.chassis(), (None, 0));
}

#[test]
fn request_waits_for_b_busy_to_clear() {
    let sim = BtSim::default();
    sim.set_bmc_busy(true);
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    let h = bt.start(&ChassisControl::PowerDown.request()).unwrap();
    assert_eq!(bt.in_flight(), Some(h));
    assert_eq!(bt.poll(), None);
    assert_eq!(bt.poll(), None);
    assert_eq!(sim.requests().0, 0);
    sim.set_bmc_busy(false);
    let r = bt.poll().unwrap().unwrap();
    assert_eq!(parse_chassis_control(&r), Ok(()));
    assert_eq!(sim.chassis(), (Some(0), 1));
}

#[test]
fn split_api_power_down_completes_from_later_polls() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::AfterCtrlReads(5));
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    // OPAL_CEC_POWER_DOWN: start and return to the OS at once.
    let h = bt.start(&ChassisControl::PowerDown.request()).unwrap();
    assert_eq!(
        h,
        RequestHandle {
            seq: 0,
            netfn: NETFN_CHASSIS,
            cmd: CMD_CHASSIS_CONTROL
        }
    );
    // Later OPAL_POLL_EVENTS calls.
    let mut polls = 0;
    let r = loop {
        polls += 1;
        if let Some(done) = bt.poll() {
            break done.unwrap();
        }
        assert!(polls < 100);
    };
    assert!(polls > 1, "the slow BMC needed several polls");
    assert_eq!(parse_chassis_control(&r), Ok(()));
    assert_eq!(bt.in_flight(), None);
    assert_eq!(bt.poll(), Some(Err(BtError::NoRequest)));
}

#[test]
fn one_request_at_a_time() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    bt.start(&get_sel_time_request()).unwrap();
    assert_eq!(bt.start(&get_sel_time_request()), Err(BtError::Busy));
    let mut buf = [0; 4];
    assert_eq!(bt.transact(0x0A, 0x48, &[], &mut buf), Err(BtError::Busy));
    bt.abort();
    assert_eq!(bt.in_flight(), None);
    assert_eq!(bt.poll(), Some(Err(BtError::NoRequest)));
}

#[test]
fn stale_response_is_dropped_and_ours_is_taken() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    let h = bt.start(&get_sel_time_request()).unwrap();
    // An answer to someone else's (e.g. a timed-out) request.
    sim.inject_response(&[8, 0x2C, h.seq.wrapping_add(0x55), 0x48, 0, 9, 9, 9, 9]);
    assert_eq!(bt.poll(), None);
    assert_eq!(bt.stale_responses(), 1);
    assert_eq!(sim.ctrl(), 0, "stale response acknowledged, H_BUSY clear");
    sim.inject_response(&[8, 0x2C, h.seq, 0x48, 0, 0x78, 0x56, 0x34, 0x12]);
    let r = bt.poll().unwrap().unwrap();
    assert_eq!(parse_sel_time(&r), Ok(0x1234_5678));
}

#[test]
fn leftover_response_is_flushed_before_sending() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    // A late answer arrives while the BMC is busy with something else.
    sim.inject_response(&[4, 0x04, 0x00, 0x02, 0x00]);
    sim.set_bmc_busy(true);
    bt.start(&get_sel_time_request()).unwrap();
    assert_eq!(bt.poll(), None);
    assert_eq!(bt.stale_responses(), 1);
    assert_eq!(sim.ctrl() & BT_CTRL_B2H_ATN, 0);
    sim.set_bmc_busy(false);
    sim.set_sel_time(77);
    assert_eq!(bt.poll().unwrap().map(|r| parse_sel_time(&r)), Ok(Ok(77)));
}

#[test]
fn leftover_response_is_flushed_by_start() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    sim.inject_response(&[4, 0x04, 0x00, 0x02, 0x00]); // looks like seq 0, our first
    sim.set_sel_time(9);
    assert_eq!(bt.get_sel_time(), Ok(9));
    assert_eq!(bt.stale_responses(), 1);
    assert_eq!(sim.requests().0, 1);
}

#[test]
fn mismatched_netfn_or_cmd_is_a_bad_response() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    let h = bt.start(&get_sel_time_request()).unwrap();
    sim.inject_response(&[4, 0x2C, h.seq, 0x49, 0]);
    assert_eq!(
        bt.poll(),
        Some(Err(BtError::BadResponse(BadResponse::Mismatch {
            netfn: 0x0B,
            cmd: 0x49
        })))
    );
    // NetFn not in response form (request NetFn echoed back).
    let h = bt.start(&get_sel_time_request()).unwrap();
    sim.inject_response(&[4, 0x28, h.seq, 0x48, 0]);
    assert_eq!(
        bt.poll(),
        Some(Err(BtError::BadResponse(BadResponse::Mismatch {
            netfn: 0x0A,
            cmd: 0x48
        })))
    );
    assert_eq!(bt.in_flight(), None);
}

#[test]
fn short_length_byte_is_a_bad_response() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    for len in [0u8, 1, 3] {
        bt.start(&get_sel_time_request()).unwrap();
        sim.inject_response(&[len, 0x2C, 0, 0x48]);
        assert_eq!(
            bt.poll(),
            Some(Err(BtError::BadResponse(BadResponse::ShortLength(len))))
        );
        assert_eq!(sim.ctrl() & (BT_CTRL_H_BUSY | BT_CTRL_B2H_ATN), 0);
    }
}

#[test]
fn long_length_byte_reads_past_the_response() {
    // QEMU returns 0xFF once the response is exhausted; the driver reads exactly `len`
    // bytes and a typed parser rejects the result.
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    let h = bt.start(&get_sel_time_request()).unwrap();
    sim.inject_response(&[12, 0x2C, h.seq, 0x48, 0, 1, 2, 3, 4]);
    let r = bt.poll().unwrap().unwrap();
    assert_eq!(r.data(), &[1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF]);
    assert_eq!(
        parse_sel_time(&r),
        Err(BtError::BadResponse(BadResponse::DataLength {
            expected: 4,
            got: 8
        }))
    );
}

#[test]
fn typed_parsers_check_data_length() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    let h = bt.start(&get_sel_time_request()).unwrap();
    sim.inject_response(&[7, 0x2C, h.seq, 0x48, 0, 1, 2, 3]);
    let r = bt.poll().unwrap().unwrap();
    assert_eq!(
        parse_sel_time(&r),
        Err(BtError::BadResponse(BadResponse::DataLength {
            expected: 4,
            got: 3
        }))
    );
    let h = bt.start(&get_device_id_request()).unwrap();
    sim.inject_response(&[9, 0x1C, h.seq, 0x01, 0, 1, 2, 3, 4, 5]);
    let r = bt.poll().unwrap().unwrap();
    assert_eq!(
        parse_device_id(&r),
        Err(BtError::BadResponse(BadResponse::DataLength {
            expected: 11,
            got: 5
        }))
    );
}

#[test]
fn request_validation() {
    assert_eq!(Request::new(0x07, 0, &[]), Err(BtError::InvalidNetFn(0x07)));
    assert_eq!(Request::new(0x40, 0, &[]), Err(BtError::InvalidNetFn(0x40)));
    let big = [0u8; MAX_REQ_DATA + 1];
    assert_eq!(
        Request::new(0x06, 0, &big),
        Err(BtError::RequestTooLong {
            len: MAX_REQ_DATA + 1
        })
    );
    let max = Request::new(0x06, 0x42, &big[..MAX_REQ_DATA]).unwrap();
    assert_eq!(max.data().len(), 252);
    assert_eq!(set_sel_time_request(0x0102_0304).data(), &[4, 3, 2, 1]);
    assert_eq!(ChassisControl::PowerCycle.request().data(), &[2]);
}

#[test]
fn max_length_request_is_framed() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    let data: Vec<u8> = (0..MAX_REQ_DATA as u8).collect();
    let mut buf = [0u8; 4];
    // Unknown command, but the BMC parsed the 255-byte length correctly.
    assert_eq!(bt.transact(0x2E, 0x01, &data, &mut buf), Ok((0xC1, 0)));
    let req = last_request(&sim);
    assert_eq!(req.len(), 256);
    assert_eq!(req[0], 255);
    assert_eq!(&req[4..], &data[..]);
}

#[test]
fn init_clears_stuck_h_busy_and_leftover_response() {
    let sim = BtSim::default();
    sim.set_ctrl_bits(BT_CTRL_H_BUSY);
    sim.inject_response(&[4, 0x04, 0x00, 0x02, 0x00]);
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    bt.init();
    assert_eq!(sim.ctrl(), 0);
    assert_eq!(bt.stale_responses(), 1);
    // B2H interrupt acknowledged and left disabled.
    assert_eq!(sim.intmask() & BT_INTMASK_B2H_IRQEN, 0);
    // An idle interface is left alone apart from the INTMASK write and reads.
    sim.clear_ops();
    bt.init();
    let writes: Vec<_> = sim
        .ops()
        .as_slice()
        .iter()
        .filter(|o| matches!(o, IoOp::Out { .. }))
        .copied()
        .collect();
    assert_eq!(
        writes,
        [IoOp::Out {
            reg: BT_INTMASK,
            val: BT_INTMASK_B2H_IRQ
        }]
    );
}

#[test]
fn irq_enable_follows_qemu() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    bt.set_irq_enabled(true);
    assert!(!sim.irq_raised());
    bt.get_sel_time().unwrap();
    assert!(sim.irq_raised(), "a response raises B2H_IRQ when enabled");
    bt.set_irq_enabled(true); // ack
    assert!(!sim.irq_raised());
    bt.set_irq_enabled(false);
    bt.get_sel_time().unwrap();
    assert!(!sim.irq_raised());
}

#[test]
fn sms_atn_is_taken_once() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = driver(&sim, &clock);
    assert!(!bt.take_sms_atn());
    sim.set_ctrl_bits(BT_CTRL_SMS_ATN);
    assert!(bt.take_sms_atn());
    assert!(!bt.take_sms_atn());
    assert_eq!(sim.ctrl(), 0);
}

#[test]
fn other_base_address() {
    let sim = BtSim::new(0x1E4);
    let clock = SimClock::new(1);
    let mut bt = Bt::new(&sim, &clock, 0x1E4);
    assert_eq!(bt.base(), 0x1E4);
    sim.set_sel_time(5);
    assert_eq!(bt.get_sel_time(), Ok(5));
    assert_eq!(sim.stray_accesses(), 0);
}

// ---- the model itself, where QEMU's behaviour matters to the driver ----

fn raw_send(sim: &BtSim, frame: &[u8]) {
    sim.outb(B + BT_CTRL, BT_CTRL_CLR_WR_PTR);
    for &b in frame {
        sim.outb(B + BT_HOST2BMC, b);
    }
    sim.outb(B + BT_CTRL, BT_CTRL_H2B_ATN);
}

#[test]
fn model_bad_request_length_leaves_b_busy_set() {
    let sim = BtSim::default();
    raw_send(&sim, &[5, 0x28, 0, 0x48]); // says 5, has 3
    assert_eq!(sim.ctrl(), BT_CTRL_B_BUSY);
    raw_send(&sim, &[2, 0x28, 0]); // shorter than 4 bytes
    assert_eq!(sim.ctrl(), BT_CTRL_B_BUSY);
    // The driver then cannot send and reports BmcBusy, not a hang.
    let clock = SimClock::new(10_000);
    let mut bt = driver(&sim, &clock);
    assert_eq!(bt.get_sel_time(), Err(BtError::BmcBusy));
}

#[test]
fn model_lun_and_h_busy_toggle() {
    let sim = BtSim::default();
    raw_send(&sim, &[3, 0x29, 7, 0x48]); // LUN 1
    assert_eq!(sim.ctrl(), BT_CTRL_B2H_ATN);
    let resp: Vec<u8> = (0..5).map(|_| sim.inb(B + BT_HOST2BMC)).collect();
    assert_eq!(resp, [4, 0x2D, 7, 0x48, 0xC2]);
    assert_eq!(sim.inb(B + BT_HOST2BMC), 0xFF, "past the end");
    // CLR_RD_PTR does not bring back a fully read response (QEMU empties it).
    sim.outb(B + BT_CTRL, BT_CTRL_CLR_RD_PTR);
    assert_eq!(sim.inb(B + BT_HOST2BMC), 0xFF);
    // H_BUSY toggles on each write of 1; B2H_ATN is write-1-to-clear.
    sim.outb(B + BT_CTRL, BT_CTRL_H_BUSY);
    assert_eq!(sim.ctrl(), BT_CTRL_B2H_ATN | BT_CTRL_H_BUSY);
    sim.outb(B + BT_CTRL, BT_CTRL_H_BUSY | BT_CTRL_B2H_ATN);
    assert_eq!(sim.ctrl(), 0);
}
