//! version (being written)
