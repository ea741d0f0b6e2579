//! ctl (being written)
