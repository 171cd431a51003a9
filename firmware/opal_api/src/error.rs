// SPDX-License-Identifier: Apache-2.0
//! Return codes. `OpalRet` is the only value that reaches r3, and it can only be made from
//! an `OpalResult`, so a handler cannot return a number of the wrong width or sign (the
//! classic bug: a 32-bit `0xffffffff` that Linux takes for an IRQ number).

/// Failures the OS can see in r3. Discriminants are ABI (skiboot `include/opal-api.h`).
///
/// `OPAL_ASYNC_COMPLETION` (-15) is deliberately absent: it is a success that completes
/// later, see [`OpalOk::AsyncCompletion`].
#[repr(i64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpalError {
    #[doc(alias = "OPAL_PARAMETER")]
    Parameter = -1,
    /// Also `OPAL_XSCOM_BUSY`.
    #[doc(alias = "OPAL_BUSY")]
    Busy = -2,
    #[doc(alias = "OPAL_PARTIAL")]
    Partial = -3,
    #[doc(alias = "OPAL_CONSTRAINED")]
    Constrained = -4,
    #[doc(alias = "OPAL_CLOSED")]
    Closed = -5,
    #[doc(alias = "OPAL_HARDWARE")]
    Hardware = -6,
    #[doc(alias = "OPAL_UNSUPPORTED")]
    Unsupported = -7,
    #[doc(alias = "OPAL_PERMISSION")]
    Permission = -8,
    #[doc(alias = "OPAL_NO_MEM")]
    NoMem = -9,
    #[doc(alias = "OPAL_RESOURCE")]
    Resource = -10,
    #[doc(alias = "OPAL_INTERNAL_ERROR")]
    InternalError = -11,
    #[doc(alias = "OPAL_BUSY_EVENT")]
    BusyEvent = -12,
    #[doc(alias = "OPAL_HARDWARE_FROZEN")]
    HardwareFrozen = -13,
    /// Also `OPAL_XSCOM_CHIPLET_OFF`.
    #[doc(alias = "OPAL_WRONG_STATE")]
    WrongState = -14,
    #[doc(alias = "OPAL_EMPTY")]
    Empty = -16,
    #[doc(alias = "OPAL_I2C_TIMEOUT")]
    I2cTimeout = -17,
    #[doc(alias = "OPAL_I2C_INVALID_CMD")]
    I2cInvalidCmd = -18,
    #[doc(alias = "OPAL_I2C_LBUS_PARITY")]
    I2cLbusParity = -19,
    #[doc(alias = "OPAL_I2C_BKEND_OVERRUN")]
    I2cBkendOverrun = -20,
    #[doc(alias = "OPAL_I2C_BKEND_ACCESS")]
    I2cBkendAccess = -21,
    #[doc(alias = "OPAL_I2C_ARBT_LOST")]
    I2cArbtLost = -22,
    #[doc(alias = "OPAL_I2C_NACK_RCVD")]
    I2cNackRcvd = -23,
    #[doc(alias = "OPAL_I2C_STOP_ERR")]
    I2cStopErr = -24,
    #[doc(alias = "OPAL_XSCOM_PARTIAL_GOOD")]
    XscomPartialGood = -25,
    #[doc(alias = "OPAL_XSCOM_ADDR_ERROR")]
    XscomAddrError = -26,
    #[doc(alias = "OPAL_XSCOM_CLOCK_ERROR")]
    XscomClockError = -27,
    #[doc(alias = "OPAL_XSCOM_PARITY_ERROR")]
    XscomParityError = -28,
    #[doc(alias = "OPAL_XSCOM_TIMEOUT")]
    XscomTimeout = -29,
    #[doc(alias = "OPAL_XSCOM_CTR_OFFLINED")]
    XscomCtrOfflined = -30,
    #[doc(alias = "OPAL_XIVE_PROVISIONING")]
    XiveProvisioning = -31,
    #[doc(alias = "OPAL_XIVE_FREE_ACTIVE")]
    XiveFreeActive = -32,
    #[doc(alias = "OPAL_TIMEOUT")]
    Timeout = -33,
}

/// The `OPAL_ASYNC_COMPLETION` code, kept out of [`OpalError`] on purpose.
pub const OPAL_ASYNC_COMPLETION: i64 = -15;

impl OpalError {
    /// Every variant, in ABI order; used by tests and by conformance tooling.
    pub const ALL: [OpalError; 32] = [
        Self::Parameter,
        Self::Busy,
        Self::Partial,
        Self::Constrained,
        Self::Closed,
        Self::Hardware,
        Self::Unsupported,
        Self::Permission,
        Self::NoMem,
        Self::Resource,
        Self::InternalError,
        Self::BusyEvent,
        Self::HardwareFrozen,
        Self::WrongState,
        Self::Empty,
        Self::I2cTimeout,
        Self::I2cInvalidCmd,
        Self::I2cLbusParity,
        Self::I2cBkendOverrun,
        Self::I2cBkendAccess,
        Self::I2cArbtLost,
        Self::I2cNackRcvd,
        Self::I2cStopErr,
        Self::XscomPartialGood,
        Self::XscomAddrError,
        Self::XscomClockError,
        Self::XscomParityError,
        Self::XscomTimeout,
        Self::XscomCtrOfflined,
        Self::XiveProvisioning,
        Self::XiveFreeActive,
        Self::Timeout,
    ];

    /// The signed 64-bit value the OS sees.
    pub const fn code(self) -> i64 {
        self as i64
    }
}

impl TryFrom<i64> for OpalError {
    type Error = i64;
    fn try_from(n: i64) -> Result<Self, i64> {
        Self::ALL.iter().copied().find(|e| e.code() == n).ok_or(n)
    }
}

/// A payload below 2^63, so it can never be mistaken for an error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value(u64);

impl Value {
    pub const fn new(v: u64) -> Option<Self> {
        if v <= i64::MAX as u64 {
            Some(Self(v))
        } else {
            None
        }
    }
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// Successful outcomes of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpalOk {
    Success,
    Value(Value),
    AsyncCompletion,
}

pub type OpalResult<T = ()> = Result<T, OpalError>;

/// What the OPAL entry puts in r3. The field is private: handlers cannot invent numbers.
#[repr(transparent)]
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpalRet(i64);

impl OpalRet {
    pub const SUCCESS: OpalRet = OpalRet(0);

    /// The raw r3 value; only the OPAL entry path and tests read it.
    pub const fn into_r3(self) -> i64 {
        self.0
    }

    pub const fn err(e: OpalError) -> Self {
        Self(e.code())
    }
}

impl From<OpalResult<OpalOk>> for OpalRet {
    fn from(r: OpalResult<OpalOk>) -> Self {
        OpalRet(match r {
            Ok(OpalOk::Success) => 0,
            // Value::new guarantees the top bit is clear, so this is non-negative.
            Ok(OpalOk::Value(v)) => v.0 as i64,
            Ok(OpalOk::AsyncCompletion) => OPAL_ASYNC_COMPLETION,
            Err(e) => e.code(),
        })
    }
}

impl From<OpalResult<()>> for OpalRet {
    fn from(r: OpalResult<()>) -> Self {
        r.map(|()| OpalOk::Success).into()
    }
}

impl From<OpalResult<Value>> for OpalRet {
    fn from(r: OpalResult<Value>) -> Self {
        r.map(OpalOk::Value).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copied by hand from skiboot include/opal-api.h.
    #[test]
    fn return_codes_are_pinned() {
        let table: [(OpalError, i64); 32] = [
            (OpalError::Parameter, -1),
            (OpalError::Busy, -2),
            (OpalError::Partial, -3),
            (OpalError::Constrained, -4),
            (OpalError::Closed, -5),
            (OpalError::Hardware, -6),
            (OpalError::Unsupported, -7),
            (OpalError::Permission, -8),
            (OpalError::NoMem, -9),
            (OpalError::Resource, -10),
            (OpalError::InternalError, -11),
            (OpalError::BusyEvent, -12),
            (OpalError::HardwareFrozen, -13),
            (OpalError::WrongState, -14),
            (OpalError::Empty, -16),
            (OpalError::I2cTimeout, -17),
            (OpalError::I2cInvalidCmd, -18),
            (OpalError::I2cLbusParity, -19),
            (OpalError::I2cBkendOverrun, -20),
            (OpalError::I2cBkendAccess, -21),
            (OpalError::I2cArbtLost, -22),
            (OpalError::I2cNackRcvd, -23),
            (OpalError::I2cStopErr, -24),
            (OpalError::XscomPartialGood, -25),
            (OpalError::XscomAddrError, -26),
            (OpalError::XscomClockError, -27),
            (OpalError::XscomParityError, -28),
            (OpalError::XscomTimeout, -29),
            (OpalError::XscomCtrOfflined, -30),
            (OpalError::XiveProvisioning, -31),
            (OpalError::XiveFreeActive, -32),
            (OpalError::Timeout, -33),
        ];
        for (e, n) in table {
            assert_eq!(e.code(), n, "{e:?}");
            assert_eq!(OpalError::try_from(n), Ok(e));
        }
        assert_eq!(OPAL_ASYNC_COMPLETION, -15);
        assert_eq!(OpalError::try_from(-15), Err(-15));
        assert_eq!(OpalError::try_from(0), Err(0));
    }

    #[test]
    fn resource_is_a_negative_64_bit_value() {
        let r: OpalRet = Err::<(), _>(OpalError::Resource).into();
        assert_eq!(r.into_r3(), -10);
        assert_eq!(r.into_r3() as u64, 0xffff_ffff_ffff_fff6);
    }

    #[test]
    fn values_cannot_alias_errors() {
        assert!(Value::new(u64::MAX).is_none());
        assert!(Value::new(1 << 63).is_none());
        let r: OpalRet = Ok::<_, OpalError>(Value::new(0x14).unwrap()).into();
        assert_eq!(r.into_r3(), 0x14);
        let r: OpalRet = Ok::<_, OpalError>(OpalOk::AsyncCompletion).into();
        assert_eq!(r.into_r3(), -15);
        assert_eq!(OpalRet::from(Ok::<(), OpalError>(())).into_r3(), 0);
    }
}
