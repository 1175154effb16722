//! The kernels' variant entry points for the tests (`tests/kernels_*.rs`), which compare every
//! variant with the reference. Not part of the stable API: hidden from the documentation.
//!
//! The engine itself reaches a variant only through its family's `select` and `eval`; the
//! functions here let a test run one variant directly (and see whether it applied) and build
//! the tables the sparse variants read.

/// CONV_2D's variants.
pub mod conv {
    pub use crate::engine::kernels::conv::packed::{
        conv as packed, scratch_bytes as packed_scratch_bytes,
    };
    pub use crate::engine::kernels::conv::sparse::{
        bounded, nonzero, table_bytes, worth_it, write_table,
    };
}

/// FULLY_CONNECTED's variants.
pub mod fully_connected {
    pub use crate::engine::kernels::fully_connected::sparse::{
        all_fast, dot, fill_row, nonzero, rows, split_row, table_bytes, worth_it, write_table, Row,
        UnitConstants,
    };
}

/// DEPTHWISE_CONV_2D's variants.
pub mod depthwise {
    pub use crate::engine::kernels::depthwise::folded::{
        applies as folded_applies, depthwise as folded, scratch_bytes as folded_scratch_bytes,
    };
    pub use crate::engine::kernels::depthwise::packed::{
        applies as packed_applies, depthwise as packed,
    };
    pub use crate::engine::kernels::depthwise::single_channel::{
        applies as single_channel_applies, depthwise as single_channel,
    };
}
