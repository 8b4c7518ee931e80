//! reflock: the reference instance lock.
