//! ZMTP commands (being written).
