// SPDX-License-Identifier: Apache-2.0
//! Host tests of the OS's IPMI channel against [`crate::sim`].
use crate::bt::*;
use crate::commands::ChassisControl;
use crate::os::*;
use crate::sim::{Behaviour, BtSim, SimClock};

const DEVICE_ID: [u8; 11] = [
    0x20, 0x01, 0x02, 0x03, 0x02, 0xBF, 0x4F, 0x1A, 0x00, 0x34, 0x12,
];

fn get_device_id() -> Request {
    Request::new(0x06, 0x01, &[]).unwrap()
}

#[test]
fn request_with_an_immediate_answer_is_ready_after_send() {
    let sim = BtSim::default();
    sim.set_device_id(DEVICE_ID);
    let clock = SimClock::new(1);
    let mut bt = Bt::new(&sim, &clock, BT_IO_BASE);
    let mut os = OsChannel::new();
    assert!(os.take().is_none(), "nothing before a request");
    os.send(&mut bt, &get_device_id()).unwrap();
    assert!(os.reply_ready());
    assert!(!os.busy());
    let r = os.take().unwrap();
    assert_eq!(r.netfn_lun(), 0x07 << 2, "App response NetFn, LUN 0");
    assert_eq!(r.cmd(), 0x01);
    assert_eq!(r.bytes()[0], 0, "completion code first");
    assert_eq!(&r.bytes()[1..], &DEVICE_ID);
    assert!(!os.reply_ready());
    assert!(os.take().is_none(), "a reply is taken once");
    assert!(bt.in_flight().is_none());
}

#[test]
fn slow_bmc_answers_through_poll_and_a_second_send_is_refused() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::AfterCtrlReads(3));
    let clock = SimClock::new(1);
    let mut bt = Bt::new(&sim, &clock, BT_IO_BASE);
    let mut os = OsChannel::new();
    os.send(&mut bt, &get_device_id()).unwrap();
    assert!(os.busy() && !os.reply_ready());
    assert_eq!(os.send(&mut bt, &get_device_id()), Err(BtError::Busy));
    for _ in 0..10 {
        os.poll(&mut bt);
    }
    assert!(os.reply_ready());
    assert_eq!(os.take().unwrap().bytes()[0], 0);
    assert_eq!(
        sim.requests().0,
        1,
        "the refused request never reached the BMC"
    );
}

#[test]
fn unanswered_request_times_out_with_c3() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(1000);
    let mut bt = Bt::new(&sim, &clock, BT_IO_BASE).with_timeout_us(50_000);
    let mut os = OsChannel::new();
    os.send(&mut bt, &Request::new(0x0A, 0x48, &[]).unwrap())
        .unwrap();
    let mut polls = 0;
    while !os.reply_ready() {
        os.poll(&mut bt);
        polls += 1;
        assert!(polls < 1000, "timeout never came");
    }
    let r = os.take().unwrap();
    assert_eq!((r.netfn_lun(), r.cmd()), (0x0B << 2, 0x48));
    assert_eq!(r.bytes(), &[IPMI_TIMEOUT_ERR]);
    assert!(
        bt.in_flight().is_none(),
        "the BT is free for the next request"
    );
}

#[test]
fn settle_waits_boundedly_even_for_a_dead_bmc() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::Never);
    let clock = SimClock::new(0); // a stuck clock: only the poll budget ends the wait
    let mut bt = Bt::new(&sim, &clock, BT_IO_BASE).with_poll_limit(100);
    let mut os = OsChannel::new();
    os.send(&mut bt, &get_device_id()).unwrap();
    os.settle(&mut bt);
    assert_eq!(os.take().unwrap().bytes(), &[IPMI_TIMEOUT_ERR]);
    assert!(bt.in_flight().is_none());
}

#[test]
fn power_request_preempts_the_os_request_which_gets_an_error_reply() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::AfterCtrlReads(5));
    let clock = SimClock::new(1);
    let mut bt = Bt::new(&sim, &clock, BT_IO_BASE);
    let mut os = OsChannel::new();
    os.send(&mut bt, &get_device_id()).unwrap();
    os.preempt(&mut bt);
    assert!(bt.in_flight().is_none());
    bt.start(&ChassisControl::PowerDown.request()).unwrap();
    let r = os.take().unwrap();
    assert_eq!((r.netfn_lun(), r.cmd()), (0x07 << 2, 0x01));
    assert_eq!(r.bytes(), &[IPMI_TIMEOUT_ERR]);
    // The chassis request finishes; the late Device ID answer is dropped as stale.
    while bt.poll().is_none() {}
    assert_eq!(sim.chassis().0, Some(0));
}

#[test]
fn request_waits_behind_a_firmware_request() {
    let sim = BtSim::default();
    sim.set_behaviour(Behaviour::AfterCtrlReads(2));
    let clock = SimClock::new(1);
    let mut bt = Bt::new(&sim, &clock, BT_IO_BASE);
    let mut os = OsChannel::new();
    bt.start(&ChassisControl::PowerUp.request()).unwrap();
    os.send(&mut bt, &get_device_id()).unwrap();
    assert!(os.busy());
    os.poll(&mut bt);
    assert_eq!(
        sim.requests().0,
        1,
        "still queued behind the chassis request"
    );
    let fw = loop {
        if let Some(done) = bt.poll() {
            break done;
        }
    };
    assert_eq!(fw.unwrap().cmd(), 0x02);
    for _ in 0..10 {
        os.poll(&mut bt);
    }
    let r = os.take().unwrap();
    assert_eq!((r.netfn_lun(), r.bytes()[0]), (0x07 << 2, 0));
    assert_eq!(sim.requests().0, 2);
}

#[test]
fn a_new_request_replaces_a_reply_nobody_took() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = Bt::new(&sim, &clock, BT_IO_BASE);
    let mut os = OsChannel::new();
    os.send(&mut bt, &get_device_id()).unwrap();
    os.send(&mut bt, &Request::new(0x0A, 0x48, &[]).unwrap())
        .unwrap();
    assert_eq!(os.dropped_replies(), 1);
    assert_eq!(os.take().unwrap().cmd(), 0x48);
}

#[test]
fn bad_answer_gets_ff_and_unknown_commands_pass_the_bmc_code_through() {
    let sim = BtSim::default();
    let clock = SimClock::new(1);
    let mut bt = Bt::new(&sim, &clock, BT_IO_BASE);
    let mut os = OsChannel::new();
    os.send(&mut bt, &Request::new(0x2C, 0x00, &[]).unwrap())
        .unwrap();
    let r = os.take().unwrap();
    assert_eq!((r.netfn_lun(), r.bytes()), (0x2D << 2, &[0xC1][..]));

    // An answer with our sequence number but another command.
    sim.set_behaviour(Behaviour::Never);
    os.send(&mut bt, &get_device_id()).unwrap();
    let seq = bt.in_flight().unwrap().seq;
    sim.inject_response(&[4, 0x07 << 2, seq, 0x02, 0]);
    os.poll(&mut bt);
    assert_eq!(os.take().unwrap().bytes(), &[IPMI_ERR_UNSPECIFIED]);
}

#[test]
fn a_thousand_back_to_back_requests_with_firmware_traffic_between() {
    let sim = BtSim::default();
    sim.set_device_id(DEVICE_ID);
    let clock = SimClock::new(1);
    let mut bt = Bt::new(&sim, &clock, BT_IO_BASE);
    let mut os = OsChannel::new();
    let mut answered = 0;
    for i in 0..1000u32 {
        if i % 7 == 0 {
            sim.set_behaviour(Behaviour::AfterCtrlReads(i % 3));
        }
        os.send(&mut bt, &get_device_id()).unwrap();
        if i % 10 == 0 {
            // The firmware's RTC write in between: settle, then its own blocking request.
            os.settle(&mut bt);
            bt.set_sel_time(1_700_000_000 + i).unwrap();
        }
        let mut polls = 0;
        while !os.reply_ready() {
            os.poll(&mut bt);
            polls += 1;
            assert!(polls < 100);
        }
        let r = os.take().unwrap();
        assert_eq!(r.bytes()[0], 0, "request {i}");
        assert_eq!(&r.bytes()[1..], &DEVICE_ID);
        answered += 1;
    }
    assert_eq!(answered, 1000);
    assert_eq!(sim.requests().0, 1000 + 100);
    assert_eq!(sim.sel_time(), 1_700_000_990);
    assert_eq!(bt.stale_responses(), 0);
    assert_eq!(os.dropped_replies(), 0);
}
