//! Executable formats: hardening facts of ELF and PE files, read from as
//! few bytes as the answer needs. Facts only; rules decide.
#![forbid(unsafe_code)]
