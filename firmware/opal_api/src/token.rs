// SPDX-License-Identifier: Apache-2.0
//! OPAL call tokens (the value Linux puts in r0), from skiboot `include/opal-api.h`.
//! Gaps are tokens that were removed or never implemented anywhere.

pub type Token = u64;

pub const OPAL_TEST: Token = 0;
pub const OPAL_CONSOLE_WRITE: Token = 1;
pub const OPAL_CONSOLE_READ: Token = 2;
pub const OPAL_RTC_READ: Token = 3;
pub const OPAL_RTC_WRITE: Token = 4;
pub const OPAL_CEC_POWER_DOWN: Token = 5;
pub const OPAL_CEC_REBOOT: Token = 6;
pub const OPAL_READ_NVRAM: Token = 7;
pub const OPAL_WRITE_NVRAM: Token = 8;
pub const OPAL_HANDLE_INTERRUPT: Token = 9;
pub const OPAL_POLL_EVENTS: Token = 10;
pub const OPAL_PCI_CONFIG_READ_BYTE: Token = 13;
pub const OPAL_PCI_CONFIG_READ_HALF_WORD: Token = 14;
pub const OPAL_PCI_CONFIG_READ_WORD: Token = 15;
pub const OPAL_PCI_CONFIG_WRITE_BYTE: Token = 16;
pub const OPAL_PCI_CONFIG_WRITE_HALF_WORD: Token = 17;
pub const OPAL_PCI_CONFIG_WRITE_WORD: Token = 18;
pub const OPAL_SET_XIVE: Token = 19;
pub const OPAL_GET_XIVE: Token = 20;
pub const OPAL_PCI_EEH_FREEZE_STATUS: Token = 23;
pub const OPAL_CONSOLE_WRITE_BUFFER_SPACE: Token = 25;
pub const OPAL_PCI_EEH_FREEZE_CLEAR: Token = 26;
pub const OPAL_PCI_PHB_MMIO_ENABLE: Token = 27;
pub const OPAL_PCI_SET_PHB_MEM_WINDOW: Token = 28;
pub const OPAL_PCI_MAP_PE_MMIO_WINDOW: Token = 29;
pub const OPAL_PCI_SET_PE: Token = 31;
pub const OPAL_PCI_SET_PELTV: Token = 32;
pub const OPAL_PCI_SET_MVE: Token = 33;
pub const OPAL_PCI_SET_MVE_ENABLE: Token = 34;
pub const OPAL_PCI_SET_XIVE_PE: Token = 37;
pub const OPAL_GET_MSI_32: Token = 39;
pub const OPAL_GET_MSI_64: Token = 40;
pub const OPAL_START_CPU: Token = 41;
pub const OPAL_QUERY_CPU_STATUS: Token = 42;
pub const OPAL_WRITE_OPPANEL: Token = 43;
pub const OPAL_PCI_MAP_PE_DMA_WINDOW: Token = 44;
pub const OPAL_PCI_MAP_PE_DMA_WINDOW_REAL: Token = 45;
pub const OPAL_PCI_RESET: Token = 49;
pub const OPAL_PCI_GET_HUB_DIAG_DATA: Token = 50;
pub const OPAL_PCI_GET_PHB_DIAG_DATA: Token = 51;
pub const OPAL_PCI_FENCE_PHB: Token = 52;
pub const OPAL_PCI_REINIT: Token = 53;
pub const OPAL_PCI_MASK_PE_ERROR: Token = 54;
pub const OPAL_SET_SLOT_LED_STATUS: Token = 55;
pub const OPAL_GET_EPOW_STATUS: Token = 56;
pub const OPAL_SET_SYSTEM_ATTENTION_LED: Token = 57;
pub const OPAL_PCI_NEXT_ERROR: Token = 60;
pub const OPAL_PCI_EEH_FREEZE_STATUS2: Token = 61;
pub const OPAL_PCI_POLL: Token = 62;
pub const OPAL_PCI_MSI_EOI: Token = 63;
pub const OPAL_PCI_GET_PHB_DIAG_DATA2: Token = 64;
pub const OPAL_XSCOM_READ: Token = 65;
pub const OPAL_XSCOM_WRITE: Token = 66;
pub const OPAL_LPC_READ: Token = 67;
pub const OPAL_LPC_WRITE: Token = 68;
pub const OPAL_RETURN_CPU: Token = 69;
pub const OPAL_REINIT_CPUS: Token = 70;
pub const OPAL_ELOG_READ: Token = 71;
pub const OPAL_ELOG_WRITE: Token = 72;
pub const OPAL_ELOG_ACK: Token = 73;
pub const OPAL_ELOG_RESEND: Token = 74;
pub const OPAL_ELOG_SIZE: Token = 75;
pub const OPAL_FLASH_VALIDATE: Token = 76;
pub const OPAL_FLASH_MANAGE: Token = 77;
pub const OPAL_FLASH_UPDATE: Token = 78;
pub const OPAL_RESYNC_TIMEBASE: Token = 79;
pub const OPAL_CHECK_TOKEN: Token = 80;
pub const OPAL_DUMP_INIT: Token = 81;
pub const OPAL_DUMP_INFO: Token = 82;
pub const OPAL_DUMP_READ: Token = 83;
pub const OPAL_DUMP_ACK: Token = 84;
pub const OPAL_GET_MSG: Token = 85;
pub const OPAL_CHECK_ASYNC_COMPLETION: Token = 86;
pub const OPAL_SYNC_HOST_REBOOT: Token = 87;
pub const OPAL_SENSOR_READ: Token = 88;
pub const OPAL_GET_PARAM: Token = 89;
pub const OPAL_SET_PARAM: Token = 90;
pub const OPAL_DUMP_RESEND: Token = 91;
pub const OPAL_ELOG_SEND: Token = 92;
pub const OPAL_PCI_SET_PHB_CAPI_MODE: Token = 93;
pub const OPAL_DUMP_INFO2: Token = 94;
pub const OPAL_WRITE_OPPANEL_ASYNC: Token = 95;
pub const OPAL_PCI_ERR_INJECT: Token = 96;
pub const OPAL_PCI_EEH_FREEZE_SET: Token = 97;
pub const OPAL_HANDLE_HMI: Token = 98;
pub const OPAL_CONFIG_CPU_IDLE_STATE: Token = 99;
pub const OPAL_SLW_SET_REG: Token = 100;
pub const OPAL_REGISTER_DUMP_REGION: Token = 101;
pub const OPAL_UNREGISTER_DUMP_REGION: Token = 102;
pub const OPAL_WRITE_TPO: Token = 103;
pub const OPAL_READ_TPO: Token = 104;
pub const OPAL_GET_DPO_STATUS: Token = 105;
pub const OPAL_OLD_I2C_REQUEST: Token = 106;
pub const OPAL_IPMI_SEND: Token = 107;
pub const OPAL_IPMI_RECV: Token = 108;
pub const OPAL_I2C_REQUEST: Token = 109;
pub const OPAL_FLASH_READ: Token = 110;
pub const OPAL_FLASH_WRITE: Token = 111;
pub const OPAL_FLASH_ERASE: Token = 112;
pub const OPAL_PRD_MSG: Token = 113;
pub const OPAL_LEDS_GET_INDICATOR: Token = 114;
pub const OPAL_LEDS_SET_INDICATOR: Token = 115;
pub const OPAL_CEC_REBOOT2: Token = 116;
pub const OPAL_CONSOLE_FLUSH: Token = 117;
pub const OPAL_GET_DEVICE_TREE: Token = 118;
pub const OPAL_PCI_GET_PRESENCE_STATE: Token = 119;
pub const OPAL_PCI_GET_POWER_STATE: Token = 120;
pub const OPAL_PCI_SET_POWER_STATE: Token = 121;
pub const OPAL_INT_GET_XIRR: Token = 122;
pub const OPAL_INT_SET_CPPR: Token = 123;
pub const OPAL_INT_EOI: Token = 124;
pub const OPAL_INT_SET_MFRR: Token = 125;
pub const OPAL_PCI_TCE_KILL: Token = 126;
pub const OPAL_NMMU_SET_PTCR: Token = 127;
pub const OPAL_XIVE_RESET: Token = 128;
pub const OPAL_XIVE_GET_IRQ_INFO: Token = 129;
pub const OPAL_XIVE_GET_IRQ_CONFIG: Token = 130;
pub const OPAL_XIVE_SET_IRQ_CONFIG: Token = 131;
pub const OPAL_XIVE_GET_QUEUE_INFO: Token = 132;
pub const OPAL_XIVE_SET_QUEUE_INFO: Token = 133;
pub const OPAL_XIVE_DONATE_PAGE: Token = 134;
pub const OPAL_XIVE_ALLOCATE_VP_BLOCK: Token = 135;
pub const OPAL_XIVE_FREE_VP_BLOCK: Token = 136;
pub const OPAL_XIVE_GET_VP_INFO: Token = 137;
pub const OPAL_XIVE_SET_VP_INFO: Token = 138;
pub const OPAL_XIVE_ALLOCATE_IRQ: Token = 139;
pub const OPAL_XIVE_FREE_IRQ: Token = 140;
pub const OPAL_XIVE_SYNC: Token = 141;
pub const OPAL_XIVE_DUMP: Token = 142;
pub const OPAL_XIVE_GET_QUEUE_STATE: Token = 143;
pub const OPAL_XIVE_SET_QUEUE_STATE: Token = 144;
pub const OPAL_SIGNAL_SYSTEM_RESET: Token = 145;
pub const OPAL_NPU_INIT_CONTEXT: Token = 146;
pub const OPAL_NPU_DESTROY_CONTEXT: Token = 147;
pub const OPAL_NPU_MAP_LPAR: Token = 148;
pub const OPAL_IMC_COUNTERS_INIT: Token = 149;
pub const OPAL_IMC_COUNTERS_START: Token = 150;
pub const OPAL_IMC_COUNTERS_STOP: Token = 151;
pub const OPAL_GET_POWERCAP: Token = 152;
pub const OPAL_SET_POWERCAP: Token = 153;
pub const OPAL_GET_POWER_SHIFT_RATIO: Token = 154;
pub const OPAL_SET_POWER_SHIFT_RATIO: Token = 155;
pub const OPAL_SENSOR_GROUP_CLEAR: Token = 156;
pub const OPAL_PCI_SET_P2P: Token = 157;
pub const OPAL_QUIESCE: Token = 158;
pub const OPAL_NPU_SPA_SETUP: Token = 159;
pub const OPAL_NPU_SPA_CLEAR_CACHE: Token = 160;
pub const OPAL_NPU_TL_SET: Token = 161;
pub const OPAL_SENSOR_READ_U64: Token = 162;
pub const OPAL_SENSOR_GROUP_ENABLE: Token = 163;
pub const OPAL_PCI_GET_PBCQ_TUNNEL_BAR: Token = 164;
pub const OPAL_PCI_SET_PBCQ_TUNNEL_BAR: Token = 165;
pub const OPAL_HANDLE_HMI2: Token = 166;
pub const OPAL_NX_COPROC_INIT: Token = 167;
pub const OPAL_NPU_SET_RELAXED_ORDER: Token = 168;
pub const OPAL_NPU_GET_RELAXED_ORDER: Token = 169;
pub const OPAL_XIVE_GET_VP_STATE: Token = 170;
pub const OPAL_NPU_MEM_ALLOC: Token = 171;
pub const OPAL_NPU_MEM_RELEASE: Token = 172;
pub const OPAL_MPIPL_UPDATE: Token = 173;
pub const OPAL_MPIPL_REGISTER_TAG: Token = 174;
pub const OPAL_MPIPL_QUERY_TAG: Token = 175;
pub const OPAL_SECVAR_GET: Token = 176;
pub const OPAL_SECVAR_GET_NEXT: Token = 177;
pub const OPAL_SECVAR_ENQUEUE_UPDATE: Token = 178;
pub const OPAL_PHB_SET_OPTION: Token = 179;
pub const OPAL_PHB_GET_OPTION: Token = 180;

/// Highest token defined by the ABI (`OPAL_LAST`); the call table has one slot per token.
pub const OPAL_LAST: Token = 180;

/// skiboot-style name of a token, for logs and tools; `None` for tokens with no name.
pub const fn name(token: Token) -> Option<&'static str> {
    Some(match token {
        0 => "OPAL_TEST",
        1 => "OPAL_CONSOLE_WRITE",
        2 => "OPAL_CONSOLE_READ",
        3 => "OPAL_RTC_READ",
        4 => "OPAL_RTC_WRITE",
        5 => "OPAL_CEC_POWER_DOWN",
        6 => "OPAL_CEC_REBOOT",
        7 => "OPAL_READ_NVRAM",
        8 => "OPAL_WRITE_NVRAM",
        9 => "OPAL_HANDLE_INTERRUPT",
        10 => "OPAL_POLL_EVENTS",
        13 => "OPAL_PCI_CONFIG_READ_BYTE",
        14 => "OPAL_PCI_CONFIG_READ_HALF_WORD",
        15 => "OPAL_PCI_CONFIG_READ_WORD",
        16 => "OPAL_PCI_CONFIG_WRITE_BYTE",
        17 => "OPAL_PCI_CONFIG_WRITE_HALF_WORD",
        18 => "OPAL_PCI_CONFIG_WRITE_WORD",
        19 => "OPAL_SET_XIVE",
        20 => "OPAL_GET_XIVE",
        23 => "OPAL_PCI_EEH_FREEZE_STATUS",
        25 => "OPAL_CONSOLE_WRITE_BUFFER_SPACE",
        26 => "OPAL_PCI_EEH_FREEZE_CLEAR",
        27 => "OPAL_PCI_PHB_MMIO_ENABLE",
        28 => "OPAL_PCI_SET_PHB_MEM_WINDOW",
        29 => "OPAL_PCI_MAP_PE_MMIO_WINDOW",
        31 => "OPAL_PCI_SET_PE",
        32 => "OPAL_PCI_SET_PELTV",
        33 => "OPAL_PCI_SET_MVE",
        34 => "OPAL_PCI_SET_MVE_ENABLE",
        37 => "OPAL_PCI_SET_XIVE_PE",
        39 => "OPAL_GET_MSI_32",
        40 => "OPAL_GET_MSI_64",
        41 => "OPAL_START_CPU",
        42 => "OPAL_QUERY_CPU_STATUS",
        43 => "OPAL_WRITE_OPPANEL",
        44 => "OPAL_PCI_MAP_PE_DMA_WINDOW",
        45 => "OPAL_PCI_MAP_PE_DMA_WINDOW_REAL",
        49 => "OPAL_PCI_RESET",
        50 => "OPAL_PCI_GET_HUB_DIAG_DATA",
        51 => "OPAL_PCI_GET_PHB_DIAG_DATA",
        52 => "OPAL_PCI_FENCE_PHB",
        53 => "OPAL_PCI_REINIT",
        54 => "OPAL_PCI_MASK_PE_ERROR",
        55 => "OPAL_SET_SLOT_LED_STATUS",
        56 => "OPAL_GET_EPOW_STATUS",
        57 => "OPAL_SET_SYSTEM_ATTENTION_LED",
        60 => "OPAL_PCI_NEXT_ERROR",
        61 => "OPAL_PCI_EEH_FREEZE_STATUS2",
        62 => "OPAL_PCI_POLL",
        63 => "OPAL_PCI_MSI_EOI",
        64 => "OPAL_PCI_GET_PHB_DIAG_DATA2",
        65 => "OPAL_XSCOM_READ",
        66 => "OPAL_XSCOM_WRITE",
        67 => "OPAL_LPC_READ",
        68 => "OPAL_LPC_WRITE",
        69 => "OPAL_RETURN_CPU",
        70 => "OPAL_REINIT_CPUS",
        71 => "OPAL_ELOG_READ",
        72 => "OPAL_ELOG_WRITE",
        73 => "OPAL_ELOG_ACK",
        74 => "OPAL_ELOG_RESEND",
        75 => "OPAL_ELOG_SIZE",
        76 => "OPAL_FLASH_VALIDATE",
        77 => "OPAL_FLASH_MANAGE",
        78 => "OPAL_FLASH_UPDATE",
        79 => "OPAL_RESYNC_TIMEBASE",
        80 => "OPAL_CHECK_TOKEN",
        81 => "OPAL_DUMP_INIT",
        82 => "OPAL_DUMP_INFO",
        83 => "OPAL_DUMP_READ",
        84 => "OPAL_DUMP_ACK",
        85 => "OPAL_GET_MSG",
        86 => "OPAL_CHECK_ASYNC_COMPLETION",
        87 => "OPAL_SYNC_HOST_REBOOT",
        88 => "OPAL_SENSOR_READ",
        89 => "OPAL_GET_PARAM",
        90 => "OPAL_SET_PARAM",
        91 => "OPAL_DUMP_RESEND",
        92 => "OPAL_ELOG_SEND",
        93 => "OPAL_PCI_SET_PHB_CAPI_MODE",
        94 => "OPAL_DUMP_INFO2",
        95 => "OPAL_WRITE_OPPANEL_ASYNC",
        96 => "OPAL_PCI_ERR_INJECT",
        97 => "OPAL_PCI_EEH_FREEZE_SET",
        98 => "OPAL_HANDLE_HMI",
        99 => "OPAL_CONFIG_CPU_IDLE_STATE",
        100 => "OPAL_SLW_SET_REG",
        101 => "OPAL_REGISTER_DUMP_REGION",
        102 => "OPAL_UNREGISTER_DUMP_REGION",
        103 => "OPAL_WRITE_TPO",
        104 => "OPAL_READ_TPO",
        105 => "OPAL_GET_DPO_STATUS",
        106 => "OPAL_OLD_I2C_REQUEST",
        107 => "OPAL_IPMI_SEND",
        108 => "OPAL_IPMI_RECV",
        109 => "OPAL_I2C_REQUEST",
        110 => "OPAL_FLASH_READ",
        111 => "OPAL_FLASH_WRITE",
        112 => "OPAL_FLASH_ERASE",
        113 => "OPAL_PRD_MSG",
        114 => "OPAL_LEDS_GET_INDICATOR",
        115 => "OPAL_LEDS_SET_INDICATOR",
        116 => "OPAL_CEC_REBOOT2",
        117 => "OPAL_CONSOLE_FLUSH",
        118 => "OPAL_GET_DEVICE_TREE",
        119 => "OPAL_PCI_GET_PRESENCE_STATE",
        120 => "OPAL_PCI_GET_POWER_STATE",
        121 => "OPAL_PCI_SET_POWER_STATE",
        122 => "OPAL_INT_GET_XIRR",
        123 => "OPAL_INT_SET_CPPR",
        124 => "OPAL_INT_EOI",
        125 => "OPAL_INT_SET_MFRR",
        126 => "OPAL_PCI_TCE_KILL",
        127 => "OPAL_NMMU_SET_PTCR",
        128 => "OPAL_XIVE_RESET",
        129 => "OPAL_XIVE_GET_IRQ_INFO",
        130 => "OPAL_XIVE_GET_IRQ_CONFIG",
        131 => "OPAL_XIVE_SET_IRQ_CONFIG",
        132 => "OPAL_XIVE_GET_QUEUE_INFO",
        133 => "OPAL_XIVE_SET_QUEUE_INFO",
        134 => "OPAL_XIVE_DONATE_PAGE",
        135 => "OPAL_XIVE_ALLOCATE_VP_BLOCK",
        136 => "OPAL_XIVE_FREE_VP_BLOCK",
        137 => "OPAL_XIVE_GET_VP_INFO",
        138 => "OPAL_XIVE_SET_VP_INFO",
        139 => "OPAL_XIVE_ALLOCATE_IRQ",
        140 => "OPAL_XIVE_FREE_IRQ",
        141 => "OPAL_XIVE_SYNC",
        142 => "OPAL_XIVE_DUMP",
        143 => "OPAL_XIVE_GET_QUEUE_STATE",
        144 => "OPAL_XIVE_SET_QUEUE_STATE",
        145 => "OPAL_SIGNAL_SYSTEM_RESET",
        146 => "OPAL_NPU_INIT_CONTEXT",
        147 => "OPAL_NPU_DESTROY_CONTEXT",
        148 => "OPAL_NPU_MAP_LPAR",
        149 => "OPAL_IMC_COUNTERS_INIT",
        150 => "OPAL_IMC_COUNTERS_START",
        151 => "OPAL_IMC_COUNTERS_STOP",
        152 => "OPAL_GET_POWERCAP",
        153 => "OPAL_SET_POWERCAP",
        154 => "OPAL_GET_POWER_SHIFT_RATIO",
        155 => "OPAL_SET_POWER_SHIFT_RATIO",
        156 => "OPAL_SENSOR_GROUP_CLEAR",
        157 => "OPAL_PCI_SET_P2P",
        158 => "OPAL_QUIESCE",
        159 => "OPAL_NPU_SPA_SETUP",
        160 => "OPAL_NPU_SPA_CLEAR_CACHE",
        161 => "OPAL_NPU_TL_SET",
        162 => "OPAL_SENSOR_READ_U64",
        163 => "OPAL_SENSOR_GROUP_ENABLE",
        164 => "OPAL_PCI_GET_PBCQ_TUNNEL_BAR",
        165 => "OPAL_PCI_SET_PBCQ_TUNNEL_BAR",
        166 => "OPAL_HANDLE_HMI2",
        167 => "OPAL_NX_COPROC_INIT",
        168 => "OPAL_NPU_SET_RELAXED_ORDER",
        169 => "OPAL_NPU_GET_RELAXED_ORDER",
        170 => "OPAL_XIVE_GET_VP_STATE",
        171 => "OPAL_NPU_MEM_ALLOC",
        172 => "OPAL_NPU_MEM_RELEASE",
        173 => "OPAL_MPIPL_UPDATE",
        174 => "OPAL_MPIPL_REGISTER_TAG",
        175 => "OPAL_MPIPL_QUERY_TAG",
        176 => "OPAL_SECVAR_GET",
        177 => "OPAL_SECVAR_GET_NEXT",
        178 => "OPAL_SECVAR_ENQUEUE_UPDATE",
        179 => "OPAL_PHB_SET_OPTION",
        180 => "OPAL_PHB_GET_OPTION",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spot checks against include/opal-api.h, covering every area the firmware uses.
    #[test]
    fn tokens_are_pinned() {
        let pinned = [
            (OPAL_CONSOLE_WRITE, 1),
            (OPAL_CONSOLE_READ, 2),
            (OPAL_RTC_READ, 3),
            (OPAL_RTC_WRITE, 4),
            (OPAL_CEC_POWER_DOWN, 5),
            (OPAL_CEC_REBOOT, 6),
            (OPAL_POLL_EVENTS, 10),
            (OPAL_CONSOLE_WRITE_BUFFER_SPACE, 25),
            (OPAL_START_CPU, 41),
            (OPAL_QUERY_CPU_STATUS, 42),
            (OPAL_XSCOM_READ, 65),
            (OPAL_RETURN_CPU, 69),
            (OPAL_REINIT_CPUS, 70),
            (OPAL_CHECK_TOKEN, 80),
            (OPAL_GET_MSG, 85),
            (OPAL_CHECK_ASYNC_COMPLETION, 86),
            (OPAL_SYNC_HOST_REBOOT, 87),
            (OPAL_HANDLE_HMI, 98),
            (OPAL_CEC_REBOOT2, 116),
            (OPAL_CONSOLE_FLUSH, 117),
            (OPAL_NMMU_SET_PTCR, 127),
            (OPAL_XIVE_RESET, 128),
            (OPAL_XIVE_ALLOCATE_IRQ, 139),
            (OPAL_XIVE_GET_QUEUE_STATE, 143),
            (OPAL_XIVE_SET_QUEUE_STATE, 144),
            (OPAL_SIGNAL_SYSTEM_RESET, 145),
            (OPAL_QUIESCE, 158),
            (OPAL_HANDLE_HMI2, 166),
            (OPAL_XIVE_GET_VP_STATE, 170),
            (OPAL_PHB_GET_OPTION, 180),
        ];
        for (tok, n) in pinned {
            assert_eq!(tok, n);
        }
        assert_eq!(name(OPAL_CHECK_TOKEN), Some("OPAL_CHECK_TOKEN"));
        assert_eq!(name(11), None);
        assert_eq!(name(OPAL_LAST + 1), None);
    }
}
