//! What one inference costs, before running it: multiply-accumulates and elements touched, per
//! operator and in total, read from the checked model (shapes and options only, no arena).
//!
//! A firmware can bound its inference time from these figures (times its measured cycles per
//! MAC and per element) before it ever invokes the model: after [`TfLiteModel::load`]'s checks,
//! every builtin operator's work is at most a constant times its cost (the argument, operator
//! by operator, is in `docs/reliability.md`, "Bounded inference").
//!
//! What the figures count:
//! * `macs`: multiply-accumulates of CONV_2D (`output × kh × kw × input depth per group`),
//!   DEPTHWISE_CONV_2D (`output × kh × kw`), FULLY_CONNECTED (`output × depth`) and MUL
//!   (`output`); zero elsewhere.
//! * `elements`: tensor elements read and written: every input's elements plus the output's,
//!   except where a kernel reads an input element more than once (a pooling window reads
//!   `output × window` values, where the window is clipped to the input; ADD and MUL read two
//!   values per output element when they broadcast) and for the reshapes, which move nothing.
//!
//! A CUSTOM operator's figures are its operands' elements only: what its kernel does is the
//! application's to bound.
//!
//! [`TfLiteModel::load`]: crate::engine::TfLiteModel::load

use core::ops::{Add, AddAssign};

use crate::engine::model::operator::{Op, OperatorInfo};
use crate::engine::model::TfLiteModel;

/// The work of one operator or of a whole inference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Cost {
    /// Multiply-accumulates (see the module docs for which operators count them).
    pub macs: u64,
    /// Tensor elements read and written.
    pub elements: u64,
}

impl Add for Cost {
    type Output = Cost;

    /// The sum, saturating (the figures of a checked model are far from `u64::MAX`).
    fn add(self, other: Cost) -> Cost {
        Cost {
            macs: self.macs.saturating_add(other.macs),
            elements: self.elements.saturating_add(other.elements),
        }
    }
}

impl AddAssign for Cost {
    fn add_assign(&mut self, other: Cost) {
        *self = *self + other;
    }
}

/// One operator's cost, as [`TfLiteModel::operator_costs`] yields it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OperatorCost {
    /// Position in execution order.
    pub index: u32,
    /// Builtin code ([`code`](crate::engine::model::operator::code)).
    pub code: i32,
    /// Its work.
    pub cost: Cost,
}

impl<'m> TfLiteModel<'m> {
    /// The work of one inference: the sum of [`operator_costs`](TfLiteModel::operator_costs).
    pub fn cost(&self) -> Cost {
        self.operator_costs().fold(Cost::default(), |total, c| total + c.cost)
    }

    /// Each operator's work, in execution order (an operator that does not read is skipped; a
    /// loaded model has none).
    pub fn operator_costs(&self) -> impl Iterator<Item = OperatorCost> + '_ {
        (0..self.operator_count() as u32).filter_map(move |i| {
            let op = self.operator(i).ok()?;
            Some(OperatorCost { index: i, code: op.code, cost: self.operator_cost(&op) })
        })
    }

    /// The work of operator `op` of this model (see the module docs).
    pub fn operator_cost(&self, op: &OperatorInfo<'m>) -> Cost {
        let elements = |t: Option<u32>| -> u64 {
            t.and_then(|t| self.tensor(t).ok()).map_or(0, |t| t.elements() as u64)
        };
        let out = elements(op.output(0));
        let inputs =
            (0..op.input_count()).fold(0u64, |sum, j| sum.saturating_add(elements(op.input(j))));
        // Dimension `d` of input `j`'s shape.
        let dim = |j: usize, d: usize| -> u64 {
            op.input(j)
                .and_then(|t| self.tensor(t).ok())
                .and_then(|t| t.shape.dims().get(d).copied())
                .map_or(0, u64::from)
        };
        let rank = |j: usize| -> usize {
            op.input(j).and_then(|t| self.tensor(t).ok()).map_or(0, |t| t.shape.dims().len())
        };
        let touched = inputs.saturating_add(out);
        let (macs, elements) = match op.op {
            Op::Conv2d(_) if rank(1) == 4 => {
                (out.saturating_mul(dim(1, 1) * dim(1, 2) * dim(1, 3)), touched)
            }
            Op::DepthwiseConv2d { .. } if rank(1) == 4 => {
                (out.saturating_mul(dim(1, 1) * dim(1, 2)), touched)
            }
            Op::FullyConnected { .. } if rank(1) == 2 => (out.saturating_mul(dim(1, 1)), touched),
            Op::AveragePool2d(o) | Op::MaxPool2d(o) if rank(0) == 4 => {
                let fh = dim(0, 1).min(o.filter_h.max(0) as u64);
                let fw = dim(0, 2).min(o.filter_w.max(0) as u64);
                (0, out.saturating_mul(fh * fw).saturating_add(out))
            }
            Op::Mul { .. } => (out, inputs.max(2 * out).saturating_add(out)),
            Op::Add { .. } => (0, inputs.max(2 * out).saturating_add(out)),
            Op::Reshape | Op::ExpandDims | Op::Squeeze => (0, 0),
            _ => (0, touched),
        };
        Cost { macs, elements }
    }
}
