// SPDX-License-Identifier: Apache-2.0
//! Host tests of [`crate::link::BmcLink`]: the OS's and the firmware's requests sharing one
//! simulated BT, each answer reaching the request it belongs to.
use crate::bt::*;
use crate::commands::{get_sel_time_request, parse_sel_time, ChassisControl};
use crate::link::*;
use crate::os::IPMI_TIMEOUT_ERR;
use crate::sim::{Behaviour, BtSim, SimClock};

const DEVICE_ID: [u8; 11] = [
    0x20, 0x01, 0x02, 0x03, 0x02, 0xBF, 0x4F, 0x1A, 0x00, 0x34, 0x12,
];

fn get_device_id() -> Request {
    Request::new(0x06, 0x01, &[]).unwrap()
}

fn sim() -> BtSim {
    let s = BtSim::default();
    s.set_device_id(DEVICE_ID);
    s.set_sel_time(1_800_000_000);
    s
}

fn serviced<P: IoPort, C: Clock>(link: &mut BmcLink<P, C>) -> Vec<FwDone> {
    let mut done = Vec::new();
    for _ in 0..100 {
        done.extend(link.service());
        if !link.busy() {
            break;
        }
    }
    done
}

#[test]
fn os_request_waits_behind_a_background_read_and_each_gets_its_own_answer() {
    let sim = sim();
    sim.set_behaviour(Behaviour::AfterCtrlReads(3));
    let clock = SimClock::new(1);
    let mut link = BmcLink::new(Bt::new(&sim, &clock, BT_IO_BASE));
    assert!(link.start_background(&get_sel_time_request(), FwPurpose::SelTime));
    link.os_send(&get_device_id()).unwrap();
    assert!(link.os().busy() && !link.os().reply_ready(), "queued");
    let done = serviced(&mut link);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].purpose, FwPurpose::SelTime);
    let secs = parse_sel_time(done[0].result.as_ref().unwrap()).unwrap();
    assert_eq!(secs, 1_800_000_000);
    let r = link.os_take().unwrap();
    assert_eq!((r.netfn_lun(), r.cmd()), (0x07 << 2, 0x01));
    assert_eq!(&r.bytes()[1..], &DEVICE_ID);
    assert_eq!(sim.requests().0, 2);
}

#[test]
fn background_request_never_delays_the_os() {
    let sim = sim();
    sim.set_behaviour(Behaviour::AfterCtrlReads(3));
    let clock = SimClock::new(1);
    let mut link = BmcLink::new(Bt::new(&sim, &clock, BT_IO_BASE));
    link.os_send(&get_device_id()).unwrap();
    assert!(!link.start_background(&get_sel_time_request(), FwPurpose::SelTime));
    assert!(serviced(&mut link).is_empty());
    assert!(link.os_take().is_some());
    assert!(link.start_background(&get_sel_time_request(), FwPurpose::SelTime));
}

#[test]
fn power_request_preempts_the_os_which_gets_a_timeout_reply() {
    let sim = sim();
    sim.set_behaviour(Behaviour::AfterCtrlReads(20));
    let clock = SimClock::new(1);
    let mut link = BmcLink::new(Bt::new(&sim, &clock, BT_IO_BASE));
    link.os_send(&Request::new(0x0A, 0x48, &[]).unwrap())
        .unwrap();
    link.start_urgent(&ChassisControl::PowerDown.request(), FwPurpose::Chassis)
        .unwrap();
    let r = link
        .os_take()
        .expect("the OS is answered, not left waiting");
    assert_eq!(
        (r.netfn_lun(), r.cmd(), r.bytes()),
        (0x0B << 2, 0x48, &[IPMI_TIMEOUT_ERR][..])
    );
    let done = serviced(&mut link);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].purpose, FwPurpose::Chassis);
    assert!(done[0].result.is_ok(), "{:?}", done[0].result);
    assert_eq!(sim.chassis().0, Some(ChassisControl::PowerDown as u8));
    assert!(
        link.os_take().is_none(),
        "the OS request's late answer is nobody's"
    );
}

#[test]
fn blocking_request_finishes_what_is_in_flight_first() {
    let sim = sim();
    sim.set_behaviour(Behaviour::AfterCtrlReads(5));
    let clock = SimClock::new(1);
    let mut link = BmcLink::new(Bt::new(&sim, &clock, BT_IO_BASE));
    link.os_send(&get_device_id()).unwrap();
    let (set, fw) = link.blocking(|bt| bt.set_sel_time(1_900_000_000));
    assert_eq!(set, Ok(()));
    assert!(fw.is_none());
    assert_eq!(sim.sel_time(), 1_900_000_000);
    let r = link.os_take().unwrap();
    assert_eq!(
        &r.bytes()[1..],
        &DEVICE_ID,
        "the OS's answer, not Set SEL Time's"
    );
}

#[test]
fn blocking_request_hands_back_the_background_result_and_starts_the_queued_os_request() {
    let sim = sim();
    sim.set_behaviour(Behaviour::AfterCtrlReads(4));
    let clock = SimClock::new(1);
    let mut link = BmcLink::new(Bt::new(&sim, &clock, BT_IO_BASE));
    assert!(link.start_background(&get_sel_time_request(), FwPurpose::SelTime));
    link.os_send(&get_device_id()).unwrap();
    let (set, fw) = link.blocking(|bt| bt.set_sel_time(5));
    assert_eq!(set, Ok(()));
    let fw = fw.expect("the background read's result");
    assert_eq!(
        parse_sel_time(fw.result.as_ref().unwrap()),
        Ok(1_800_000_000)
    );
    assert!(serviced(&mut link).is_empty());
    assert_eq!(&link.os_take().unwrap().bytes()[1..], &DEVICE_ID);
}

/// A long mixed run, the host-side twin of the Linux scenario's 1,000 requests under RTC
/// traffic: every OS request gets exactly one reply, and it is the reply to that request.
#[test]
fn thousand_os_requests_among_firmware_traffic_lose_nothing() {
    let sim = sim();
    let clock = SimClock::new(1);
    let mut link = BmcLink::new(Bt::new(&sim, &clock, BT_IO_BASE));
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut answered, mut fw_reads) = (0, 0);
    for i in 0..1000u32 {
        sim.set_behaviour(match next() % 3 {
            0 => Behaviour::Immediate,
            n => Behaviour::AfterCtrlReads(n as u32 * 2),
        });
        let (req, want_cmd) = if i % 2 == 0 {
            (get_device_id(), 0x01)
        } else {
            (get_sel_time_request(), 0x48)
        };
        if next() % 2 == 0 && link.start_background(&get_sel_time_request(), FwPurpose::SelTime) {
            fw_reads += 1;
        }
        link.os_send(&req).unwrap();
        if next() % 4 == 0 {
            let (r, fw) = link.blocking(|bt| bt.set_sel_time(1_800_000_000));
            assert_eq!(r, Ok(()));
            fw_reads -= fw.into_iter().filter(|d| d.result.is_ok()).count() as i32;
        }
        for d in serviced(&mut link) {
            assert_eq!(d.purpose, FwPurpose::SelTime);
            assert_eq!(
                parse_sel_time(d.result.as_ref().unwrap()),
                Ok(1_800_000_000)
            );
            fw_reads -= 1;
        }
        let r = link.os_take().expect("every request is answered");
        assert_eq!(r.cmd(), want_cmd, "request {i}");
        assert_eq!(
            r.bytes()[0],
            0,
            "request {i}: the BMC's answer, not a made-up one"
        );
        answered += 1;
    }
    assert_eq!(answered, 1000);
    assert_eq!(fw_reads, 0, "every background read finished");
    assert_eq!(link.os().dropped_replies(), 0);
    assert_eq!(link.bt().stale_responses(), 0);
}
