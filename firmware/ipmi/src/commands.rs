// SPDX-License-Identifier: Apache-2.0
//! The IPMI commands the firmware sends, as typed requests, response parsers and blocking
//! helpers on [`Bt`]: Chassis Control (power-off / reboot), Get/Set SEL Time (the RTC on
//! QEMU and BMC machines), Get BT Interface Capabilities and Get Device ID.
//!
//! Mirrors skiboot `include/ipmi.h` (NetFn and command numbers), `hw/ipmi/ipmi-power.c`
//! (`ipmi_chassis_control`), `hw/ipmi/ipmi-rtc.c` (SEL time) and `hw/bt.c` (`get_bt_caps`);
//! data layouts are from the IPMI v2.0 specification and QEMU `hw/ipmi/ipmi_bmc_sim.c`.
//!
//! For the non-blocking path, build the request here ([`ChassisControl::request`] …), pass
//! it to [`Bt::start`], and parse what [`Bt::poll`] returns with the `parse_*` functions.
use crate::bt::{BadResponse, Bt, BtError, Clock, IoPort, Request, Response};

/// NetFn numbers (request form; responses carry NetFn | 1).
#[doc(alias = "IPMI_NETFN_CHASSIS")]
pub const NETFN_CHASSIS: u8 = 0x00;
#[doc(alias = "IPMI_NETFN_APP")]
pub const NETFN_APP: u8 = 0x06;
#[doc(alias = "IPMI_NETFN_STORAGE")]
pub const NETFN_STORAGE: u8 = 0x0A;

/// Chassis NetFn commands.
#[doc(alias = "IPMI_CHASSIS_CONTROL")]
pub const CMD_CHASSIS_CONTROL: u8 = 0x02;
/// App NetFn commands.
#[doc(alias = "IPMI_GET_DEVICE_ID")]
pub const CMD_GET_DEVICE_ID: u8 = 0x01;
#[doc(alias = "IPMI_GET_BT_CAPS")]
pub const CMD_GET_BT_CAPS: u8 = 0x36;
/// Storage NetFn commands.
#[doc(alias = "IPMI_GET_SEL_TIME")]
pub const CMD_GET_SEL_TIME: u8 = 0x48;
#[doc(alias = "IPMI_SET_SEL_TIME")]
pub const CMD_SET_SEL_TIME: u8 = 0x49;

/// Completion codes worth naming (IPMI v2.0 table 5-2; QEMU `include/hw/ipmi/ipmi.h`).
pub mod cc {
    pub const OK: u8 = 0x00;
    pub const NODE_BUSY: u8 = 0xC0;
    pub const INVALID_CMD: u8 = 0xC1;
    pub const COMMAND_INVALID_FOR_LUN: u8 = 0xC2;
    pub const TIMEOUT: u8 = 0xC3;
    pub const REQUEST_DATA_TRUNCATED: u8 = 0xC6;
    pub const REQUEST_DATA_LENGTH_INVALID: u8 = 0xC7;
    pub const INVALID_DATA_FIELD: u8 = 0xCC;
    pub const UNSPECIFIED: u8 = 0xFF;
}

/// The data byte of Chassis Control (NetFn 0x00, cmd 0x02).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ChassisControl {
    /// `OPAL_CEC_POWER_DOWN`; QEMU exits.
    #[doc(alias = "IPMI_CHASSIS_PWR_DOWN")]
    PowerDown = 0x00,
    #[doc(alias = "IPMI_CHASSIS_PWR_UP")]
    PowerUp = 0x01,
    #[doc(alias = "IPMI_CHASSIS_PWR_CYCLE")]
    PowerCycle = 0x02,
    /// `OPAL_CEC_REBOOT`; QEMU resets the machine.
    #[doc(alias = "IPMI_CHASSIS_HARD_RESET")]
    HardReset = 0x03,
    #[doc(alias = "IPMI_CHASSIS_PULSE_DIAG")]
    PulseDiag = 0x04,
    #[doc(alias = "IPMI_CHASSIS_SOFT_SHUTDOWN")]
    SoftShutdown = 0x05,
}

impl ChassisControl {
    pub const fn request(self) -> Request {
        Request::fixed(NETFN_CHASSIS, CMD_CHASSIS_CONTROL, [self as u8])
    }
}

/// Get SEL Time (NetFn 0x0A, cmd 0x48): no data; answers 4 bytes, LE Unix seconds.
pub const fn get_sel_time_request() -> Request {
    Request::fixed(NETFN_STORAGE, CMD_GET_SEL_TIME, [])
}

/// Set SEL Time (NetFn 0x0A, cmd 0x49): 4 bytes, LE Unix seconds.
pub const fn set_sel_time_request(unix_secs: u32) -> Request {
    Request::fixed(NETFN_STORAGE, CMD_SET_SEL_TIME, unix_secs.to_le_bytes())
}

/// Get BT Interface Capabilities (NetFn 0x06, cmd 0x36).
pub const fn get_bt_caps_request() -> Request {
    Request::fixed(NETFN_APP, CMD_GET_BT_CAPS, [])
}

/// Get Device ID (NetFn 0x06, cmd 0x01).
pub const fn get_device_id_request() -> Request {
    Request::fixed(NETFN_APP, CMD_GET_DEVICE_ID, [])
}

fn exact<const N: usize>(resp: &Response) -> Result<[u8; N], BtError> {
    let d = resp.ok_data()?;
    d.try_into().map_err(|_| {
        BtError::BadResponse(BadResponse::DataLength {
            expected: N,
            got: d.len(),
        })
    })
}

/// Checks a Chassis Control response: completion code 0, no data needed.
pub fn parse_chassis_control(resp: &Response) -> Result<(), BtError> {
    resp.ok_data().map(|_| ())
}

/// Unix seconds from a Get SEL Time response (exactly 4 data bytes).
pub fn parse_sel_time(resp: &Response) -> Result<u32, BtError> {
    exact::<4>(resp).map(u32::from_le_bytes)
}

/// Checks a Set SEL Time response.
pub fn parse_set_sel_time(resp: &Response) -> Result<(), BtError> {
    resp.ok_data().map(|_| ())
}

/// Get BT Interface Capabilities response, as the BMC sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BtCaps {
    /// Outstanding requests the BMC accepts (QEMU: 1).
    pub num_requests: u8,
    /// Input (host-to-BMC) buffer size byte. skiboot reads it as "largest length byte"
    /// and adds one; QEMU sends its buffer size capped at 0xFF.
    pub input_buf: u8,
    /// Output (BMC-to-host) buffer size byte, same convention.
    pub output_buf: u8,
    /// BMC request-to-response time, seconds (QEMU: 10).
    pub response_time_s: u8,
    /// Recommended retries (QEMU: 0).
    pub retries: u8,
}

pub fn parse_bt_caps(resp: &Response) -> Result<BtCaps, BtError> {
    let [num_requests, input_buf, output_buf, response_time_s, retries] = exact::<5>(resp)?;
    Ok(BtCaps {
        num_requests,
        input_buf,
        output_buf,
        response_time_s,
        retries,
    })
}

/// Get Device ID response (the 11 mandatory bytes; auxiliary firmware revision ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceId {
    pub device_id: u8,
    /// Low nibble of byte 2.
    pub device_revision: u8,
    /// Byte 2 bit 7.
    pub provides_sdrs: bool,
    /// Byte 3 bits 6:0.
    pub firmware_major: u8,
    /// Byte 3 bit 7 clear: normal operation (set: update or self-init in progress).
    pub device_available: bool,
    /// Byte 4, BCD.
    pub firmware_minor_bcd: u8,
    /// Byte 5, BCD: 0x02 = IPMI 2.0 (low nibble major).
    pub ipmi_version: u8,
    pub additional_support: u8,
    /// 20-bit IANA number, little-endian in bytes 7..9.
    pub manufacturer_id: u32,
    pub product_id: u16,
}

pub fn parse_device_id(resp: &Response) -> Result<DeviceId, BtError> {
    let d = resp.ok_data()?;
    if d.len() < 11 {
        return Err(BtError::BadResponse(BadResponse::DataLength {
            expected: 11,
            got: d.len(),
        }));
    }
    Ok(DeviceId {
        device_id: d[0],
        device_revision: d[1] & 0x0F,
        provides_sdrs: d[1] & 0x80 != 0,
        firmware_major: d[2] & 0x7F,
        device_available: d[2] & 0x80 == 0,
        firmware_minor_bcd: d[3],
        ipmi_version: d[4],
        additional_support: d[5],
        manufacturer_id: u32::from_le_bytes([d[6], d[7], d[8], 0]) & 0x000F_FFFF,
        product_id: u16::from_le_bytes([d[9], d[10]]),
    })
}

/// Blocking (bounded) typed commands.
impl<P: IoPort, C: Clock> Bt<P, C> {
    pub fn chassis_control(&mut self, what: ChassisControl) -> Result<(), BtError> {
        parse_chassis_control(&self.request(&what.request())?)
    }

    pub fn get_sel_time(&mut self) -> Result<u32, BtError> {
        parse_sel_time(&self.request(&get_sel_time_request())?)
    }

    pub fn set_sel_time(&mut self, unix_secs: u32) -> Result<(), BtError> {
        parse_set_sel_time(&self.request(&set_sel_time_request(unix_secs))?)
    }

    pub fn get_bt_caps(&mut self) -> Result<BtCaps, BtError> {
        parse_bt_caps(&self.request(&get_bt_caps_request())?)
    }

    pub fn get_device_id(&mut self) -> Result<DeviceId, BtError> {
        parse_device_id(&self.request(&get_device_id_request())?)
    }
}
