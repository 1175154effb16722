//! The static memory planner: where every tensor and operator record lives in the arena.
//!
//! Arena layout (offsets from the start of the caller's `&mut [u8]`):
//!
//! ```text
//! [ tensor table: 8 B per tensor ][ operator records ][pad to 16][ activations ... ]
//! ```
//!
//! * The **tensor table** says where each tensor's bytes are (see [`crate::engine::arena`]).
//! * The **operator records** hold each operator's prepared integer parameters (multipliers,
//!   shifts, clamp bounds, shapes, lookup tables), written once by
//!   [`Interpreter::new`](crate::engine::Interpreter::new).
//! * The **activations** region holds every non-constant tensor and every operator's scratch
//!   memory. A tensor lives from the operator that writes it (graph inputs: from the start) to the
//!   last operator that reads it (graph outputs: to the end); buffers whose lifetimes do not
//!   overlap share memory. Offsets are assigned greedily, each buffer at the lowest 16-byte-aligned
//!   offset that does not collide with an already placed buffer alive at the same time, in three
//!   orders (largest first, the strategy of TFLM's `GreedyMemoryPlanner`; earliest first use
//!   first; longest-lived first), keeping the smallest result. RESHAPE, EXPAND_DIMS and SQUEEZE do not
//!   get a buffer: their output is an alias of their input (whose lifetime is extended to cover
//!   the alias), so they cost neither memory nor time.
//! * **In place** (feature `in-place`; without it the planner never ties): where the busiest
//!   step would otherwise be a CONV_2D or DEPTHWISE_CONV_2D that reads its input for the last
//!   time, the operator's output is *tied* to that input: placed `kernels::in_place::output_below`
//!   bytes below it, overlapping it, the two placed together; the operator then runs in bands of
//!   rows (`kernels::in_place`), its record flagged (the sign bit of its inputs word) and its
//!   scratch grown by the band buffer.
//!
//! Planning needs a scratch table of [`ITEM`] bytes per tensor and per operator. Inside
//! `Interpreter::new` it lives in the (not yet used) activations region, so the arena size is
//! `start_of_activations + max(activations, scratch)`; [`arena_size_on_stack`] plans with a stack
//! buffer of [`STACK_ITEMS`] entries instead. Planning takes `O(n^3)` time in the number `n` of
//! buffers (about a million steps per order for a 100-buffer model), once.

use crate::engine::arena::{self, Location};
use crate::engine::error::RunError;
#[cfg(feature = "in-place")]
use crate::engine::kernels::in_place;
use crate::engine::model::kernel::state_layout;
use crate::engine::model::TfLiteModel;
use crate::engine::ops;
use crate::engine::record::RecordWriter;

/// Alignment of every buffer in the activations region (relative to the arena start).
pub const ALIGN: usize = 16;
/// Bytes of planning scratch per tensor and per operator.
pub const ITEM: usize = 16;
/// Buffers (tensors + operators) [`arena_size_on_stack`] can plan.
pub const STACK_ITEMS: usize = 256;

/// `first` value of an item that is not planned.
const NONE: u32 = u32::MAX;
/// `first` value of an item that aliases another (its `offset` holds the other's index).
const ALIAS: u32 = u32::MAX - 1;
/// `offset` value of an item not placed yet.
const UNPLACED: u32 = u32::MAX;

/// The arena layout of one model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Layout {
    /// Bytes of the tensor table (at offset 0).
    pub table: usize,
    /// Bytes of the operator records (right after the table).
    pub records: usize,
    /// Offset of the activations region.
    pub activations_start: usize,
    /// Bytes of the activations region.
    pub activations: usize,
    /// Bytes of planning scratch (used only while building the interpreter).
    pub scratch: usize,
    /// Total arena bytes needed.
    pub total: usize,
}

/// Bytes of planning scratch a model needs: [`ITEM`] bytes per tensor and per operator (and,
/// with the `in-place` feature, `TIE` bytes per operator that could run in place).
pub fn scratch_bytes(m: &TfLiteModel<'_>) -> usize {
    let items = (m.tensor_count() + m.operator_count()).saturating_mul(ITEM);
    #[cfg(feature = "in-place")]
    let items = {
        let candidates = m.operators().filter(|op| ops::in_place_rows(m, op).is_some()).count();
        items.saturating_add(candidates.saturating_mul(TIE))
    };
    items
}

fn align_up(x: usize) -> Option<usize> {
    x.checked_add(ALIGN - 1).map(|v| v / ALIGN * ALIGN)
}

/// One planning entry, read from/written to scratch bytes.
#[derive(Clone, Copy, Debug)]
struct Item {
    size: u32,
    first: u32,
    last: u32,
    offset: u32,
}

fn get(s: &[u8], i: usize) -> Result<Item, RunError> {
    let b = s.get(i * ITEM..i * ITEM + ITEM).ok_or(RunError::Internal)?;
    let w = |k: usize| u32::from_le_bytes([b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]]);
    Ok(Item { size: w(0), first: w(1), last: w(2), offset: w(3) })
}

fn put(s: &mut [u8], i: usize, it: Item) -> Result<(), RunError> {
    let b = s.get_mut(i * ITEM..i * ITEM + ITEM).ok_or(RunError::Internal)?;
    for (k, v) in [it.size, it.first, it.last, it.offset].into_iter().enumerate() {
        b[4 * k..4 * k + 4].copy_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

/// The item a tensor's storage belongs to (itself, or the root of its alias chain).
fn root(s: &[u8], t: usize) -> Result<usize, RunError> {
    let it = get(s, t)?;
    Ok(if it.first == ALIAS { it.offset as usize } else { t })
}

/// Extends item `i`'s lifetime to cover operator `op` (no effect on unplanned items).
fn touch(s: &mut [u8], i: usize, op: u32) -> Result<(), RunError> {
    let mut it = get(s, i)?;
    if it.first == ALIAS || it.last == u32::MAX {
        // An alias, or a constant (never stored in the arena).
        return Ok(());
    }
    it.first = if it.first == NONE { op } else { it.first.min(op) };
    it.last = it.last.max(op);
    put(s, i, it)
}

/// Computes the lifetimes of all tensors into `s` (`ITEM` bytes per tensor; the operators'
/// scratch items that follow are set with [`set_op_scratch`]).
fn lifetimes(m: &TfLiteModel<'_>, s: &mut [u8]) -> Result<(), RunError> {
    let n_t = m.tensor_count();
    let n_ops = m.operator_count();
    let last_op = n_ops.saturating_sub(1) as u32;
    for t in 0..n_t {
        let info = m.tensor(t as u32)?;
        // A variable (state) tensor lives inside the scratch of the operator that keeps it
        // (`set_op_scratch`), not as a buffer of its own.
        let it = if info.is_constant() || (cfg!(feature = "op-lstm") && m.is_variable(t as u32)) {
            // `last == MAX` marks "never stored in the arena".
            Item { size: 0, first: NONE, last: u32::MAX, offset: UNPLACED }
        } else {
            let size = u32::try_from(info.bytes()).map_err(|_| RunError::Internal)?;
            Item { size, first: NONE, last: 0, offset: UNPLACED }
        };
        put(s, t, it)?;
    }
    for j in 0..m.input_count() {
        let t = m.input(j).ok_or(RunError::Internal)? as usize;
        touch(s, t, 0)?;
    }
    for op in m.operators() {
        let i = op.index;
        if op.op.is_reshape() {
            let input = op.input(0).ok_or(RunError::Internal)? as usize;
            let output = op.output(0).ok_or(RunError::Internal)? as usize;
            let r = root(s, input)?;
            touch(s, r, i)?;
            put(s, output, Item { size: 0, first: ALIAS, last: 0, offset: r as u32 })?;
            continue;
        }
        for t in op.inputs().flatten() {
            let r = root(s, t as usize)?;
            touch(s, r, i)?;
        }
        for t in op.outputs().flatten() {
            touch(s, t as usize, i)?;
        }
    }
    for j in 0..m.output_count() {
        let t = m.output(j).ok_or(RunError::Internal)? as usize;
        let r = root(s, t)?;
        touch(s, r, last_op)?;
    }
    Ok(())
}

/// Records that operator `op` needs `size` bytes of scratch while it runs.
fn set_op_scratch(
    m: &TfLiteModel<'_>,
    s: &mut [u8],
    op: usize,
    size: usize,
) -> Result<(), RunError> {
    let size = u32::try_from(size).map_err(|_| RunError::Internal)?;
    let it = if size == 0 {
        Item { size: 0, first: NONE, last: u32::MAX, offset: UNPLACED }
    } else if keeps_state(m, op)? {
        // The scratch holds the operator's state: alive for the whole run, so nothing else is
        // ever placed over it and it persists between invokes.
        let last = m.operator_count().saturating_sub(1) as u32;
        Item { size, first: 0, last, offset: UNPLACED }
    } else {
        Item { size, first: op as u32, last: op as u32, offset: UNPLACED }
    };
    put(s, m.tensor_count() + op, it)
}

/// True if operator `op` keeps variable (state) tensors in its scratch.
fn keeps_state(m: &TfLiteModel<'_>, op: usize) -> Result<bool, RunError> {
    if !cfg!(feature = "op-lstm") {
        return Ok(false);
    }
    let info = m.operator(op as u32)?;
    Ok(state_layout(m, &info, None)?.1 > 0)
}

/// Where variable tensor `t` is: inside the scratch of the operator that keeps it (the only one
/// reading it, checked at load), as planned in `s`.
#[inline(never)]
fn state_location(
    m: &TfLiteModel<'_>,
    s: &[u8],
    start: usize,
    t: usize,
    len: usize,
) -> Result<Location, RunError> {
    for op in m.operators() {
        if !op.inputs().any(|i| i == Some(t as u32)) {
            continue;
        }
        let (Some(at), _) = state_layout(m, &op, Some(t as u32))? else { continue };
        let it = get(s, m.tensor_count() + op.index as usize)?;
        if !planned(&it) || it.offset == UNPLACED {
            return Err(RunError::Internal);
        }
        return Ok(Location::Arena { offset: start + it.offset as usize + at, len });
    }
    Ok(Location::Unused)
}

/// True if item `it` takes part in placement.
fn planned(it: &Item) -> bool {
    it.first != NONE && it.first != ALIAS && it.last != u32::MAX && it.size > 0
}

/// The operators the planner runs in place: their count with the `in-place` feature (the ties,
/// written after the items of the planning scratch); nothing without it.
#[cfg(feature = "in-place")]
type Ties = usize;
#[cfg(not(feature = "in-place"))]
type Ties = NoTies;

/// The ties without the `in-place` feature: none (a value of no size: the functions that take
/// the ties compile as if they did not).
#[cfg(not(feature = "in-place"))]
#[derive(Clone, Copy, Debug)]
struct NoTies;

/// Without the `in-place` feature no operator runs in place.
#[cfg(not(feature = "in-place"))]
fn tie_in_place(_: &TfLiteModel<'_>, _: &mut [u8]) -> Result<Ties, RunError> {
    Ok(NoTies)
}

/// Bytes of one tie in the planning scratch (after the items): an operator that runs in place,
/// as its output item, its input item, how far below the input the output starts and its band
/// (`u32` each).
#[cfg(feature = "in-place")]
const TIE: usize = 16;

/// The flag the planner sets in the inputs word (the fifth) of the record of an operator it
/// runs in place (its sign bit): its output then overlaps input 0 as
/// [`in_place`](crate::engine::kernels::in_place) describes, the word's bits 16-30 hold its band
/// (output rows) and its low 16 bits its input count, and its scratch starts with the band
/// buffer.
#[cfg(feature = "in-place")]
pub(crate) const IN_PLACE: i32 = i32::MIN;

/// Tie `k`: `(output item, input item, bytes the output starts below the input, band)`.
#[cfg(feature = "in-place")]
fn get_tie(s: &[u8], n: usize, k: usize) -> Result<(usize, usize, u32, u32), RunError> {
    let at = n * ITEM + k * TIE;
    let w = |i: usize| read_u32(s, at + 4 * i);
    Ok((w(0)? as usize, w(1)? as usize, w(2)?, w(3)?))
}

#[cfg(feature = "in-place")]
fn put_tie(s: &mut [u8], n: usize, k: usize, tie: [usize; 4]) -> Result<(), RunError> {
    let at = n * ITEM + k * TIE;
    let b = s.get_mut(at..at + TIE).ok_or(RunError::Internal)?;
    for (i, v) in tie.into_iter().enumerate() {
        let v = u32::try_from(v).map_err(|_| RunError::Internal)?;
        b[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

/// The first tie `(output, input, below, band)` for which `hit` is true, if any.
#[cfg(feature = "in-place")]
fn find_tie(
    s: &[u8],
    n: usize,
    ties: usize,
    hit: impl Fn(usize, usize) -> bool,
) -> Result<Option<(usize, usize, u32, u32)>, RunError> {
    for k in 0..ties {
        let tie = get_tie(s, n, k)?;
        if hit(tie.0, tie.1) {
            return Ok(Some(tie));
        }
    }
    Ok(None)
}

/// The input item that item `i` (an output) is tied to, if any.
#[cfg(feature = "in-place")]
fn tied_below(s: &[u8], n: usize, ties: usize, i: usize) -> Result<Option<usize>, RunError> {
    Ok(find_tie(s, n, ties, |output, _| output == i)?.map(|t| t.1))
}

/// The output item tied to item `i` (an input), if any.
#[cfg(feature = "in-place")]
fn tied_above(s: &[u8], n: usize, ties: usize, i: usize) -> Result<Option<usize>, RunError> {
    Ok(find_tie(s, n, ties, |_, input| input == i)?.map(|t| t.0))
}

/// How far below item `input` the output tied to it starts (0 if none is).
#[cfg(feature = "in-place")]
fn below(s: &[u8], n: usize, ties: usize, input: usize) -> Result<i64, RunError> {
    Ok(find_tie(s, n, ties, |_, i| i == input)?.map_or(0, |t| i64::from(t.2)))
}

/// The first item of item `i`'s group (the chain of ties through it): the one tied to no input.
#[cfg(feature = "in-place")]
fn group_head(s: &[u8], n: usize, ties: usize, i: usize) -> Result<usize, RunError> {
    let mut k = i;
    for _ in 0..=n {
        match tied_below(s, n, ties, k)? {
            Some(below) => k = below,
            None => return Ok(k),
        }
    }
    Err(RunError::Internal)
}

/// Calls `f(s, index, item, rel)` for each item of the group starting at `head`, `rel` being its offset
/// above the group's lowest byte; stops at (and returns) the first `true`.
#[cfg(feature = "in-place")]
fn each_member(
    s: &[u8],
    n: usize,
    ties: usize,
    head: usize,
    mut f: impl FnMut(&[u8], usize, Item, u64) -> Result<bool, RunError>,
) -> Result<bool, RunError> {
    // Heights relative to the head (each output `below` its input), then shifted so the lowest
    // member is at 0.
    let walk = |f: &mut dyn FnMut(usize, i64) -> Result<bool, RunError>| {
        let (mut k, mut h) = (head, 0i64);
        for _ in 0..=n {
            if f(k, h)? {
                return Ok(true);
            }
            let Some(next) = tied_above(s, n, ties, k)? else { return Ok(false) };
            h -= below(s, n, ties, k)?;
            k = next;
        }
        Err(RunError::Internal)
    };
    let mut lowest = 0i64;
    walk(&mut |_, h| {
        lowest = lowest.min(h);
        Ok(false)
    })?;
    walk(&mut |k, h| f(s, k, get(s, k)?, (h - lowest) as u64))
}

/// Item `k`'s offset above the lowest byte of the group starting at `head`.
#[cfg(feature = "in-place")]
fn relative_offset(
    s: &[u8],
    n: usize,
    ties: usize,
    head: usize,
    k: usize,
) -> Result<u64, RunError> {
    let mut found = None;
    each_member(s, n, ties, head, |_, i, _, rel| {
        if i == k {
            found = Some(rel);
        }
        Ok(i == k)
    })?;
    found.ok_or(RunError::Internal)
}

/// The most bands (kernel calls) per batch an operator run in place is split into.
#[cfg(feature = "in-place")]
const MAX_BANDS: usize = 8;

/// An operator that can run in place, as [`candidate`] finds it.
#[cfg(feature = "in-place")]
#[derive(Clone, Copy, Debug)]
struct Candidate {
    /// Its input item (the root of input 0).
    input: usize,
    /// Its output item.
    output: usize,
    /// Bytes of the input and the output.
    sizes: (usize, usize),
    /// Its rows (in the default bands).
    rows: in_place::Rows,
}

#[cfg(feature = "in-place")]
impl Candidate {
    /// Bytes its step holds for the two tensors and the band buffer when it runs in place in
    /// bands of `band` rows, and how far below the input the output starts; `None` if `band`
    /// cannot be.
    fn cost(&self, band: usize) -> Option<(usize, usize)> {
        let rows = self.rows.with_band(band)?;
        let below = in_place::output_below(rows)?;
        let region = below.checked_add(self.sizes.0)?.max(self.sizes.1);
        Some((region.checked_add(rows.buffer_bytes()?)?, below))
    }

    /// The bands it may run in: at most [`MAX_BANDS`] of them per batch (each band is a kernel
    /// call, and the kernels prepare every channel's rescale and weights again on each call).
    fn bands(&self) -> core::ops::RangeInclusive<usize> {
        let rows = self.rows.batch_rows.min(in_place::MAX_BAND);
        rows.div_ceil(MAX_BANDS).max(1)..=rows
    }

    /// The least its step can hold for the two tensors in place (any band).
    fn least(&self) -> usize {
        self.bands().filter_map(|b| self.cost(b)).map(|c| c.0).min().unwrap_or(usize::MAX)
    }
}

/// Operator `op` as a [`Candidate`] to run in place; `None` if it cannot: it has no in-place
/// form ([`ops::in_place_rows`]), its input is a graph input or read after it, or its output
/// is written before it.
#[cfg(feature = "in-place")]
fn candidate(
    m: &TfLiteModel<'_>,
    s: &[u8],
    op: &crate::engine::model::operator::OperatorInfo<'_>,
) -> Result<Option<Candidate>, RunError> {
    let Some(rows) = ops::in_place_rows(m, op) else { return Ok(None) };
    let (Some(input), Some(output)) = (op.input(0), op.output(0)) else { return Ok(None) };
    let (input, output) = (root(s, input as usize)?, output as usize);
    let (a, b) = (get(s, input)?, get(s, output)?);
    let k = op.index;
    let fits = |it: &Item, bytes: Option<usize>| bytes == Some(it.size as usize);
    let scratch = get(s, m.tensor_count() + k as usize)?;
    if input == output
        || !planned(&a)
        || !planned(&b)
        || a.first >= k
        || a.last != k
        || b.first != k
        || !fits(&a, rows.input_bytes())
        || !fits(&b, rows.output_bytes())
        || (planned(&scratch) && (scratch.first != k || scratch.last != k))
        || op.input_count() > 0xFFFF
    {
        return Ok(None);
    }
    let sizes = (a.size as usize, b.size as usize);
    Ok(Some(Candidate { input, output, sizes, rows }))
}

/// Bytes of the planned items alive at step `k`.
#[cfg(feature = "in-place")]
fn live_at(s: &[u8], n: usize, k: u32) -> Result<usize, RunError> {
    let mut live = 0usize;
    for i in 0..n {
        let it = get(s, i)?;
        if planned(&it) && it.first <= k && k <= it.last {
            live = live.saturating_add(it.size as usize);
        }
    }
    Ok(live)
}

/// Ties operators to their inputs to run in place ([`candidate`]) where that lowers the peak:
/// an operator whose step holds more live bytes than the busiest step would with every
/// candidate in place in its least-memory band (the floor). Each tied operator runs in the
/// tallest band that keeps its step at or under the floor: in place costs the band copies and
/// a kernel call per band, so operators away from the peak keep their own output buffer, and
/// the others take as few bands as the floor allows. Grows each tied operator's scratch by its
/// band buffer; returns the number of ties (written after the items of `s`).
#[cfg(feature = "in-place")]
fn tie_in_place(m: &TfLiteModel<'_>, s: &mut [u8]) -> Result<usize, RunError> {
    let n_t = m.tensor_count();
    let n = n_t + m.operator_count();
    let mut floor = 0usize;
    for op in m.operators() {
        let live = live_at(s, n, op.index)?;
        let least = match candidate(m, s, &op)? {
            Some(c) => live - (c.sizes.0 + c.sizes.1).saturating_sub(c.least()),
            None => live,
        };
        floor = floor.max(least);
    }
    let mut ties = 0;
    for op in m.operators() {
        let Some(c) = candidate(m, s, &op)? else { continue };
        let live = live_at(s, n, op.index)?;
        if live <= floor {
            continue;
        }
        // The tallest band that keeps the step at or under the floor.
        let others = live - c.sizes.0 - c.sizes.1;
        let Some((band, below)) = c.bands().rev().find_map(|b| {
            let (cost, below) = c.cost(b)?;
            (others.saturating_add(cost) <= floor).then_some((b, below))
        }) else {
            continue;
        };
        let k = op.index;
        let buffer = c.rows.with_band(band).and_then(|r| r.buffer_bytes());
        let buffer =
            u32::try_from(buffer.ok_or(RunError::Internal)?).map_err(|_| RunError::Internal)?;
        let mut scratch = get(s, n_t + k as usize)?;
        if planned(&scratch) {
            scratch.size = scratch.size.checked_add(buffer).ok_or(RunError::Internal)?;
        } else {
            scratch = Item { size: buffer, first: k, last: k, offset: UNPLACED };
        }
        put(s, n_t + k as usize, scratch)?;
        put_tie(s, n, ties, [c.output, c.input, below, band])?;
        ties += 1;
    }
    Ok(ties)
}

/// The order in which [`place_in`] takes the buffers (each places every buffer at the lowest
/// offset free during its lifetime; which order leaves the least fragmentation depends on the
/// graph, so [`place`] tries each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// Largest first (ties: earlier first use), TFLM's `GreedyMemoryPlanner` order.
    Largest,
    /// Earliest first use first (ties: larger first): the order of execution.
    Earliest,
    /// Longest lifetime first (ties: larger first): long-lived buffers at the bottom.
    LongestLived,
}

const ORDERS: [Order; 3] = [Order::Largest, Order::Earliest, Order::LongestLived];

impl Order {
    /// True if `a` is placed before `b`.
    fn before(self, a: &Item, b: &Item) -> bool {
        let (la, lb) = (a.last - a.first, b.last - b.first);
        match self {
            Order::Largest => a.size > b.size || (a.size == b.size && a.first < b.first),
            Order::Earliest => a.first < b.first || (a.first == b.first && a.size > b.size),
            Order::LongestLived => la > lb || (la == lb && a.size > b.size),
        }
    }
}

/// Places every planned item in each [`Order`] and keeps the placement with the smallest
/// activations region (the first such order on a tie); returns that size.
fn place(s: &mut [u8], n: usize, ties: Ties) -> Result<usize, RunError> {
    let mut best: Option<(usize, Order)> = None;
    for order in ORDERS {
        let size = place_in(s, n, ties, order)?;
        if best.is_none_or(|(b, _)| size < b) {
            best = Some((size, order));
        }
    }
    let (size, order) = best.ok_or(RunError::Internal)?;
    if order != ORDERS[ORDERS.len() - 1] {
        place_in(s, n, ties, order)?;
    }
    Ok(size)
}

/// Places every planned item greedily in `order` (forgetting any earlier placement); returns the
/// activations region size.
fn place_in(s: &mut [u8], n: usize, ties: Ties, order: Order) -> Result<usize, RunError> {
    #[cfg(not(feature = "in-place"))]
    let NoTies = ties;
    for i in 0..n {
        let mut it = get(s, i)?;
        if it.offset != UNPLACED && it.first != ALIAS {
            it.offset = UNPLACED;
            put(s, i, it)?;
        }
    }
    loop {
        // The first unplaced item in `order` (ties: lower index).
        let mut best: Option<(usize, Item)> = None;
        for i in 0..n {
            let it = get(s, i)?;
            if !planned(&it) || it.offset != UNPLACED {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, b)) => order.before(&it, &b),
            };
            if better {
                best = Some((i, it));
            }
        }
        #[cfg(not(feature = "in-place"))]
        {
            let Some((i, mut it)) = best else { break };
            let collides = |s: &[u8], at: u32| -> Result<bool, RunError> {
                let end = at as u64 + it.size as u64;
                for j in 0..n {
                    let o = get(s, j)?;
                    if planned(&o)
                        && o.offset != UNPLACED
                        && o.first <= it.last
                        && it.first <= o.last
                        && (at as u64) < o.offset as u64 + o.size as u64
                        && (o.offset as u64) < end
                    {
                        return Ok(true);
                    }
                }
                Ok(false)
            };
            let mut chosen = if collides(s, 0)? { None } else { Some(0u32) };
            if chosen.is_none() {
                for j in 0..n {
                    let o = get(s, j)?;
                    if !planned(&o)
                        || o.offset == UNPLACED
                        || o.first > it.last
                        || it.first > o.last
                    {
                        continue;
                    }
                    let cand =
                        align_up(o.offset as usize + o.size as usize).ok_or(RunError::Internal)?;
                    let cand = u32::try_from(cand).map_err(|_| RunError::Internal)?;
                    if chosen.is_some_and(|c| c <= cand) {
                        continue;
                    }
                    if !collides(s, cand)? {
                        chosen = Some(cand);
                    }
                }
            }
            it.offset = chosen.ok_or(RunError::Internal)?;
            put(s, i, it)?;
        }
        #[cfg(feature = "in-place")]
        {
            let Some((i, _)) = best else { break };
            // Item `i` and the items tied to it (an operator running in place: its output at a
            // fixed distance below its input) are placed together, each at `base + rel`.
            let head = group_head(s, n, ties, i)?;
            let collides = |s: &[u8], base: u64| -> Result<bool, RunError> {
                each_member(s, n, ties, head, |_, _, it, rel| {
                    let at = base + rel;
                    let end = at + it.size as u64;
                    for j in 0..n {
                        let o = get(s, j)?;
                        if planned(&o)
                            && o.offset != UNPLACED
                            && o.first <= it.last
                            && it.first <= o.last
                            && at < o.offset as u64 + o.size as u64
                            && (o.offset as u64) < end
                        {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                })
            };
            let mut chosen = if collides(s, 0)? { None } else { Some(0u64) };
            if chosen.is_none() {
                each_member(s, n, ties, head, |s, _, it, rel| {
                    for j in 0..n {
                        let o = get(s, j)?;
                        if !planned(&o)
                            || o.offset == UNPLACED
                            || o.first > it.last
                            || it.first > o.last
                        {
                            continue;
                        }
                        let end = align_up(o.offset as usize + o.size as usize)
                            .ok_or(RunError::Internal)?;
                        let Some(cand) = (end as u64).checked_sub(rel) else { continue };
                        if chosen.is_some_and(|c| c <= cand) {
                            continue;
                        }
                        if !collides(s, cand)? {
                            chosen = Some(cand);
                        }
                    }
                    Ok(false)
                })?;
            }
            let base = chosen.ok_or(RunError::Internal)?;
            let mut k = head;
            loop {
                let mut it = get(s, k)?;
                let rel = relative_offset(s, n, ties, head, k)?;
                it.offset = u32::try_from(base + rel).map_err(|_| RunError::Internal)?;
                put(s, k, it)?;
                match tied_above(s, n, ties, k)? {
                    Some(next) => k = next,
                    None => break,
                }
            }
        }
    }
    let mut size = 0usize;
    for i in 0..n {
        let it = get(s, i)?;
        if planned(&it) {
            size = size.max(it.offset as usize + it.size as usize);
        }
    }
    Ok(size)
}

/// Sizes every part of the arena for `m`, planning in `scratch`
/// (at least [`scratch_bytes`] bytes).
pub fn layout(m: &TfLiteModel<'_>, scratch: &mut [u8]) -> Result<Layout, RunError> {
    let table = m.tensor_count().checked_mul(arena::ENTRY).ok_or(RunError::Internal)?;
    let s =
        scratch.get_mut(..scratch_bytes(m)).ok_or(RunError::TooManyTensors(m.tensor_count()))?;
    let mut records = 0usize;
    for op in 0..m.operator_count() {
        let (len, scratch) = count_record(m, op)?;
        records = records.checked_add(len).ok_or(RunError::Internal)?;
        set_op_scratch(m, s, op, scratch)?;
    }
    lifetimes(m, s)?;
    let ties = tie_in_place(m, s)?;
    let activations = place(s, m.tensor_count() + m.operator_count(), ties)?;
    finish_layout(table, records, activations, scratch_bytes(m))
}

/// The length of operator `op`'s record and the scratch bytes it needs.
#[inline(never)]
fn count_record(m: &TfLiteModel<'_>, op: usize) -> Result<(usize, usize), RunError> {
    let mut w = RecordWriter::counting();
    let needs = write_record_of(m, op, &mut w)?;
    Ok((w.len(), needs.scratch))
}

/// Scratch bytes operator `op` needs while it runs, besides its tensors (its kernel's working
/// memory): the planner places them in the activations region, alive for that
/// operator only. With [`tensor_lifetime`] this gives the bytes live at each step (what
/// `reflex inspect` draws as the memory timeline).
pub fn operator_scratch_bytes(m: &TfLiteModel<'_>, op: usize) -> Result<usize, RunError> {
    count_record(m, op).map(|(_, scratch)| scratch)
}

fn finish_layout(
    table: usize,
    records: usize,
    activations: usize,
    scratch: usize,
) -> Result<Layout, RunError> {
    let activations_start =
        table.checked_add(records).and_then(align_up).ok_or(RunError::Internal)?;
    let total =
        activations_start.checked_add(activations.max(scratch)).ok_or(RunError::Internal)?;
    Ok(Layout { table, records, activations_start, activations, scratch, total })
}

/// Writes operator `i`'s record with [`write_record`].
///
/// The operator is used where it lies in the result (no copy of it in this frame, which is under
/// the deepest stack of planning: the operator's preparation).
#[inline(always)]
fn write_record_of(
    m: &TfLiteModel<'_>,
    i: usize,
    w: &mut RecordWriter<'_>,
) -> Result<ops::Needs, RunError> {
    let r = m.operator(i as u32);
    let op = match &r {
        Ok(op) => op,
        Err(e) => return Err(RunError::Load(*e)),
    };
    write_record(m, op, w)
}

/// Writes operator `op`'s record: `[len, code, scratch_offset, scratch_len, n_inputs,
/// inputs..., output, body...]`, all little-endian `i32`. Returns the operator's needs.
#[inline(always)]
pub(crate) fn write_record(
    m: &TfLiteModel<'_>,
    op: &crate::engine::model::operator::OperatorInfo<'_>,
    w: &mut RecordWriter<'_>,
) -> Result<ops::Needs, RunError> {
    w.i32(0); // length, patched by the caller
    w.i32(ops::record_code(m, op));
    w.i32(0); // scratch offset, patched after planning
    w.i32(0); // scratch length
    w.usize(op.input_count());
    for t in op.inputs() {
        w.i32(t.map_or(-1, |t| t as i32));
    }
    w.i32(op.output(0).map_or(-1, |t| t as i32));
    Ok(ops::prepare(m, op, w)?)
}

/// [`layout`] with a stack scratch of [`STACK_ITEMS`] entries: the arena size of `m`.
///
/// Never inlined, so that the 4 KB scratch is on the stack only while it runs (not in the frame
/// of every function that might call it, such as the arena builder's error path).
#[inline(never)]
pub fn arena_size_on_stack(m: &TfLiteModel<'_>) -> Result<usize, RunError> {
    let mut scratch = [0u8; STACK_ITEMS * ITEM];
    if scratch_bytes(m) > scratch.len() {
        return Err(RunError::TooManyTensors(m.tensor_count()));
    }
    layout(m, &mut scratch).map(|l| l.total)
}

/// Builds the arena for `m`: writes the tensor table and the operator records, plans the
/// activations. Returns the layout.
///
/// Not inlined, and each step in its own function: the records' preparation (the deepest stack
/// of building an interpreter) then runs under small frames.
#[inline(never)]
pub(crate) fn build(m: &TfLiteModel<'_>, arena: &mut [u8]) -> Result<Layout, RunError> {
    let table = m.tensor_count().checked_mul(arena::ENTRY).ok_or(RunError::Internal)?;
    let pos = write_records(m, arena, table)?;
    plan(m, arena, table, pos)
}

/// Step 1 of [`build`]: the records, right after the table (at `table`); each remembers its
/// scratch size. Returns the end of the records.
#[inline]
fn write_records(m: &TfLiteModel<'_>, arena: &mut [u8], table: usize) -> Result<usize, RunError> {
    let mut pos = table;
    for op in 0..m.operator_count() {
        pos += write_record_at(m, op, arena, pos)?;
    }
    Ok(pos)
}

/// Steps 2 and 3 of [`build`]: plans the activations and fills in the tensor table and the
/// records' scratch offsets; the records end at `pos`.
#[inline(never)]
fn plan(
    m: &TfLiteModel<'_>,
    arena: &mut [u8],
    table: usize,
    pos: usize,
) -> Result<Layout, RunError> {
    let n_t = m.tensor_count();
    let n_ops = m.operator_count();
    let available = arena.len();
    let records = pos - table;
    let scratch = scratch_bytes(m);
    let start = align_up(pos).ok_or(RunError::Internal)?;

    // 2. Plan in the activations region.
    let plan_end = start.checked_add(scratch).ok_or(RunError::Internal)?;
    if arena.len() < plan_end {
        return Err(too_small(m, available));
    }
    let (head, rest) = arena.split_at_mut(start);
    let s = &mut rest[..scratch];
    let mut p = table;
    for op in 0..n_ops {
        set_op_scratch(m, s, op, read_u32(head, p + 12)? as usize)?;
        p += read_u32(head, p)? as usize;
    }
    lifetimes(m, s)?;
    let ties = tie_in_place(m, s)?;
    let activations = place(s, n_t + n_ops, ties)?;
    let layout = finish_layout(table, records, activations, scratch)?;
    if layout.total > available {
        return Err(RunError::ArenaTooSmall { needed: layout.total, available });
    }

    // 3. Tensor locations and scratch offsets, from the plan (still in `s`).
    for t in 0..n_t {
        set_tensor_location(m, head, s, start, t)?;
    }
    let mut p = table;
    for op in 0..n_ops {
        let it = get(s, n_t + op)?;
        if planned(&it) {
            let off = (start + it.offset as usize) as i32;
            head.get_mut(p + 8..p + 12)
                .ok_or(RunError::Internal)?
                .copy_from_slice(&off.to_le_bytes());
        }
        p += read_u32(head, p)? as usize;
    }
    // 4. The operators run in place: their flag, and their scratch with the row buffer.
    #[cfg(feature = "in-place")]
    for k in 0..ties {
        let (output, _, _, band) = get_tie(s, n_t + n_ops, k)?;
        let op = get(s, output)?.first as usize;
        let mut p = table;
        for _ in 0..op {
            p += read_u32(head, p)? as usize;
        }
        let size = get(s, n_t + op)?.size as i32;
        let inputs = read_u32(head, p + 16)? as i32 | (band as i32) << 16 | IN_PLACE;
        let words = head.get_mut(p + 12..p + 20).ok_or(RunError::Internal)?;
        words[..4].copy_from_slice(&size.to_le_bytes());
        words[4..].copy_from_slice(&inputs.to_le_bytes());
    }
    Ok(layout)
}

/// Writes operator `op`'s record at `pos` in `arena`, with its length and scratch size filled
/// in; returns its length.
#[inline(never)]
fn write_record_at(
    m: &TfLiteModel<'_>,
    op: usize,
    arena: &mut [u8],
    pos: usize,
) -> Result<usize, RunError> {
    let dst = arena.get_mut(pos..).unwrap_or(&mut []);
    let mut w = RecordWriter::new(dst);
    let needs = write_record_of(m, op, &mut w)?;
    let len = w.len();
    if w.overflowed() {
        return Err(too_small(m, arena.len()));
    }
    let dst = arena.get_mut(pos..pos + len).ok_or(RunError::Internal)?;
    dst[0..4].copy_from_slice(&(len as i32).to_le_bytes());
    dst[12..16].copy_from_slice(&(needs.scratch as i32).to_le_bytes());
    Ok(len)
}

/// Sets tensor `t`'s entry in the tensor table (`head`) from the plan in `s`; `start` is the
/// offset of the activations region.
#[inline(never)]
fn set_tensor_location(
    m: &TfLiteModel<'_>,
    head: &mut [u8],
    s: &[u8],
    start: usize,
    t: usize,
) -> Result<(), RunError> {
    let info = m.tensor(t as u32)?;
    let len = info.bytes();
    if cfg!(feature = "op-lstm") && m.is_variable(t as u32) {
        let loc = state_location(m, s, start, t, len)?;
        return arena::set_location(head, t, loc);
    }
    let r = root(s, t)?;
    let loc = match m.tensor(r as u32)?.data {
        Some(d) => {
            let offset = (d.as_ptr() as usize).wrapping_sub(m.file().as_ptr() as usize);
            Location::Model { offset, len }
        }
        None => {
            let it = get(s, r)?;
            if planned(&it) && it.offset != UNPLACED {
                Location::Arena { offset: start + it.offset as usize, len }
            } else {
                Location::Unused
            }
        }
    };
    arena::set_location(head, t, loc)
}

/// The error for an arena of `available` bytes that is too small for `m`.
#[cold]
#[inline(never)]
fn too_small(m: &TfLiteModel<'_>, available: usize) -> RunError {
    match layout_needed(m) {
        Ok(needed) => RunError::ArenaTooSmall { needed, available },
        Err(e) => e,
    }
}

/// The total size, computed without the arena (for error reports).
fn layout_needed(m: &TfLiteModel<'_>) -> Result<usize, RunError> {
    match arena_size_on_stack(m) {
        Ok(n) => Ok(n),
        Err(RunError::TooManyTensors(_)) => Ok(usize::MAX),
        Err(e) => Err(e),
    }
}

fn read_u32(b: &[u8], at: usize) -> Result<u32, RunError> {
    let s = b.get(at..at + 4).ok_or(RunError::Internal)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The lifetime of tensor `t` as planned: `(first operator, last operator)`, `None` for
/// constants, aliases' roots are followed, unused tensors give `None`.
pub fn tensor_lifetime(
    m: &TfLiteModel<'_>,
    scratch: &mut [u8],
    t: usize,
) -> Result<Option<(u32, u32)>, RunError> {
    let s =
        scratch.get_mut(..scratch_bytes(m)).ok_or(RunError::TooManyTensors(m.tensor_count()))?;
    lifetimes(m, s)?;
    let it = get(s, root(s, t)?)?;
    Ok(planned(&it).then_some((it.first, it.last)))
}

impl TfLiteModel<'_> {
    /// Bytes of arena the model needs ([`Interpreter::new`](crate::engine::Interpreter::new) with
    /// exactly this many bytes succeeds, one fewer fails). Plans on the stack (see
    /// [`planner`](crate::engine::plan::planner) for the limit); with more buffers than that, use
    /// [`arena_size_with_scratch`](TfLiteModel::arena_size_with_scratch).
    pub fn arena_size(&self) -> Result<usize, RunError> {
        arena_size_on_stack(self)
    }

    /// As [`arena_size`](TfLiteModel::arena_size), planning in `scratch` (which needs
    /// [`planner::scratch_bytes`](crate::engine::plan::planner::scratch_bytes) bytes).
    pub fn arena_size_with_scratch(&self, scratch: &mut [u8]) -> Result<usize, RunError> {
        layout(self, scratch).map(|l| l.total)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::{format, vec};

    /// Bytes live at the busiest step: no placement can be smaller (a tied output and its input
    /// count as disjoint here, so with ties this is only a bound of the plan without them).
    fn peak_live(s: &[u8], n: usize) -> usize {
        let items: vec::Vec<Item> = (0..n).map(|i| get(s, i).unwrap()).filter(planned).collect();
        let steps = items.iter().map(|it| it.last).max().unwrap_or(0);
        (0..=steps)
            .map(|t| {
                items
                    .iter()
                    .filter(|it| it.first <= t && t <= it.last)
                    .map(|it| it.size as usize)
                    .sum()
            })
            .max()
            .unwrap_or(0)
    }

    /// No ties, as the planner's functions take them.
    #[cfg(feature = "in-place")]
    const NO_TIES: Ties = 0;
    #[cfg(not(feature = "in-place"))]
    const NO_TIES: Ties = NoTies;

    #[cfg(feature = "in-place")]
    fn is_tie(s: &[u8], n: usize, ties: usize, a: usize, b: usize) -> bool {
        (0..ties).any(|k| {
            let (o, i, _, _) = get_tie(s, n, k).unwrap();
            (o, i) == (a, b) || (o, i) == (b, a)
        })
    }

    /// No two buffers alive at the same step share a byte (except an output tied to its input),
    /// and each is aligned.
    fn assert_disjoint(s: &[u8], n: usize, ties: Ties, case: &str) {
        for i in 0..n {
            let a = get(s, i).unwrap();
            if !planned(&a) {
                continue;
            }
            assert_ne!(a.offset, UNPLACED, "{case}: item {i} unplaced");
            assert_eq!(a.offset as usize % ALIGN, 0, "{case}: item {i} misaligned");
            for j in i + 1..n {
                let b = get(s, j).unwrap();
                let live = planned(&b) && a.first <= b.last && b.first <= a.last;
                let overlap = a.offset < b.offset + b.size && b.offset < a.offset + a.size;
                #[cfg(feature = "in-place")]
                let tied = is_tie(s, n, ties, i, j);
                #[cfg(not(feature = "in-place"))]
                let tied = {
                    let NoTies = ties;
                    false
                };
                assert!(
                    !(live && overlap) || tied,
                    "{case}: items {i} and {j} overlap while both live"
                );
            }
        }
    }

    /// Runs the plan byte by byte: each byte remembers the item whose value it holds. At each
    /// step every item alive from an earlier step must still hold all its bytes, before the
    /// step and after it (an operator may read its inputs at any time while it runs), except
    /// the input of an operator running in place, which is read row by row (`rows_of(step)`)
    /// while the output's rows are written: each input row must be intact when it is copied.
    #[cfg(feature = "in-place")]
    fn simulate(
        s: &[u8],
        n: usize,
        ties: usize,
        rows_of: &dyn Fn(u32) -> in_place::Rows,
        case: &str,
    ) {
        let items: vec::Vec<Item> = (0..n).map(|i| get(s, i).unwrap()).collect();
        let size = items.iter().filter(|it| planned(it)).map(|it| (it.offset + it.size) as usize);
        let mut owner = vec![usize::MAX; size.max().unwrap_or(0)];
        let steps = items.iter().filter(|it| planned(it)).map(|it| it.last).max().unwrap_or(0);
        let bytes = |it: &Item| it.offset as usize..(it.offset + it.size) as usize;
        let intact = |owner: &[usize], i: usize| owner[bytes(&items[i])].iter().all(|&o| o == i);
        for k in 0..=steps {
            let tie = (0..ties)
                .map(|t| get_tie(s, n, t).unwrap())
                .map(|(o, i, _, _)| (o, i))
                .find(|&(o, _)| items[o].first == k);
            let alive: vec::Vec<usize> = (0..n)
                .filter(|&i| planned(&items[i]) && items[i].first < k && k <= items[i].last)
                .collect();
            for &i in &alive {
                assert!(intact(&owner, i), "{case}: item {i} clobbered before step {k}");
            }
            if let Some((output, input)) = tie {
                // Band by band: every input row a band's windows read must still be the
                // input's when the band starts; then the band's output rows are written.
                let rows = rows_of(k);
                let (i0, o0) = (items[input].offset as usize, items[output].offset as usize);
                for r0 in (0..rows.output_count).step_by(rows.band) {
                    let r1 = (r0 + rows.band).min(rows.output_count);
                    for r in r0..r1 {
                        for t in 0..rows.span {
                            let Some(y) = (r * rows.stride + t).checked_sub(rows.pad) else {
                                continue;
                            };
                            if y >= rows.input_count {
                                continue;
                            }
                            let row = i0 + y * rows.input..i0 + (y + 1) * rows.input;
                            assert!(
                                owner[row].iter().all(|&o| o == input),
                                "{case}: step {k}: input row {y} overwritten before row {r} reads it"
                            );
                        }
                    }
                    owner[o0 + r0 * rows.output..o0 + r1 * rows.output].fill(output);
                }
            }
            for (i, it) in items.iter().enumerate() {
                if planned(it) && it.first == k && tie.is_none_or(|(o, _)| o != i) {
                    owner[bytes(it)].fill(i);
                }
            }
            for &i in &alive {
                if tie.is_none_or(|(_, input)| input != i) {
                    assert!(intact(&owner, i), "{case}: item {i} clobbered during step {k}");
                }
            }
        }
    }

    /// Plans model `m` as `plan` does, in a scratch of its own; returns it, the item count, the
    /// ties and the activations size.
    fn plan_model(m: &TfLiteModel<'_>, with_ties: bool) -> (vec::Vec<u8>, usize, Ties, usize) {
        let n = m.tensor_count() + m.operator_count();
        let mut s = vec![0u8; scratch_bytes(m)];
        for op in 0..m.operator_count() {
            let (_, scratch) = count_record(m, op).unwrap();
            set_op_scratch(m, &mut s, op, scratch).unwrap();
        }
        lifetimes(m, &mut s).unwrap();
        let ties = if with_ties { tie_in_place(m, &mut s).unwrap() } else { NO_TIES };
        let size = place(&mut s, n, ties).unwrap();
        (s, n, ties, size)
    }

    #[test]
    fn placement_is_disjoint_and_never_worse_than_largest_first() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
        let mut checked = 0;
        for set in ["conformance", "mlperf-tiny"] {
            for entry in std::fs::read_dir(format!("{root}/{set}")).unwrap() {
                let dir = entry.unwrap().path();
                let Ok(bytes) = std::fs::read(dir.join("model.tflite")) else { continue };
                let case = format!("{}", dir.display());
                let m = TfLiteModel::load(&bytes).unwrap();
                let (mut s, n, _, size) = plan_model(&m, false);
                assert_disjoint(&s, n, NO_TIES, &case);
                let peak = peak_live(&s, n);
                let largest_first = place_in(&mut s, n, NO_TIES, Order::Largest).unwrap();
                assert!(size <= largest_first, "{case}: {size} > {largest_first}");
                assert!(size >= peak, "{case}: {size} below the live bytes {peak}");
                if case.ends_with("mlperf_vww") {
                    // Largest-first leaves a gap here; another order packs it to its peak.
                    assert!(largest_first > peak);
                    assert_eq!(size, peak);
                }
                checked += 1;
            }
        }
        assert!(checked >= 20);
    }

    #[cfg(feature = "in-place")]
    /// Every model planned with its operators in place: disjoint except the tied pairs, no live
    /// byte overwritten before its last read (the byte-by-byte run), and never larger than the
    /// plan without them.
    #[test]
    fn in_place_plans_keep_every_live_byte_and_never_grow() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
        let mut tied_models = 0;
        for set in ["conformance", "conformance-next", "mlperf-tiny"] {
            for entry in std::fs::read_dir(format!("{root}/{set}")).unwrap() {
                let dir = entry.unwrap().path();
                let Ok(bytes) = std::fs::read(dir.join("model.tflite")) else { continue };
                let case = format!("{}", dir.display());
                let Ok(m) = TfLiteModel::load(&bytes) else { continue };
                let (_, _, _, without) = plan_model(&m, false);
                let (s, n, ties, size) = plan_model(&m, true);
                assert_disjoint(&s, n, ties, &case);
                let rows_of = |op: u32| {
                    let band = (0..ties)
                        .map(|t| get_tie(&s, n, t).unwrap())
                        .find(|t| get(&s, t.0).unwrap().first == op)
                        .unwrap()
                        .3;
                    let rows = ops::in_place_rows(&m, &m.operator(op).unwrap()).unwrap();
                    rows.with_band(band as usize).unwrap()
                };
                simulate(&s, n, ties, &rows_of, &case);
                assert!(size <= without, "{case}: {size} in place > {without}");
                if ties > 0 {
                    tied_models += 1;
                }
                if case.ends_with("tflm_person_detect") || case.ends_with("mlperf_vww") {
                    // The 1x1 layer 48x48x8 -> 48x48x16 takes 36,864 B instead of 55,296 B.
                    assert!(size < without, "{case}: {size}");
                }
            }
        }
        assert!(tied_models >= 4, "{tied_models}");
    }

    #[cfg(feature = "in-place")]
    /// Random graphs of items: tensor `i` written at step `i`, read up to a few steps later,
    /// scratch at some steps, and in-place operators tied to an input they read last. The
    /// placement must keep every live byte (byte-by-byte run) and respect the ties.
    #[test]
    fn random_graphs_with_in_place_operators_keep_every_live_byte() {
        let mut rng = crate::engine::kernels::xorshift::XorShift(0x2545_F491_4F6C_DD1D);
        for case in 0..300 {
            let steps = rng.below(14) + 2;
            let count = rng.below(5) + 1;
            // Tensors 0..steps (tensor i written at step i), then one scratch item per step.
            let n = 2 * steps;
            let mut s = vec![0u8; n * ITEM + steps * TIE];
            let mut row = vec![0usize; steps];
            for (i, row) in row.iter_mut().enumerate() {
                *row = rng.below(48) + 1;
                let last = (i + 1 + rng.below(4)).min(steps - 1).max(i) as u32;
                let size = (count * *row) as u32;
                put(&mut s, i, Item { size, first: i as u32, last, offset: UNPLACED }).unwrap();
                let scratch = if rng.below(3) == 0 { rng.below(64) as u32 + 1 } else { 0 };
                let it = if scratch == 0 {
                    Item { size: 0, first: NONE, last: u32::MAX, offset: UNPLACED }
                } else {
                    Item { size: scratch, first: i as u32, last: i as u32, offset: UNPLACED }
                };
                put(&mut s, steps + i, it).unwrap();
            }
            // Each tie a window of its own: 1, 3 or 5 rows (SAME padding, so that input and
            // output have the same rows), bands of 1-3 rows.
            let mut ties = 0;
            let mut windows = vec![];
            for k in 1..steps {
                if rng.below(2) == 0 {
                    continue;
                }
                let Some(input) = (0..k).find(|&j| {
                    get(&s, j).unwrap().last == k as u32
                        && tied_above(&s, n, ties, j).unwrap().is_none()
                }) else {
                    continue;
                };
                let span = 2 * rng.below(3) + 1;
                let rows = in_place::Rows {
                    input_count: count,
                    output_count: count,
                    input: row[input],
                    output: row[k],
                    stride: 1,
                    pad: span / 2,
                    span,
                    batch_rows: count,
                    band: rng.below(3) + 1,
                };
                let below = in_place::output_below(rows).unwrap();
                put_tie(&mut s, n, ties, [k, input, below, rows.band]).unwrap();
                windows.push((k as u32, rows));
                ties += 1;
            }
            let rows_of = |k: u32| windows.iter().find(|w| w.0 == k).unwrap().1;
            let label = format!("random graph {case}");
            let mut placed = s.clone();
            let size = place(&mut placed, n, ties).unwrap();
            assert_disjoint(&placed, n, ties, &label);
            for t in 0..ties {
                let (o, i, below, _) = get_tie(&placed, n, t).unwrap();
                let (o, i) = (get(&placed, o).unwrap(), get(&placed, i).unwrap());
                assert_eq!(o.offset as i64, i.offset as i64 - below as i64, "{label}");
            }
            let rows_of = |k: u32| rows_of(k);
            simulate(&placed, n, ties, &rows_of, &label);
            assert!(
                size >= (0..n)
                    .map(|i| get(&placed, i).unwrap())
                    .filter(planned)
                    .map(|it| it.size as usize)
                    .max()
                    .unwrap_or(0)
            );
        }
    }

    #[test]
    fn each_order_is_tried_and_the_smallest_kept() {
        // Three buffers, 16-byte units: A [0,1] 32 B, B [1,2] 16 B, C [2,3] 48 B. Largest first
        // puts C and A at 0 (never live together) and B above them: 64 B. Earliest first puts
        // A at 0, B at 32, then C cannot go below B's end: 96 B.
        let mut s = vec![0u8; 3 * ITEM];
        for (i, (size, first, last)) in [(32, 0, 1), (16, 1, 2), (48, 2, 3)].into_iter().enumerate()
        {
            put(&mut s, i, Item { size, first, last, offset: UNPLACED }).unwrap();
        }
        assert_eq!(place_in(&mut s, 3, NO_TIES, Order::Earliest).unwrap(), 96);
        assert_eq!(place_in(&mut s, 3, NO_TIES, Order::Largest).unwrap(), 64);
        assert_eq!(place(&mut s, 3, NO_TIES).unwrap(), 64);
        assert_disjoint(&s, 3, NO_TIES, "synthetic");
        assert_eq!(get(&s, 1).unwrap().offset, 48);
    }

    #[cfg(feature = "in-place")]
    #[test]
    fn a_widening_output_sits_below_its_input_and_a_chain_stays_together() {
        // A [0,1] 32 B -> (in place at 1) B [1,2] 64 B -> (in place at 2) C [2,3] 16 B: B
        // starts 32 B below A, C at B's start; the three take 64 B.
        let mut s = vec![0u8; 3 * ITEM + 2 * TIE];
        // (The pointwise displacements: B grows by 32 B over A, C shrinks.)
        for (i, (size, first, last)) in [(32, 0, 1), (64, 1, 2), (16, 2, 3)].into_iter().enumerate()
        {
            put(&mut s, i, Item { size, first, last, offset: UNPLACED }).unwrap();
        }
        put_tie(&mut s, 3, 0, [1, 0, 32, 1]).unwrap();
        put_tie(&mut s, 3, 1, [2, 1, 0, 1]).unwrap();
        assert_eq!(place(&mut s, 3, 2).unwrap(), 64);
        let offsets: vec::Vec<u32> = (0..3).map(|i| get(&s, i).unwrap().offset).collect();
        assert_eq!(offsets, [32, 0, 0]);
    }
}
