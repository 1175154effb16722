//! Thumb-1 assembly the Folded kernels share (cores without the DSP extension: Cortex-M0/M0+).
//!
//! The Folded CONV_2D (`conv::folded`) and DEPTHWISE_CONV_2D (`depthwise::folded`) kernels walk
//! one row of weights for four output pixels at a time with the same register use: the weights
//! at r1, the four pixels' inputs at r2..r5, a shared index in r0 that counts up to zero, the
//! four accumulators in r8, r10, r11 and r12, r6 and r7 as temporaries (saved by the caller's
//! assembly). [`tap4`] is one step of that walk.

/// One tap of the four-pixel walk: the weight at `r1 + r0` into r6, each pixel's value at
/// `r2..r5 + r0` into r7, multiplied and added to that pixel's accumulator (r8, r10, r11,
/// r12), then the index r0 steps up (setting the flags: zero after the last tap). Thirteen
/// instructions and the index step; the string goes into an `asm!` template.
macro_rules! tap4 {
    () => {
        concat!(
            "ldrsb r6, [r1, r0]\n",
            "ldrsb r7, [r2, r0]\n",
            "muls r7, r6, r7\n",
            "add r8, r7\n",
            "ldrsb r7, [r3, r0]\n",
            "muls r7, r6, r7\n",
            "add r10, r7\n",
            "ldrsb r7, [r4, r0]\n",
            "muls r7, r6, r7\n",
            "add r11, r7\n",
            "ldrsb r7, [r5, r0]\n",
            "muls r7, r6, r7\n",
            "add r12, r7\n",
            "adds r0, #1\n",
        )
    };
}

pub(crate) use tap4;
