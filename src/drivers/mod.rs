//! Accelerometer drivers over embedded-hal 1.0 that implement [`Sensor`](crate::sensor::Sensor).
