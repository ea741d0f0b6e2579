//! Ward agent library.
