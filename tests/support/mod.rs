//! Test support: a tiny FlatBuffer writer and a TFLite model builder, to craft valid and
//! deliberately broken models byte by byte.
#![allow(dead_code)]

/// A field value of a table.
#[derive(Clone, Debug)]
pub enum F {
    U8(u8),
    I8(i8),
    I32(i32),
    U32(u32),
    F32(f32),
    Table(Tab),
    VecI32(Vec<i32>),
    VecF32(Vec<f32>),
    VecI64(Vec<i64>),
    VecU8(Vec<u8>),
    VecTab(Vec<Tab>),
    Str(String),
}

/// A table: `(field slot, value)` pairs.
#[derive(Clone, Debug, Default)]
pub struct Tab(pub Vec<(usize, F)>);

impl Tab {
    pub fn with(mut self, id: usize, v: F) -> Tab {
        self.0.retain(|(i, _)| *i != id);
        self.0.push((id, v));
        self
    }
}

fn align(buf: &mut Vec<u8>, a: usize) {
    while !buf.len().is_multiple_of(a) {
        buf.push(0);
    }
}

fn patch(buf: &mut [u8], at: usize, target: usize) {
    let rel = (target - at) as u32;
    buf[at..at + 4].copy_from_slice(&rel.to_le_bytes());
}

fn write_table(buf: &mut Vec<u8>, t: &Tab) -> usize {
    align(buf, 4);
    let slots = t.0.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
    // Inline layout: soffset, then 4 bytes per field, in field order.
    let mut order: Vec<&(usize, F)> = t.0.iter().collect();
    order.sort_by_key(|(i, _)| *i);
    let table_size = 4 + 4 * order.len();
    let vt = buf.len();
    buf.extend_from_slice(&((4 + 2 * slots) as u16).to_le_bytes());
    buf.extend_from_slice(&(table_size as u16).to_le_bytes());
    let mut field_off = vec![0u16; slots];
    for (k, (i, _)) in order.iter().enumerate() {
        field_off[*i] = (4 + 4 * k) as u16;
    }
    for o in &field_off {
        buf.extend_from_slice(&o.to_le_bytes());
    }
    align(buf, 4);
    let pos = buf.len();
    buf.extend_from_slice(&((pos - vt) as i32).to_le_bytes());
    let mut pending = Vec::new();
    for (_, v) in &order {
        let at = buf.len();
        match v {
            F::U8(x) => buf.extend_from_slice(&[*x, 0, 0, 0]),
            F::I8(x) => buf.extend_from_slice(&[*x as u8, 0, 0, 0]),
            F::I32(x) => buf.extend_from_slice(&x.to_le_bytes()),
            F::U32(x) => buf.extend_from_slice(&x.to_le_bytes()),
            F::F32(x) => buf.extend_from_slice(&x.to_le_bytes()),
            other => {
                buf.extend_from_slice(&[0; 4]);
                pending.push((at, other));
            }
        }
    }
    for (at, v) in pending {
        let target = write_child(buf, v);
        patch(buf, at, target);
    }
    pos
}

fn write_child(buf: &mut Vec<u8>, v: &F) -> usize {
    match v {
        F::Table(t) => write_table(buf, t),
        F::VecI32(x) => write_vec(buf, x.len(), 4, |b| {
            x.iter().for_each(|v| b.extend_from_slice(&v.to_le_bytes()))
        }),
        F::VecF32(x) => write_vec(buf, x.len(), 4, |b| {
            x.iter().for_each(|v| b.extend_from_slice(&v.to_le_bytes()))
        }),
        F::VecI64(x) => write_vec(buf, x.len(), 8, |b| {
            x.iter().for_each(|v| b.extend_from_slice(&v.to_le_bytes()))
        }),
        F::VecU8(x) => write_vec(buf, x.len(), 16, |b| b.extend_from_slice(x)),
        F::Str(s) => {
            let p = write_vec(buf, s.len(), 4, |b| b.extend_from_slice(s.as_bytes()));
            buf.push(0);
            p
        }
        F::VecTab(ts) => {
            align(buf, 4);
            let p = buf.len();
            buf.extend_from_slice(&(ts.len() as u32).to_le_bytes());
            let slots: Vec<usize> = (0..ts.len())
                .map(|_| {
                    buf.extend_from_slice(&[0; 4]);
                    buf.len() - 4
                })
                .collect();
            for (t, at) in ts.iter().zip(slots) {
                let target = write_table(buf, t);
                patch(buf, at, target);
            }
            p
        }
        _ => unreachable!("scalars are inline"),
    }
}

fn write_vec(
    buf: &mut Vec<u8>,
    len: usize,
    elem_align: usize,
    body: impl FnOnce(&mut Vec<u8>),
) -> usize {
    // Elements aligned to `elem_align`: the length word sits just before them.
    while !(buf.len() + 4).is_multiple_of(elem_align) {
        buf.push(0);
    }
    let p = buf.len();
    buf.extend_from_slice(&(len as u32).to_le_bytes());
    body(buf);
    p
}

/// Serializes `root` with the `TFL3` identifier.
pub fn finish(root: &Tab) -> Vec<u8> {
    let mut buf = vec![0u8; 8];
    buf[4..8].copy_from_slice(b"TFL3");
    let p = write_table(&mut buf, root);
    patch(&mut buf, 0, p);
    buf
}

/// TFLite type codes.
pub const FLOAT32: i8 = 0;
pub const INT32: i8 = 2;
pub const INT8: i8 = 9;

/// A tensor of a model under construction.
#[derive(Clone, Debug)]
pub struct TensorSpec {
    pub shape: Vec<i32>,
    pub dtype: i8,
    pub data: Option<Vec<u8>>,
    /// (scales, zero points, quantized dimension)
    pub quant: Option<(Vec<f32>, Vec<i64>, i32)>,
}

impl TensorSpec {
    pub fn int8(shape: &[i32], scale: f32, zp: i64) -> TensorSpec {
        TensorSpec {
            shape: shape.to_vec(),
            dtype: INT8,
            data: None,
            quant: Some((vec![scale], vec![zp], 0)),
        }
    }
    pub fn constant(mut self, data: Vec<u8>) -> TensorSpec {
        self.data = Some(data);
        self
    }
}

/// An operator of a model under construction.
#[derive(Clone, Debug)]
pub struct OpSpec {
    pub opcode_index: u32,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub options: Option<(u8, Tab)>,
}

/// A whole single-subgraph model.
#[derive(Clone, Debug)]
pub struct ModelSpec {
    pub version: u32,
    /// (deprecated 8-bit code, 32-bit code, version)
    pub codes: Vec<(i8, i32, i32)>,
    pub tensors: Vec<TensorSpec>,
    pub ops: Vec<OpSpec>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
}

impl ModelSpec {
    /// input [1,4] int8 -> FULLY_CONNECTED (weights [3,4], bias [3]) -> output [1,3] int8.
    pub fn fully_connected() -> ModelSpec {
        let weights: Vec<u8> = (0..12).map(|i| (i as i8 - 6) as u8).collect();
        let bias: Vec<u8> = [10i32, -20, 30].iter().flat_map(|v| v.to_le_bytes()).collect();
        ModelSpec {
            version: 3,
            codes: vec![(9, 9, 1)],
            tensors: vec![
                TensorSpec::int8(&[1, 4], 0.5, -1),
                TensorSpec::int8(&[3, 4], 0.25, 0).constant(weights),
                TensorSpec {
                    shape: vec![3],
                    dtype: INT32,
                    data: Some(bias),
                    quant: Some((vec![0.125], vec![0], 0)),
                },
                TensorSpec::int8(&[1, 3], 1.0, 3),
            ],
            ops: vec![OpSpec {
                opcode_index: 0,
                inputs: vec![0, 1, 2],
                outputs: vec![3],
                options: Some((8, Tab::default().with(0, F::I8(0)))),
            }],
            inputs: vec![0],
            outputs: vec![3],
        }
    }

    pub fn to_table(&self) -> Tab {
        let mut buffers = vec![Tab::default()];
        let mut tensors = Vec::new();
        for t in &self.tensors {
            let mut tab =
                Tab::default().with(0, F::VecI32(t.shape.clone())).with(1, F::I8(t.dtype));
            if let Some(d) = &t.data {
                buffers.push(Tab::default().with(0, F::VecU8(d.clone())));
                tab = tab.with(2, F::U32(buffers.len() as u32 - 1));
            }
            if let Some((s, z, dim)) = &t.quant {
                tab = tab.with(
                    4,
                    F::Table(
                        Tab::default()
                            .with(2, F::VecF32(s.clone()))
                            .with(3, F::VecI64(z.clone()))
                            .with(6, F::I32(*dim)),
                    ),
                );
            }
            tensors.push(tab.with(3, F::Str(format!("t{}", tensors.len()))));
        }
        let ops = self
            .ops
            .iter()
            .map(|o| {
                let mut t = Tab::default()
                    .with(0, F::U32(o.opcode_index))
                    .with(1, F::VecI32(o.inputs.clone()))
                    .with(2, F::VecI32(o.outputs.clone()));
                if let Some((ty, opts)) = &o.options {
                    t = t.with(3, F::U8(*ty)).with(4, F::Table(opts.clone()));
                }
                t
            })
            .collect();
        let codes = self
            .codes
            .iter()
            .map(|&(d, b, v)| {
                Tab::default().with(0, F::I8(d)).with(2, F::I32(v)).with(3, F::I32(b))
            })
            .collect();
        let subgraph = Tab::default()
            .with(0, F::VecTab(tensors))
            .with(1, F::VecI32(self.inputs.clone()))
            .with(2, F::VecI32(self.outputs.clone()))
            .with(3, F::VecTab(ops));
        Tab::default()
            .with(0, F::U32(self.version))
            .with(1, F::VecTab(codes))
            .with(2, F::VecTab(vec![subgraph]))
            .with(4, F::VecTab(buffers))
    }

    pub fn build(&self) -> Vec<u8> {
        finish(&self.to_table())
    }
}
