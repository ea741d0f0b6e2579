//! quickstart (being written)
