//! Ward collector library.
