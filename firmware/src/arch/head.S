/* SPDX-License-Identifier: Apache-2.0
 *
 * Opalite's head: the only code that runs before Rust has a stack, the exception vectors,
 * the OPAL call entry and the two ways out to the OS (kernel entry, secondary start).
 *
 * QEMU loads the image at 0 and starts every thread at 0x10 at once, big-endian,
 * hypervisor real mode, FDT in r3. Mambo loads it at its link address instead. Everything
 * up to the jump into the relocated copy is position-independent (relative branches, and
 * addresses computed from the runtime base in r30).
 *
 * Constants come from layout.rs through global_asm! const operands.
 */

.set SPRN_DEC, 22
.set SPRN_SRR0, 26
.set SPRN_SRR1, 27
.set SPRN_DSISR, 18
.set SPRN_DAR, 19
.set SPRN_HSPRG0, 304
.set SPRN_HSPRG1, 305
.set SPRN_HSRR0, 314
.set SPRN_HSRR1, 315
.set SPRN_PSSCR, 855
.set SPRN_PIR, 1023

/* msgsnd/msgclr operand: type 5 = hypervisor ("server") doorbell. */
.set DBELL_SERVER, 0x28000000

/* Per-CPU area header, at the bottom of each CPU's stack region (layout.rs PCPU_*):
 * how many OPAL calls the CPU is inside (the quiesce protocol's "in OPAL" count), and the
 * quiesce flag another CPU sets on it (0 none, 1 HOLD, 2 REJECT). */
.set PCPU_OPAL_DEPTH, {pcpu_opal_depth}
.set PCPU_QUIESCE, {pcpu_quiesce}
.set PCPU_INJECT_HMI, {pcpu_inject_hmi}
.set QUIESCE_REJECT, 2

/* OPAL entry frame (ELFv2: back chain, CR, LR, TOC, then a 64-byte parameter area). */
.set OPAL_FRAME, 192
.set OF_OS_R1, 96
.set OF_OS_LR, 104
.set OF_PCPU, 112
.set OF_DEPTH, 120
.set OF_ARGS, 128

    .section .head, "ax", @progbits
    .globl _image_head
_image_head:
    .ascii "OPALITE\0"
    .long 0, 0

/* ----- 0x10: every thread, all at once ----- */
    .org 0x10
    .globl _start
_start:
    b       early_entry

/* Words the threads share before relocation. They live in the copy QEMU loaded (at 0), so
 * a reset that reloads the image resets them too. */
    .org 0x20
elect_ticket:       .long 0     /* atomic ticket: whoever draws 0 is the boot thread */
    .globl secondaries_go
secondaries_go:     .long 0     /* set by the boot thread once per-CPU stacks exist */

/* ----- exception vectors: during firmware time only (Linux overwrites them) ----- */
.macro VECTOR n
    .org \n
    mtspr   SPRN_HSPRG1, 12
    mfctr   12
    mtspr   SPRN_HSPRG0, 12
    lis     12, exception_common@ha
    addi    12, 12, exception_common@l
    mtctr   12
    li      12, \n
    bctr
.endm
    VECTOR 0x100
    VECTOR 0x200
    VECTOR 0x300
    VECTOR 0x380
    VECTOR 0x400
    VECTOR 0x480
    VECTOR 0x500
    VECTOR 0x600
    VECTOR 0x700
    VECTOR 0x800
    VECTOR 0x900
    VECTOR 0x980
    VECTOR 0xa00
    VECTOR 0xb00
    VECTOR 0xc00
    VECTOR 0xd00
    VECTOR 0xe00
    VECTOR 0xe20
    VECTOR 0xe40
    VECTOR 0xe60
    VECTOR 0xe80
    VECTOR 0xea0
    VECTOR 0xf00
    VECTOR 0xf20
    VECTOR 0xf40
    VECTOR 0xf60
    VECTOR 0xf80

/* The boot code sits in the gap before 0x1500 rather than at 0x2000 (2.5 KiB of zeros in
 * the image): 0x1000-0x14ff holds no vector on POWER9/POWER10 (the VECTOR below fails to
 * assemble if this code grows past 0x1500), and 0x1620-0x17ff stays zero (the .org
 * after the last vector), so a stray exception there (POWER8's 0x1700) is an illegal
 * instruction. */
early_entry:
    /* r30 = where this copy runs (0 under QEMU). */
    bcl     20, 31, 1f
1:  mflr    30
    addi    30, 30, (_image_head - 1b)
    mr      31, 3                       /* FDT */

    /* Draw a ticket. */
    addi    4, 30, (elect_ticket - _image_head)
2:  lwarx   5, 0, 4
    addi    6, 5, 1
    stwcx.  6, 0, 4
    bne-    2b
    isync
    cmpwi   5, 0
    bne     secondary_wait

    /* Boot thread: copy the image to its link address unless it already runs there. */
    lis     4, _image_start@ha
    addi    4, 4, _image_start@l
    cmpd    30, 4
    beq     3f
    lis     5, _image_copy_end@ha
    addi    5, 5, _image_copy_end@l
    subf    5, 4, 5                     /* bytes to copy (multiple of 8) */
    srdi    5, 5, 3
    mtctr   5
    addi    6, 30, -8
    addi    7, 4, -8
4:  ldu     8, 8(6)
    stdu    8, 8(7)
    bdnz    4b
    /* Make the new copy visible to instruction fetch. */
    mr      6, 4
    srdi    5, 5, 4                     /* 128-byte lines: bytes/128 = dwords/16 */
    addi    5, 5, 1
    mtctr   5
5:  dcbst   0, 6
    addi    6, 6, 128
    bdnz    5b
    sync
    mr      6, 4
    mtctr   5
6:  icbi    0, 6
    addi    6, 6, 128
    bdnz    6b
    sync
    isync
3:  lis     12, boot_relocated@ha
    addi    12, 12, boot_relocated@l
    mtctr   12
    bctr

.macro ENABLE_MACHINE_CHECKS
    /* MSR[ME] on, when our vectors are at 0 (QEMU loaded the image there; r30 = the load
     * address) and the relocated copy their stubs branch to exists (we are in it). The
     * threads start with ME off, and a machine check with ME=0 is a checkstop: the
     * machine stops without a word. With it on, a firmware-time machine check reaches
     * 0x200 and is reported. Mambo loads the image at its link address: nothing of ours
     * is at 0x200 there, so ME stays off. mtmsrd cannot set ME; hrfid can. Clobbers r4. */
    cmpdi   30, 0
    bne     98f
    mfmsr   4
    ori     4, 4, 0x1000
    mtspr   SPRN_HSRR1, 4
    bcl     20, 31, 97f
97: mflr    4
    addi    4, 4, (98f - 97b)
    mtspr   SPRN_HSRR0, 4
    hrfid
98:
.endm

boot_relocated:
    ENABLE_MACHINE_CHECKS
    lis     2, .TOC.@ha
    addi    2, 2, .TOC.@l
    /* Clear BSS (the boot stack lives there, so before using it). */
    lis     4, _bss_start@ha
    addi    4, 4, _bss_start@l
    lis     5, _bss_end@ha
    addi    5, 5, _bss_end@l
    subf    5, 4, 5
    srdi    5, 5, 3
    mtctr   5
    addi    4, 4, -8
    li      0, 0
7:  stdu    0, 8(4)
    bdnz    7b
    lis     1, _boot_stack_top@ha
    addi    1, 1, _boot_stack_top@l
    li      0, 0
    stdu    0, -128(1)
    mr      3, 31                       /* fdt */
    mr      4, 30                       /* where QEMU loaded us */
    bl      boot_main
    b       .

/* Secondary threads, still in the loaded copy: sleep until the boot thread has built the
 * per-CPU areas. Wake-ups are doorbells (msgsnd), with the decrementer as a fallback
 * for doorbells that cannot reach across cores on real hardware. Order matters: clear the
 * doorbell first, then look at the flag, then stop, so a doorbell sent after the look is
 * still pending and ends the stop at once. PSSCR.EC=0 and MSR[EE]=0: the thread wakes on
 * any exception condition and carries on after the stop, never through a vector. */
secondary_wait:
    li      4, 0
    mtspr   SPRN_PSSCR, 4
8:  lis     4, 0x2800
    .long   0x7c0021dc                  /* msgclr r4 */
    lwz     5, (secondaries_go - _image_head)(30)
    cmpwi   5, 0
    bne     9f
    lis     4, {park_dec_hi}
    ori     4, 4, {park_dec_lo}
    mtspr   SPRN_DEC, 4
    stop
    b       8b
9:  isync
    lis     12, secondary_relocated@ha
    addi    12, 12, secondary_relocated@l
    mtctr   12
    bctr

    VECTOR 0x1500
    VECTOR 0x1600
    .org 0x1800

/* ----- everything below runs at the link address ----- */
    .text
    .p2align 4

/* Per-CPU area of this thread into \rd (0 if the thread is unknown); clobbers \rt. */
.macro PCPU_BASE rd, rt
    mfspr   \rd, SPRN_PIR
    clrldi  \rd, \rd, 64 - {pir_table_bits}
    sldi    \rd, \rd, 1
    lis     \rt, PIR_TO_CPU@ha
    addi    \rt, \rt, PIR_TO_CPU@l
    lhzx    \rd, \rt, \rd               /* cpu index + 1, 0 = not ours */
    cmpdi   \rd, 0
    beq     11f
    addi    \rd, \rd, -1
    sldi    \rd, \rd, {stack_shift}
    lis     \rt, {stacks_base_hi}
    ori     \rt, \rt, {stacks_base_lo}
    add     \rd, \rd, \rt
11:
.endm

secondary_relocated:
    ENABLE_MACHINE_CHECKS
    lis     2, .TOC.@ha
    addi    2, 2, .TOC.@l
    PCPU_BASE 3, 4
    cmpdi   3, 0
    beq     unknown_thread
    lis     1, {stack_size_hi}
    ori     1, 1, {stack_size_lo}
    add     1, 1, 3
    li      0, 0
    stdu    0, -128(1)
    mfspr   3, SPRN_PIR
    bl      secondary_main
    b       .

/* A thread the device tree does not list: keep it asleep for good, in relocated memory
 * (the loaded copy at 0 belongs to the OS later). */
unknown_thread:
    li      4, 0
    mtspr   SPRN_PSSCR, 4
1:  lis     4, 0x2800
    .long   0x7c0021dc                  /* msgclr r4 */
    lis     4, 0x7fff
    mtspr   SPRN_DEC, 4
    stop
    b       1b

/* ----- OPAL call entry -----
 * In: big-endian, real mode, HV, EE=0; r0 = token, r3-r10 = arguments, r1 = the OS stack,
 * r2 = OPAL base, LR = the OS return address. Out: r3 = signed 64-bit result, r1, r13-r31,
 * CR2-4 preserved (Rust preserves r14-r31/CR2-4 itself and never touches r13). A call that
 * arrives while this CPU is already inside OPAL (an NMI or machine check taken in OPAL)
 * runs on the emergency part of the stack, so the interrupted frame survives.
 *
 * Quiesce (OPAL_QUIESCE, sreset::quiesce): count ourselves in, full barrier, then read our
 * quiesce flag; the owner sets the flag, full barrier, then reads our count. One of the
 * two sees the other, so no call slips in unseen. If held, we count ourselves out and
 * wait here, touching no firmware memory but our header, at low priority: a system reset
 * taken while waiting finds the CPU outside OPAL, and if its handler returns, we go on
 * waiting. Rejected calls return OPAL_BUSY at once. */
    .globl opal_entry
    .p2align 4
opal_entry:
    mtctr   0                           /* token */
    mr      12, 1                       /* OS stack */
    PCPU_BASE 11, 1
    cmpdi   11, 0
    beq     opal_entry_stranger
opal_entry_retry:
    lwz     0, PCPU_OPAL_DEPTH(11)
    cmpwi   0, 2                        /* nested twice already: refuse, touch nothing */
    bge     opal_entry_too_deep
    li      1, 1                        /* not "addi 1,0,1": rA=0 reads as zero */
    add     1, 1, 0
    stw     1, PCPU_OPAL_DEPTH(11)
    sync
    lwz     1, PCPU_QUIESCE(11)
    cmpwi   1, 0
    bne-    opal_entry_quiesced
    cmpwi   0, 0
    addi    1, 11, {emergency_stack_top}
    bne     1f
    lis     1, {stack_size_hi}
    ori     1, 1, {stack_size_lo}
    add     1, 1, 11
1:  rldicr  1, 1, 0, 59                 /* 16-byte aligned */
    stdu    12, -OPAL_FRAME(1)          /* back chain = OS r1, for debuggers */
    std     12, OF_OS_R1(1)
    mflr    12
    std     12, OF_OS_LR(1)
    std     11, OF_PCPU(1)
    std     0, OF_DEPTH(1)
    std     3, OF_ARGS+0(1)
    std     4, OF_ARGS+8(1)
    std     5, OF_ARGS+16(1)
    std     6, OF_ARGS+24(1)
    std     7, OF_ARGS+32(1)
    std     8, OF_ARGS+40(1)
    std     9, OF_ARGS+48(1)
    std     10, OF_ARGS+56(1)
    lis     2, .TOC.@ha
    addi    2, 2, .TOC.@l
    mfctr   3
    addi    4, 1, OF_ARGS
    mr      5, 0
    bl      opal_entry_rust
    ld      11, OF_PCPU(1)
    lwz     12, PCPU_OPAL_DEPTH(11)
    addi    12, 12, -1
    stw     12, PCPU_OPAL_DEPTH(11)
    ld      12, OF_OS_LR(1)
    mtlr    12
    ld      1, OF_OS_R1(1)
.if {inject_hmi}
    lwz     12, PCPU_INJECT_HMI(11)
    cmpwi   12, 0
    bne-    opal_exit_into_hmi
.endif
    blr

.if {inject_hmi}
/* Test builds only (feature hmi-inject; the release image has none of this). QEMU never
 * raises a hypervisor maintenance interrupt, so the firmware delivers one the way the
 * hardware would have if the HMI had been pending when the call returned: HSRR0/HSRR1 =
 * the OS's return address and the MSR it returns with, then the vector at 0xE60 with the
 * interrupt MSR (SF, HV, ME; LE from HID0[HILE]; real mode, EE=0, RI=0). r3 (the result),
 * r1, r2 and r13-r31 are the OS's; r0 and r4-r12 are volatile across an OPAL call. The
 * OS's handler then calls OPAL_HANDLE_HMI2, which reads the injected HMER. */
opal_exit_into_hmi:
    li      12, 0
    stw     12, PCPU_INJECT_HMI(11)
    mtmsrd  12, 1                       /* RI=0 (EE stays 0): SRR0/1 are ours until rfid */
    mflr    12
    mtspr   SPRN_HSRR0, 12
    mfmsr   12
    mtspr   SPRN_HSRR1, 12
    mfspr   12, 1008                    /* HID0 */
    rldicl  12, 12, 5, 63               /* HILE (IBM bit 4) -> bit 63: MSR[LE] */
    lis     11, 0x9000                  /* SF | HV */
    sldi    11, 11, 32
    ori     11, 11, 0x1000              /* ME */
    or      12, 12, 11
    mtspr   SPRN_SRR1, 12
    li      12, 0xe60
    mtspr   SPRN_SRR0, 12
    rfid
.endif

.if {inject_hmi}
/* Test builds only: the boot-time machine-check self-test (hmi_inject.rs).
 * mce_selftest_load(addr r3) -> u64 loads from `addr`, an address nothing answers, so
 * the load takes a machine check; mce_selftest_resume(&EXC_FRAME r3) -> ! then returns
 * from that load as if it had read -1: r1, r2, LR, CR and the non-volatile r14-r31 come
 * back from the frame exception_common saved (the Rust handler that calls this has used
 * r14-r31 for itself and never returns to restore them: leaving them was a heisenbug that
 * showed whenever the boot code's register allocation changed); the volatile registers
 * are a call's to clobber. */
    .globl mce_selftest_load
mce_selftest_load:
    ld      3, 0(3)
    blr

    .globl mce_selftest_resume
mce_selftest_resume:
    ld      1, 8(3)
    ld      2, 16(3)
    ld      14, 112(3)
    ld      15, 120(3)
    ld      16, 128(3)
    ld      17, 136(3)
    ld      18, 144(3)
    ld      19, 152(3)
    ld      20, 160(3)
    ld      21, 168(3)
    ld      22, 176(3)
    ld      23, 184(3)
    ld      24, 192(3)
    ld      25, 200(3)
    ld      26, 208(3)
    ld      27, 216(3)
    ld      28, 224(3)
    ld      29, 232(3)
    ld      30, 240(3)
    ld      31, 248(3)
    ld      4, 328(3)                   /* CR */
    mtcr    4
    ld      4, 312(3)                   /* LR */
    mtlr    4
    ld      4, 264(3)                   /* SRR0: the load */
    addi    4, 4, 4
    mtspr   SPRN_SRR0, 4
    ld      4, 272(3)                   /* SRR1: the MSR at the load (ME back on) */
    mtspr   SPRN_SRR1, 4
    li      3, -1
    rfid
.endif

/* Held or rejected by OPAL_QUIESCE: r0 = our depth before this call, r1 = the flag. */
opal_entry_quiesced:
    stw     0, PCPU_OPAL_DEPTH(11)      /* not inside after all */
    sync
    cmpwi   1, QUIESCE_REJECT
    beq     1f
2:  or      1, 1, 1                     /* low SMT priority while held */
    lwz     1, PCPU_QUIESCE(11)
    cmpwi   1, 0
    bne     2b
    or      2, 2, 2
    b       opal_entry_retry
1:  mr      1, 12
    li      3, -2                       /* OPAL_BUSY */
    blr

/* OPAL_RETURN_CPU's way out: return_to_park(per-CPU base r3, PIR r4) -> !
 * The call (and, when it was made from inside an interrupted call, that call too) is
 * abandoned: the CPU counts itself out of OPAL, takes its stack from the top again and
 * parks in Rust (cpu.rs returned_main) until OPAL_START_CPU. */
    .globl return_to_park
return_to_park:
    li      0, 0
    stw     0, PCPU_OPAL_DEPTH(3)
    sync
    lis     1, {stack_size_hi}
    ori     1, 1, {stack_size_lo}
    add     1, 1, 3
    li      0, 0
    stdu    0, -128(1)
    mr      3, 4
    bl      returned_main
    b       .

/* A thread we never set up called OPAL, or OPAL was entered a third time on one CPU
 * (the crash path faulted inside OPAL): refuse without touching memory. */
opal_entry_too_deep:
opal_entry_stranger:
    mr      1, 12
    li      3, -11                      /* OPAL_INTERNAL_ERROR */
    blr

/* enter_os(entry r3, fdt r4, opal_base r5, opal_entry r6, pir_or_zero r7) -> !
 * hrfid to the OS in big-endian hypervisor real mode with the register contract of
 * opal-boot-contract.md §3.1 (kernel) or §6.1 (secondary: r3 = PIR). */
    .globl enter_os_kernel
enter_os_kernel:
    mtspr   SPRN_HSRR0, 3
    lis     0, 0x9000
    sldi    0, 0, 32
    mtspr   SPRN_HSRR1, 0
    mr      3, 4
    li      4, 0
    mr      8, 5
    mr      9, 6
    li      5, 0
    lis     6, 0x6550
    ori     6, 6, 0x4150
    li      7, 0
    li      0, 0
    hrfid

    .globl enter_os_secondary
enter_os_secondary:
    mtspr   SPRN_HSRR0, 3
    lis     0, 0x9000
    sldi    0, 0, 32
    mtspr   SPRN_HSRR1, 0
    mr      3, 4
    li      4, 0
    li      5, 0
    li      0, 0
    hrfid

/* Unexpected exception during firmware time: save everything into EXC_FRAME and report.
 * Vector stubs left r12 in HSPRG1, CTR in HSPRG0 and the vector number in r12. Only the
 * first thread to fault reports; later ones stop quietly. */
exception_common:
    mtspr   272, 1                      /* SPRG0/1: free during firmware time */
    mtspr   273, 2
    lis     2, EXC_LOCK@ha
    addi    2, 2, EXC_LOCK@l
1:  lwarx   1, 0, 2
    cmpwi   1, 0
    bne     exception_quiet
    li      1, 1
    stwcx.  1, 0, 2
    bne-    1b
    isync
    lis     1, EXC_FRAME@ha
    addi    1, 1, EXC_FRAME@l
    std     0, 0(1)
    mfspr   3, 272
    std     3, 8(1)
    mfspr   3, 273
    std     3, 16(1)
    std     3, 24(1)
    std     4, 32(1)
    std     5, 40(1)
    std     6, 48(1)
    std     7, 56(1)
    std     8, 64(1)
    std     9, 72(1)
    std     10, 80(1)
    std     11, 88(1)
    mfspr   3, SPRN_HSPRG1
    std     3, 96(1)
    std     13, 104(1)
    std     14, 112(1)
    std     15, 120(1)
    std     16, 128(1)
    std     17, 136(1)
    std     18, 144(1)
    std     19, 152(1)
    std     20, 160(1)
    std     21, 168(1)
    std     22, 176(1)
    std     23, 184(1)
    std     24, 192(1)
    std     25, 200(1)
    std     26, 208(1)
    std     27, 216(1)
    std     28, 224(1)
    std     29, 232(1)
    std     30, 240(1)
    std     31, 248(1)
    std     12, 256(1)                  /* vector */
    mfspr   3, SPRN_SRR0
    std     3, 264(1)
    mfspr   3, SPRN_SRR1
    std     3, 272(1)
    mfspr   3, SPRN_HSRR0
    std     3, 280(1)
    mfspr   3, SPRN_HSRR1
    std     3, 288(1)
    mfspr   3, SPRN_DAR
    std     3, 296(1)
    mfspr   3, SPRN_DSISR
    std     3, 304(1)
    mflr    3
    std     3, 312(1)
    mfspr   3, SPRN_HSPRG0
    std     3, 320(1)                   /* CTR */
    mfcr    3
    std     3, 328(1)
    mfxer   3
    std     3, 336(1)
    mfspr   3, SPRN_PIR
    std     3, 344(1)
    lis     2, .TOC.@ha
    addi    2, 2, .TOC.@l
    mr      3, 1
    lis     1, _exc_stack_top@ha
    addi    1, 1, _exc_stack_top@l
    li      0, 0
    stdu    0, -128(1)
    bl      unexpected_exception
exception_quiet:
    li      4, 0
    mtspr   SPRN_PSSCR, 4
2:  stop
    b       2b
